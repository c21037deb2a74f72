"""Periods of KPIS.md: half-open intervals [start, end) of local time in settings.TIME_ZONE."""

import datetime
import zoneinfo
from dataclasses import dataclass
from functools import cached_property

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

GRANULARITIES = ("week", "month", "quarter", "year")
# The window of CLV: the twelve months ending at the period's end.
CLV_WINDOW = relativedelta(months=12)


def local_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def period_start(granularity: str, day: datetime.date) -> datetime.date:
    """First day of the period of `granularity` that contains `day` (ISO weeks start on Monday)."""
    if granularity == "week":
        return day - datetime.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "quarter":
        return day.replace(month=day.month - (day.month - 1) % 3, day=1)
    if granularity == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"Unknown granularity {granularity!r}.")


STEPS = {
    "week": relativedelta(weeks=1),
    "month": relativedelta(months=1),
    "quarter": relativedelta(months=3),
    "year": relativedelta(years=1),
}


def next_start(granularity: str, start: datetime.date) -> datetime.date:
    return start + STEPS[granularity]


def local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=local_zone())


def local_today() -> datetime.date:
    return timezone.localtime(timezone.now(), local_zone()).date()


def history_floor() -> datetime.date:
    """The first day any period is computed from: 1 January, `KPI_HISTORY_YEARS` back. Records before it still
    count where a KPI looks back; their own periods are not computed, so that one old date (or a year typed
    wrong before the models refused it) cannot make every refresh go through centuries of empty weeks."""
    return datetime.date(local_today().year - settings.KPI_HISTORY_YEARS, 1, 1)


@dataclass(frozen=True)
class Period:
    granularity: str
    start: datetime.date

    @cached_property
    def end(self) -> datetime.date:
        return next_start(self.granularity, self.start)

    @property
    def starts_at(self) -> datetime.datetime:
        return local_midnight(self.start)

    @property
    def ends_at(self) -> datetime.datetime:
        return local_midnight(self.end)

    @property
    def window_start(self) -> datetime.date:
        """Start of the CLV window W: twelve months before the period's end."""
        return self.end - CLV_WINDOW

    def under_way(self, today: datetime.date | None = None) -> bool:
        """Begun and not yet ended (local time): its counts and sums are so far, not the period's."""
        today = today or local_today()
        return self.start <= today < self.end

    def previous(self) -> "Period":
        return Period(self.granularity, period_start(self.granularity, self.start - datetime.timedelta(days=1)))

    def following(self) -> "Period":
        return Period(self.granularity, self.end)

    def label(self) -> str:
        if self.granularity == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.granularity == "month":
            return self.start.strftime("%b %Y")
        if self.granularity == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return str(self.start.year)


def period_containing(granularity: str, day: datetime.date) -> Period:
    return Period(granularity, period_start(granularity, day))


def periods_between(granularity: str, first: datetime.date, last: datetime.date) -> list[Period]:
    """Every period from the one containing `first` to the one containing `last`, both included."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"Unknown granularity {granularity!r}.")
    periods = []
    start = period_start(granularity, first)
    while start <= last:
        periods.append(Period(granularity, start))
        start = next_start(granularity, start)
    return periods


def open_periods(granularity: str, today: datetime.date | None = None) -> list[Period]:
    """The periods whose numbers still move without any record changing: the current one, and the previous one
    for `settings.KPI_CLOSING_DAYS` days after it ended (times passing still move it: an SLA falls due, a
    customer becomes inactive). Later changes to a closed period reach it through the stale marks."""
    today = today or local_today()
    current = period_containing(granularity, today)
    if (today - current.start).days < settings.KPI_CLOSING_DAYS:
        return [current.previous(), current]
    return [current]
