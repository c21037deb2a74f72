"""The SQL every KPI is built from: period buckets in local time, segments, medians.

KPIs are written as plain SQL with a few dialect helpers, so that PostgreSQL (production)
and SQLite (try-it-now) compute the same numbers. Periods come in as a `periods` CTE
(p = local start as the bucket expression returns it, s/e = the instants of start and end,
w = the instant the CLV window starts); a row joins its period on `periods.p = bucket(col)`
(a hash join on one scan), and compares exact instants with `periods.s` / `periods.e`.
All literals in the SQL are generated here from dates and names we control.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection

from kpis.periods import Period, local_midnight

NONE_LABEL = "(none)"
ALL = "all"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Segment:
    """How one subject (a contact, a deal, a ticket ...) is labelled along one dimension."""

    expression: str
    joins: str = ""


# Subjects: the alias of the table a KPI counts, and how each dimension labels it.
def contact_segments(alias: str) -> dict[str, Segment]:
    return {
        "channel": Segment("sg_ch.name", f"LEFT JOIN contacts_channel sg_ch ON sg_ch.id = {alias}.channel_id"),
        "region": Segment(f"NULLIF({alias}.region, '')"),
        "industry": Segment(
            f"COALESCE(NULLIF({alias}.industry, ''), NULLIF(sg_co.industry, ''))",
            f"LEFT JOIN contacts_company sg_co ON sg_co.id = {alias}.company_id",
        ),
        "owner": Segment("sg_ow.username", f"LEFT JOIN auth_user sg_ow ON sg_ow.id = {alias}.owner_id"),
    }


def deal_segments(alias: str) -> dict[str, Segment]:
    return {
        "channel": Segment("sg_ch.name", f"LEFT JOIN contacts_channel sg_ch ON sg_ch.id = {alias}.channel_id"),
        "owner": Segment("sg_ow.username", f"LEFT JOIN auth_user sg_ow ON sg_ow.id = {alias}.owner_id"),
        "pipeline": Segment("sg_pl.name", f"LEFT JOIN sales_pipeline sg_pl ON sg_pl.id = {alias}.pipeline_id"),
        "kind": Segment(f"{alias}.kind"),
    }


def lead_segments(alias: str) -> dict[str, Segment]:
    return {
        "channel": Segment("sg_ch.name", f"LEFT JOIN contacts_channel sg_ch ON sg_ch.id = {alias}.channel_id"),
        "campaign": Segment("sg_cp.name", f"LEFT JOIN sales_campaign sg_cp ON sg_cp.id = {alias}.campaign_id"),
        "owner": Segment("sg_ow.username", f"LEFT JOIN auth_user sg_ow ON sg_ow.id = {alias}.owner_id"),
    }


def ticket_segments(alias: str) -> dict[str, Segment]:
    return {
        "channel": Segment(f"{alias}.channel"),
        "priority": Segment(f"{alias}.priority"),
        "assignee": Segment("sg_as.username", f"LEFT JOIN auth_user sg_as ON sg_as.id = {alias}.assignee_id"),
    }


@dataclass
class Query:
    """One computation: a granularity, its periods, one dimension; runs SQL and memoises shared parts."""

    granularity: str
    periods: list[Period]
    dimension: str = ALL
    time_zone: str = "UTC"
    now: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    memo: dict = field(default_factory=dict)
    queries: int = 0

    @property
    def vendor(self) -> str:
        return connection.vendor

    @property
    def range_start(self) -> datetime.datetime:
        return self.periods[0].starts_at

    @property
    def range_end(self) -> datetime.datetime:
        return self.periods[-1].ends_at

    # --- literals -------------------------------------------------------------------------
    def instant(self, moment: datetime.datetime) -> str:
        """An aware datetime as a literal comparable with a datetime column."""
        utc = moment.astimezone(datetime.UTC)
        if self.vendor == "postgresql":
            return f"CAST('{utc.isoformat()}' AS timestamptz)"
        return f"'{utc.strftime('%Y-%m-%d %H:%M:%S')}'"

    def day(self, day: datetime.date) -> str:
        """A date as a literal comparable with a date column."""
        if self.vendor == "postgresql":
            return f"CAST('{day.isoformat()}' AS date)"
        return f"'{day.isoformat()}'"

    def bucket_literal(self, day: datetime.date) -> str:
        if self.vendor == "postgresql":
            return f"CAST('{day.isoformat()} 00:00:00' AS timestamp)"
        return f"'{day.isoformat()} 00:00:00'"

    # --- expressions ----------------------------------------------------------------------
    def bucket(self, column: str, granularity: str | None = None) -> str:
        """Local start of the period containing a datetime column."""
        kind = _quote(granularity or self.granularity)
        if self.vendor == "postgresql":
            return f"DATE_TRUNC({kind}, {column} AT TIME ZONE {_quote(self.time_zone)})"
        return f"django_datetime_trunc({kind}, {column}, {_quote(self.time_zone)}, {_quote(connection.timezone_name)})"

    def bucket_date(self, column: str) -> str:
        """Start of the period containing a date column (dates are local already)."""
        kind = _quote(self.granularity)
        if self.vendor == "postgresql":
            return f"DATE_TRUNC({kind}, CAST({column} AS timestamp))"
        return f"(django_date_trunc({kind}, {column}, NULL, NULL) || ' 00:00:00')"

    def local_day(self, column: str) -> str:
        """Local date of a datetime column, as text 'YYYY-MM-DD'."""
        if self.vendor == "postgresql":
            return f"CAST(CAST({column} AT TIME ZONE {_quote(self.time_zone)} AS date) AS text)"
        return f"django_datetime_cast_date({column}, {_quote(self.time_zone)}, {_quote(connection.timezone_name)})"

    def days_later(self, local_day: str, days: int) -> str:
        """A local date as `local_day` gives it, moved by a number of days (text 'YYYY-MM-DD' again)."""
        if self.vendor == "postgresql":
            return f"CAST(CAST({local_day} AS date) + {int(days)} AS text)"
        return f"date({local_day}, '{int(days):+d} days')"

    def at_local_midnight(self, column: str) -> str:
        """True when a datetime column is exactly a local midnight (a period boundary)."""
        if self.vendor == "postgresql":
            return f"(CAST({column} AT TIME ZONE {_quote(self.time_zone)} AS time) = TIME '00:00:00')"
        tz = f"{_quote(self.time_zone)}, {_quote(connection.timezone_name)}"
        return f"(django_datetime_cast_time({column}, {tz}) = '00:00:00')"

    def hours_between(self, start: str, end: str) -> str:
        if self.vendor == "postgresql":
            return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"
        return f"((julianday({end}) - julianday({start})) * 24.0)"

    def days_between(self, start: str, end: str) -> str:
        if self.vendor == "postgresql":
            return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"
        return f"(julianday({end}) - julianday({start}))"

    def in_range(self, column: str) -> str:
        """Index-friendly filter: the column falls inside the whole range of periods."""
        return f"{column} >= {self.instant(self.range_start)} AND {column} < {self.instant(self.range_end)}"

    def in_date_range(self, column: str) -> str:
        return f"{column} >= {self.day(self.periods[0].start)} AND {column} < {self.day(self.periods[-1].end)}"

    def periods_cte(self) -> str:
        rows = ", ".join(
            f"({self.bucket_literal(period.start)}, {self.instant(period.starts_at)}, "
            f"{self.instant(period.ends_at)}, {self.instant(local_midnight(period.window_start))}, "
            f"{self.day(period.start)}, {self.day(period.end)}, {self.day(period.window_start)})"
            for period in self.periods
        )
        # p: bucket; s, e: start and end instants; w: CLV window start; sd, ed, wd: the same as dates.
        return f"periods(p, s, e, w, sd, ed, wd) AS (VALUES {rows})"

    def window_range(self, column: str) -> str:
        """Index-friendly filter: the column falls inside some period's CLV window."""
        first = local_midnight(self.periods[0].window_start)
        return f"{column} >= {self.instant(first)} AND {column} < {self.instant(self.range_end)}"

    def segment(self, segments: dict[str, Segment]) -> Segment:
        if self.dimension == ALL:
            return Segment(_quote(ALL))
        return segments[self.dimension]

    # --- running ------------------------------------------------------------------------
    def fetch(self, sql: str) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            self.queries += 1
            return cursor.fetchall()

    def aggregate(self, sql: str, *names: str) -> dict:
        """Run `sql` (a SELECT of p, seg and one column per name, over the periods CTE) as
        {(period start, segment): {name: value}}."""
        rows = keyed(self.fetch(f"WITH {self.periods_cte()}\n{sql}"))
        return {key: dict(zip(names, values, strict=True)) for key, values in rows.items()}

    def median(self, rows_sql: str) -> str:
        """Per (p, seg): median, mean and count of x, from a query giving columns p, seg, x."""
        if self.vendor == "postgresql":
            return (
                "SELECT p, seg, percentile_cont(0.5) WITHIN GROUP (ORDER BY x), AVG(x), COUNT(*) "
                f"FROM ({rows_sql}) rows_ GROUP BY p, seg"
            )
        # SQLite has no percentile function: the mean of the one or two middle values.
        return (
            "SELECT p, seg, AVG(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN x END), AVG(x), COUNT(*) "
            "FROM (SELECT p, seg, x, ROW_NUMBER() OVER (PARTITION BY p, seg ORDER BY x) AS rn, "
            f"COUNT(*) OVER (PARTITION BY p, seg) AS n FROM ({rows_sql}) rows_) ranked_ GROUP BY p, seg"
        )

    def shared(self, name: str, compute):
        """Compute a part several KPIs use (customer counts ...) once per granularity and dimension."""
        key = (name, self.granularity, self.dimension, self.periods[0].start, self.periods[-1].start)
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


def bucket_day(value) -> datetime.date:
    """The period start a bucket expression returned (a datetime on PostgreSQL, text on SQLite)."""
    return datetime.date.fromisoformat(str(value)[:10])


def label(value) -> str:
    return NONE_LABEL if value is None or value == "" else str(value)


def keyed(rows: Iterable[tuple]) -> dict[tuple[datetime.date, str], tuple]:
    """Rows of (p, seg, *values) as {(period start, segment label): values}."""
    return {(bucket_day(row[0]), label(row[1])): tuple(row[2:]) for row in rows}


def campaign_segments(alias: str) -> dict[str, Segment]:
    return {
        "campaign": Segment(f"{alias}.name"),
        "channel": Segment("sg_ch.name", f"LEFT JOIN contacts_channel sg_ch ON sg_ch.id = {alias}.channel_id"),
    }


def survey_segments(alias: str) -> dict[str, Segment]:
    return {"survey": Segment(f"{alias}.name")}
