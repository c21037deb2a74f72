"""Validators the apps' models share."""

import datetime

from django.core.exceptions import ValidationError

# The years a record's date may fall in. A year typed wrong (0001, 3026, 9999) is refused with a message
# rather than stored, where it would sit on top of every "latest" list and stretch the KPI history.
FIRST_YEAR = 1900
LAST_YEAR = 2100


def plausible_year(value) -> bool:
    """Whether a date or time falls within the years FIRST_YEAR to LAST_YEAR; an aware time in UTC, as the
    database keeps it (1900-01-01T00:00+05:00 is 1899 there), so that every way in says the same."""
    # Only at the ends can the offset change the year (and far from them UTC might not be a year Python has).
    if isinstance(value, datetime.datetime) and value.tzinfo is not None and value.year in (FIRST_YEAR, LAST_YEAR):
        value = value.astimezone(datetime.UTC)
    return FIRST_YEAR <= value.year <= LAST_YEAR


def plausible_date(value) -> None:
    """A date or time of a record: within the years FIRST_YEAR to LAST_YEAR."""
    if value is not None and not plausible_year(value):
        raise ValidationError(
            "Enter a date between the years %(first)s and %(last)s.",
            code="implausible_date",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )
