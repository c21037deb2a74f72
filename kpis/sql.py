"""The SQL every KPI is built from: period buckets in local time, segments, medians.

KPIs are written as plain SQL with a few dialect helpers, so that PostgreSQL (production)
and SQLite (try-it-now) compute the same numbers. Periods come in as a `periods` CTE
(p = local start as the bucket expression returns it, s/e = the instants of start and end,
w = the instant the CLV window starts); a row joins its period on `periods.p = bucket(col)`
(a hash join on one scan), and compares exact instants with `periods.s` / `periods.e`.
All literals in the SQL are generated here from dates and names we control.
"""

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection

from kpis.periods import Period, local_midnight

NONE_LABEL = "(none)"
ALL = "all"
# Between a dimension and a segment label in the one `seg` column of a query labelled along every dimension.
SEPARATOR = "\x1f"
# Where a per-day part's SQL names its range of days (`Query.in_days`, `Query.in_dates`, `Query.fill_days`).
DAY_FIRST, DAY_END, DATE_FIRST, DATE_END = "__DAY_FIRST__", "__DAY_END__", "__DATE_FIRST__", "__DATE_END__"
# Where the parts over all history start (`Query.history_rows`): before any record a CRM holds.
HISTORY_FIRST_DAY = datetime.date(1900, 1, 1)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Segment:
    """How one subject (a contact, a deal, a ticket ...) is labelled along one dimension."""

    expression: str
    joins: str = ""


@dataclass(frozen=True)
class Labels:
    """How the rows of one scan are labelled along several dimensions at once (`all` included).

    `select` is one column, `dimension SEPARATOR label`, and `group_by(keys)` groups by the keys and each
    dimension: on PostgreSQL one scan answers every dimension through GROUPING SETS; elsewhere a Labels
    holds one dimension. `columns` and `outer` label inner rows and group them in an outer query."""

    expressions: dict[str, str]
    joins: str = ""

    def _label(self, dimension: str, expression: str) -> str:
        if dimension == ALL:
            return _quote(ALL + SEPARATOR + ALL)
        return f"{_quote(dimension + SEPARATOR)} || COALESCE(CAST({expression} AS TEXT), '')"

    def _grouped(self) -> dict[str, str]:
        return {dimension: expression for dimension, expression in self.expressions.items() if dimension != ALL}

    def select(self) -> str:
        if len(self.expressions) == 1:
            return self._label(*next(iter(self.expressions.items())))
        grouped = self._grouped()
        everything = (1 << len(grouped)) - 1
        # GROUPING(...) has a bit set, first argument highest, for each expression its grouping set leaves out.
        masks = {dimension: everything ^ (1 << (len(grouped) - 1 - index)) for index, dimension in enumerate(grouped)}
        masks[ALL] = everything
        cases = " ".join(
            f"WHEN {masks[dimension]} THEN {self._label(dimension, expression)}"
            for dimension, expression in self.expressions.items()
        )
        return f"CASE GROUPING({', '.join(grouped.values())}) {cases} END"

    def group_by(self, *keys: str) -> str:
        grouped = self._grouped()
        if len(self.expressions) == 1:
            return ", ".join([*keys, *grouped.values()])
        sets = [f"({', '.join([*keys, expression])})" for expression in grouped.values()]
        if ALL in self.expressions:
            sets.insert(0, f"({', '.join(keys)})")
        return f"GROUPING SETS ({', '.join(sets)})"

    def columns(self) -> str:
        """The label of each dimension as its own column of inner rows (`sg_0`, `sg_1` ...)."""
        return ", ".join(f"{expression} AS sg_{index}" for index, expression in enumerate(self.expressions.values()))

    def outer(self) -> "Labels":
        """The same dimensions over the columns `columns` gave the inner rows."""
        return Labels({dimension: f"sg_{index}" for index, dimension in enumerate(self.expressions)})


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
        # date_part gives double precision, which percentile_cont takes anyway; EXTRACT gives numeric, whose
        # division, cast and average cost a third of a median over a year of tickets. The same values to far
        # below the eight decimals a snapshot keeps.
        if self.vendor == "postgresql":
            return f"(date_part('epoch', {end} - {start}) / 3600.0)"
        return f"((julianday({end}) - julianday({start})) * 24.0)"

    def days_between(self, start: str, end: str) -> str:
        if self.vendor == "postgresql":
            return f"(date_part('epoch', {end} - {start}) / 86400.0)"
        return f"(julianday({end}) - julianday({start}))"

    def in_range(self, column: str) -> str:
        """Index-friendly filter: the column falls inside the whole range of periods."""
        return f"{column} >= {self.instant(self.range_start)} AND {column} < {self.instant(self.range_end)}"

    @property
    def day_range(self) -> tuple[datetime.date, datetime.date]:
        """The local days [first, end) that per-day parts cover: those of every granularity of the refresh (set
        in the memo by the refresh, so that one scan serves them all), else this query's."""
        return self.memo.get("day_range") or (self.periods[0].start, self.periods[-1].end)

    def in_days(self, column: str) -> str:
        """For per-day parts (`daily`): the datetime column falls on a local day of the part's range of days,
        which `daily` fills in (__DAY_FIRST__ and __DAY_END__ are the local midnights starting and ending it)."""
        return f"{column} >= {DAY_FIRST} AND {column} < {DAY_END}"

    def in_dates(self, column: str) -> str:
        """For per-day parts (`daily`): the date column falls on a day of the part's range of days."""
        return f"{column} >= {DATE_FIRST} AND {column} < {DATE_END}"

    def from_first_day(self, column: str) -> str:
        """For parts over all history (`history_rows`): the datetime column is not empty and falls on or after
        the part's first day (`HISTORY_FIRST_DAY`, or the first its kept days do not cover)."""
        return f"{column} >= {DAY_FIRST}"

    def fill_days(self, template: str, first: datetime.date, end: datetime.date) -> str:
        """A per-day part's SQL over the local days [first, end)."""
        return (
            template.replace(DAY_FIRST, self.instant(local_midnight(first)))
            .replace(DAY_END, self.instant(local_midnight(end)))
            .replace(DATE_FIRST, self.day(first))
            .replace(DATE_END, self.day(end))
        )

    def daily(
        self, sql: str, *names: str, keys: int = 0, first: datetime.date | None = None, keep: bool = True
    ) -> dict:
        """Additive parts, summed per local day once for every granularity and dimension, then rolled up to
        this query's periods: `sql` gives the day, a `Labels.select`, `keys` more key columns, then one
        column per name, over the part's days (`in_days`, `in_dates`: `first`, else the first of `day_range`,
        to the end of `day_range`). Returns {(period start, segment, *keys): {name: sum}} for this query's
        dimension. See `daily_rows` for `keep`."""
        key = ("daily", sql, self.granularity, self.dimension, self.periods[0].start, self.periods[-1].start)
        if key in self.memo:
            return self.memo[key]
        period_of = self._period_of_day()
        totals: dict = {}
        for day, segment, *rest in self.daily_rows(sql, first=first, keep=keep):
            start = period_of.get(day)
            if start is None:
                continue
            sums = totals.setdefault((start, segment, *rest[:keys]), [0] * len(names))
            for index, value in enumerate(rest[keys:]):
                if value is not None:
                    sums[index] += value
        self.memo[key] = {key: dict(zip(names, sums, strict=True)) for key, sums in totals.items()}
        return self.memo[key]

    def daily_rows(self, sql: str, *, first: datetime.date | None = None, keep: bool = True) -> list[tuple]:
        """This dimension's rows of a per-day part with days as dates and segments as labels, read once.

        In a refresh that keeps per-day rows (`kpis.rollups.DailyStore` in the memo), the days no record
        changed since the last refresh come from what it kept; `keep=False` for a part whose rows of a day
        depend on more than that day's records (the refresh's instant, records of other days)."""
        key = ("daily_rows", sql, self.dimension)
        if key not in self.memo:
            self.memo[key] = [
                (datetime.date.fromisoformat(str(day)[:10]), label(segment), *rest)
                for day, segment, *rest in self._split_days(sql, first or self.day_range[0], keep)
            ]
        return self.memo[key]

    def history_rows(self, sql: str) -> list[tuple]:
        """This dimension's rows (day, label, *values) of a per-day part over all history, such as customers
        joining and leaving per day (`from_first_day`), once for every granularity (and dimension, whose rows
        are dropped once read). Like `daily_rows`, the settled days may come from what a refresh kept; days
        after the end of `day_range` may be given too."""
        return self._split_days(sql, HISTORY_FIRST_DAY, keep=True, once=True)

    def _split_days(self, template: str, first: datetime.date, keep: bool, once: bool = False) -> list[tuple]:
        """`split` for a per-day part: its rows over [first, end of `day_range`), from the records or partly
        from the refresh's store of per-day rows."""

        def rows() -> list[tuple]:
            end = self.day_range[1]
            store = self.memo.get("store")
            if store is None or not keep:
                return self.fetch(self.fill_days(template, first, end))
            return store.rows(self, template, first, end)

        return self._split(template, rows, once)

    def _period_of_day(self) -> dict[datetime.date, datetime.date]:
        """Every day of this query's periods -> the start of its period."""
        key = ("period_of_day", self.granularity, self.periods[0].start, self.periods[-1].start)
        if key not in self.memo:
            days = {}
            for period in self.periods:
                day = period.start
                while day < period.end:
                    days[day] = period.start
                    day += datetime.timedelta(days=1)
            self.memo[key] = days
        return self.memo[key]

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

    # --- every granularity at once -----------------------------------------------------------
    @property
    def granularities(self) -> dict[str, list[Period]]:
        """The periods of every granularity of the refresh (set in the memo as "ranges"), else this query's: the
        parts written with `across` read their rows once and group them by every granularity."""
        return self.memo.get("ranges") or {self.granularity: self.periods}

    def days_end(self) -> str:
        """The instant `day_range` ends, a literal."""
        return self.instant(local_midnight(self.day_range[1]))

    def granularities_cte(self) -> str:
        """`periods` with every granularity's periods, and a column g naming the granularity."""
        rows = ", ".join(
            f"({_quote(granularity)}, {self.bucket_literal(period.start)}, {self.instant(period.starts_at)}, "
            f"{self.instant(period.ends_at)}, {self.instant(local_midnight(period.window_start))}, "
            f"{self.day(period.start)}, {self.day(period.end)}, {self.day(period.window_start)})"
            for granularity, periods in self.granularities.items()
            for period in periods
        )
        return f"periods(g, p, s, e, w, sd, ed, wd) AS (VALUES {rows})"

    def each_granularity(self, column: str, select: str) -> str:
        """`select` once per granularity, UNION ALL: in it, __G__ is the granularity (a literal), __BUCKET__ the
        local start of its period containing the datetime `column`, and __IN_RANGE__ the filter to its periods.
        What follows (joins to contacts, the shared subqueries, the grouping) then runs once for them all."""
        parts = []
        for granularity, periods in self.granularities.items():
            in_range = (
                f"{column} >= {self.instant(periods[0].starts_at)} AND {column} < {self.instant(periods[-1].ends_at)}"
            )
            parts.append(
                select.replace("__G__", _quote(granularity))
                .replace("__BUCKET__", self.bucket(column, granularity))
                .replace("__IN_RANGE__", in_range)
            )
        return "\nUNION ALL\n".join(parts)

    def medians_across(self, column: str, select: str, labels: Labels) -> dict:
        """Median, mean and count of x per period of every granularity and segment, from one read of the rows:
        `select` gives __G__ AS g, __BUCKET__ AS b, `labels.columns()` and x, filtered by __IN_RANGE__ (see
        `each_granularity`, whose datetime `column` decides the period). Returns this query's granularity and
        dimension as {(period start, segment): {"median", "mean", "n"}}."""
        columns = ", ".join(f"rows_in.{name}" for name in labels.outer().expressions.values())
        rows = f"""
            SELECT periods.g AS g, periods.p AS p, {columns}, rows_in.x FROM ({self.each_granularity(column, select)})
            rows_in JOIN periods ON periods.g = rows_in.g AND periods.p = rows_in.b
        """
        return self.across(self.median(rows, labels, keys=("g", "p")), "median", "mean", "n")

    def across(self, sql: str, *names: str) -> dict:
        """`aggregate` for every granularity at once: `sql` SELECTs periods.g, periods.p, a `Labels.select` and
        one column per name, over `granularities_cte`; it runs once per refresh. Returns this query's
        granularity and dimension as {(period start, segment): {name: value}}."""
        key = ("across", sql)
        if key not in self.memo:
            by_granularity: dict[tuple[str, str], dict] = {}
            for granularity, start, seg, *values in self.fetch(f"WITH {self.granularities_cte()}\n{sql}"):
                dimension, segment = seg.split(SEPARATOR, 1)
                rows = by_granularity.setdefault((granularity, dimension), {})
                rows[(bucket_day(start), label(segment))] = dict(zip(names, values, strict=True))
            self.memo[key] = by_granularity
        return self.memo[key].get((self.granularity, self.dimension), {})

    def window_range(self, column: str) -> str:
        """Index-friendly filter: the column falls inside some period's CLV window."""
        first = local_midnight(self.periods[0].window_start)
        return f"{column} >= {self.instant(first)} AND {column} < {self.instant(self.range_end)}"

    def segment(self, segments: dict[str, Segment]) -> Segment:
        if self.dimension == ALL:
            return Segment(_quote(ALL))
        return segments[self.dimension]

    def labels(self, segments: dict[str, Segment]) -> Labels:
        """Every dimension of `segments` and `all` at once on PostgreSQL (read back with `split`); this
        query's dimension only elsewhere."""
        chosen = {ALL: Segment(_quote(ALL)), **segments}
        if self.vendor != "postgresql":
            chosen = {self.dimension: chosen[self.dimension]}
        elif "dimensions" in self.memo:  # a refresh of some dimensions only
            chosen = {
                dimension: segment for dimension, segment in chosen.items() if dimension in self.memo["dimensions"]
            }
        joins = "\n".join(dict.fromkeys(segment.joins for segment in chosen.values() if segment.joins))
        return Labels({dimension: segment.expression for dimension, segment in chosen.items()}, joins)

    # --- running ------------------------------------------------------------------------
    def fetch(self, sql: str) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            self.queries += 1
            return cursor.fetchall()

    def stream(self, sql: str) -> Iterator[tuple]:
        """The rows of `sql` one at a time, never all of them as Python objects at once."""
        with connection.cursor() as cursor:
            cursor.execute(sql)
            self.queries += 1
            yield from cursor

    def split(self, sql: str, *, once: bool = False) -> list[tuple]:
        """This query's dimension of the rows of `sql`, whose second column is a `Labels.select`, with that
        column turned into the segment label. The query runs once for every dimension (and granularity, when
        its text is the same): later calls read the memo; `once` drops a dimension's rows once read."""
        return self._split(sql, lambda: self.fetch(sql), once)

    def _split(self, sql: str, rows: Callable[[], list[tuple]], once: bool) -> list[tuple]:
        """`split` of the rows `rows()` gives for `sql`, called once."""
        key = ("split", sql)
        if key not in self.memo:
            by_dimension: dict[str, list[tuple]] = {}
            for row in rows():
                dimension, segment = row[1].split(SEPARATOR, 1)
                by_dimension.setdefault(dimension, []).append((row[0], segment, *row[2:]))
            self.memo[key] = by_dimension
        if once:
            return self.memo[key].pop(self.dimension, [])
        return self.memo[key].get(self.dimension, [])

    def split_columns(self, sql: str, labels: Labels) -> list[tuple]:
        """This query's dimension of the rows of `sql`, whose last columns are `labels.columns()`: each row
        with those columns replaced by this dimension's label. Runs once for every dimension."""
        key = ("split_columns", sql)
        if key not in self.memo:
            self.memo[key] = self.fetch(sql)
        index = list(labels.expressions).index(self.dimension) - len(labels.expressions)
        return [(*row[: -len(labels.expressions)], row[index]) for row in self.memo[key]]

    def aggregate(self, sql: str, *names: str) -> dict:
        """Run `sql` (a SELECT of p, a `Labels.select` and one column per name, over the periods CTE) as
        {(period start, segment): {name: value}} for this query's dimension."""
        rows = keyed(self.split(f"WITH {self.periods_cte()}\n{sql}"))
        return {key: dict(zip(names, values, strict=True)) for key, values in rows.items()}

    def median(self, rows_sql: str, labels: Labels, keys: tuple[str, ...] = ("p",)) -> str:
        """Per keys (p; or g, p for `across`) and label: median, mean and count of x, from rows giving the keys,
        `labels.columns()` and x."""
        outer = labels.outer()
        by = ", ".join(keys)
        if self.vendor == "postgresql":
            return (
                f"SELECT {by}, {outer.select()}, percentile_cont(0.5) WITHIN GROUP (ORDER BY x), AVG(x), COUNT(*) "
                f"FROM ({rows_sql}) rows_ GROUP BY {outer.group_by(*keys)}"
            )
        # SQLite has no percentile function: the mean of the one or two middle values.
        (column,) = outer.expressions.values()
        return (
            f"SELECT {by}, {outer.select()}, AVG(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN x END), AVG(x), "
            f"COUNT(*) FROM (SELECT {by}, {column}, x, "
            f"ROW_NUMBER() OVER (PARTITION BY {by}, {column} ORDER BY x) AS rn, "
            f"COUNT(*) OVER (PARTITION BY {by}, {column}) AS n FROM ({rows_sql}) rows_) ranked_ "
            f"GROUP BY {outer.group_by(*keys)}"
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
