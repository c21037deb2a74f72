"""SLA deadlines: calendar hours by default, or business hours from settings.

settings.SUPPORT_BUSINESS_HOURS is "" (calendar hours, round the clock) or a weekly
schedule such as "mon-fri 09:00-17:00", read in settings.SUPPORT_TIME_ZONE.
"""

import datetime
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCHEDULE = re.compile(r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)$")


@dataclass(frozen=True)
class BusinessHours:
    weekdays: frozenset[int]  # Monday is 0
    opens: datetime.time
    closes: datetime.time
    time_zone: zoneinfo.ZoneInfo

    @classmethod
    def parse(cls, text: str, time_zone: str) -> "BusinessHours":
        match = SCHEDULE.match(text.strip().lower())
        if not match or match["first"] not in DAYS or (match["last"] and match["last"] not in DAYS):
            raise ImproperlyConfigured(f"SUPPORT_BUSINESS_HOURS must look like 'mon-fri 09:00-17:00', not {text!r}.")
        first = DAYS.index(match["first"])
        last = DAYS.index(match["last"] or match["first"])
        opens = datetime.time.fromisoformat(match["start"])
        closes = datetime.time.fromisoformat(match["end"])
        if closes <= opens or last < first:
            raise ImproperlyConfigured(f"SUPPORT_BUSINESS_HOURS {text!r}: the day must end after it starts.")
        return cls(frozenset(range(first, last + 1)), opens, closes, zoneinfo.ZoneInfo(time_zone))


def business_hours() -> BusinessHours | None:
    schedule = getattr(settings, "SUPPORT_BUSINESS_HOURS", "")
    if not schedule:
        return None
    return BusinessHours.parse(schedule, getattr(settings, "SUPPORT_TIME_ZONE", settings.TIME_ZONE))


def add_hours(
    start: datetime.datetime, hours: Decimal | float, hours_of_business: BusinessHours | None
) -> datetime.datetime:
    """The instant `hours` of working time after `start` (plain hours without a schedule)."""
    remaining = datetime.timedelta(hours=float(hours))
    if hours_of_business is None:
        return start + remaining
    local = start.astimezone(hours_of_business.time_zone)
    day = local.date()
    for _ in range(3660):  # ten years of days: a bound, never reached for real targets
        if day.weekday() in hours_of_business.weekdays:
            opens = datetime.datetime.combine(day, hours_of_business.opens, hours_of_business.time_zone)
            closes = datetime.datetime.combine(day, hours_of_business.closes, hours_of_business.time_zone)
            begin = max(opens, local)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(datetime.UTC)
                remaining -= available
        day += datetime.timedelta(days=1)
    raise ValueError("SLA target too far in the future")
