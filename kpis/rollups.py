"""The per-day rows of the KPIs' additive parts, kept between refreshes.

Revenue per local day and segment, tickets resolved per day, leads created per day ... (`Query.daily`) are
sums over the records of one day. A refresh keeps them (`KpiDailyPart`), so that
the periodic refresh reads the days no record changed since from there, and from the records only the days
that may have changed: those from the earliest stale mark on, and the last `KPI_SETTLED_DAYS` whatever the
marks say. The rest of each KPI (medians, distinct customers, CLV's islands) still reads the records.

Stale marks (`kpis.stale`) are what make the kept days trustworthy: every write marks the instants it
changed, and a change to what labels other records (a contact's region, a channel's name) marks all
history. The nightly full refresh recomputes every day from the records and keeps them anew.

Each part is one row (its days as JSON): reading and keeping it costs the same few queries whatever the
number of days. A part is known by its SQL with its range of days left out (`Query.fill_days`), so that a
change to a KPI's SQL, its dimensions or the time zone starts a new part instead of reading rows of another
meaning.
"""

import datetime
import hashlib
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from kpis.models import KpiDailyPart
from kpis.sql import DATE_FIRST, DAY_FIRST

UNUSED_DAYS = 7  # parts no refresh read for this long are dropped by the full refresh


class DailyStore:
    """Per-day rows for one refresh: `reuse_before` is the first day it must read from the records (None: read
    every day from the records); `as_of` an instant before the refresh read any record."""

    def __init__(self, *, reuse_before: datetime.date | None, as_of: datetime.datetime):
        self.reuse_before = reuse_before
        self.as_of = as_of

    def rows(self, query, template: str, first: datetime.date, end: datetime.date) -> list[tuple]:
        """The part's rows (day, label, *values) over the local days [first, end), as its SQL would give them:
        the kept ones for the settled days, the records' for the others, which are kept in turn. A fixed
        number of queries, whatever the number of days."""
        if DAY_FIRST not in template and DATE_FIRST not in template:
            raise ValueError("A per-day part's SQL must filter its days with Query.in_days or Query.in_dates.")
        part = hashlib.sha256(template.encode()).hexdigest()
        with transaction.atomic():
            _lock(part)
            # Its days only when some are read or kept on (a full refresh replaces them: no need to hold both).
            kept = KpiDailyPart.objects.filter(part=part).defer("days").first()
            reuse_end = first
            if kept is not None and self.reuse_before is not None and kept.first_day <= first:
                reuse_end = max(first, min(kept.end_day, self.reuse_before, end))
            fresh = query.fetch(query.fill_days(template, reuse_end, end)) if reuse_end < end else []
            reused = _rows(kept.days, first, reuse_end) if reuse_end > first else []
            self._keep(part, kept, fresh, reuse_end, end)
        return reused + fresh

    def _keep(self, part: str, kept: KpiDailyPart | None, rows: list[tuple], first, end) -> None:
        """Keep the rows of [first, end) just read from the records, after the kept days before `first` when
        they join up; unless a refresh that read the records later has kept its rows already."""
        if kept is not None and kept.as_of > self.as_of:
            return
        days: dict[str, list] = {}
        first_day = first
        if kept is not None and kept.first_day < first <= kept.end_day:
            first_day, cut = kept.first_day, first.isoformat()
            days = {day: day_rows for day, day_rows in kept.days.items() if day < cut}
        for day, label, *values in rows:
            days.setdefault(_day(day).isoformat(), []).append([label, *map(_encode, values)])
        # Replaced rather than updated: the same queries whether the part was kept before or not.
        KpiDailyPart.objects.filter(part=part).delete()
        KpiDailyPart.objects.create(
            part=part, first_day=first_day, end_day=end, days=days, as_of=self.as_of, used_at=timezone.now()
        )


def prune() -> int:
    """Drop the parts no refresh read for `UNUSED_DAYS` (a KPI's SQL changed, a refresh of some dimensions)."""
    unused = KpiDailyPart.objects.filter(used_at__lt=timezone.now() - datetime.timedelta(days=UNUSED_DAYS))
    return unused.delete()[0]


def _lock(part: str) -> None:
    """One refresh at a time reads and keeps a part (PostgreSQL; SQLite writes one at a time anyway)."""
    if connection.vendor == "postgresql":
        digest = hashlib.blake2b(f"crm:kpis-part:{part}".encode(), digest_size=8).digest()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])


def _rows(days: dict[str, list], first: datetime.date, end: datetime.date) -> list[tuple]:
    """The kept rows of the days [first, end)."""
    first_text, end_text = first.isoformat(), end.isoformat()
    return [
        (day, label, *map(_decode, values))
        for day, day_rows in days.items()
        if first_text <= day < end_text
        for label, *values in day_rows
    ]


def _day(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])


def _encode(value):
    """JSON keeps numbers and text; a Decimal (a sum of money) goes as its exact text."""
    return {"d": str(value)} if isinstance(value, Decimal) else value


def _decode(value):
    return Decimal(value["d"]) if isinstance(value, dict) else value
