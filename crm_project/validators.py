"""Validators the apps' models share."""

from django.core.exceptions import ValidationError

# The years a record's date may fall in. A year typed wrong (0001, 3026, 9999) is refused with a message
# rather than stored, where it would sit on top of every "latest" list and stretch the KPI history.
FIRST_YEAR = 1900
LAST_YEAR = 2100


def plausible_date(value) -> None:
    """A date or time of a record: within the years FIRST_YEAR to LAST_YEAR."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(
            "Enter a date between the years %(first)s and %(last)s.",
            code="implausible_date",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )
