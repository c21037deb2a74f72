"""Typed column parsers of the CSV import: one cell in, one Python value out, or a CellError with the reason.

A parser sees the cell already stripped and never empty (an empty cell is the parser's `empty` value, or
an error when the column is required). Parsers are pure and fast (100,000 rows of a dozen columns go
through them in well under a second). References are resolved a batch of rows at a time: their parser
only reads the key, and `resolve` turns the keys of a batch into ids with one query.
"""

import datetime
import re
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db.models import Model, TextChoices
from django.db.models.functions import Lower
from django.utils import timezone

from crm_project.exports import made_here
from crm_project.validators import FIRST_YEAR, LAST_YEAR, plausible_year


class CellError(ValueError):
    """A cell that cannot be read; the message is the reason shown to the user."""


class Parser:
    empty: object = None  # the value of an empty cell in an optional column
    hint = ""  # the expected format, for the format reference and messages

    def parse(self, raw: str):
        raise NotImplementedError


class Text(Parser):
    empty = ""

    def __init__(self, max_length: int, *, lower: bool = False):
        self.max_length = max_length
        self.lower = lower
        self.hint = f"text (max {max_length})" if max_length < 1000 else "text"

    def parse(self, raw: str) -> str:
        if len(raw) > self.max_length:
            raise CellError(f"too long: {len(raw):,} characters, at most {self.max_length:,}")
        return raw.lower() if self.lower else raw


# The common shape of an address, a subset of what Django's EmailValidator accepts (with the domain's
# labels not starting or ending with "-", checked apart): checked first because it is ten times faster;
# anything else goes through the validator itself.
_SIMPLE_EMAIL = re.compile(r"[a-z0-9_+-]++(?:\.[a-z0-9_+-]++)*+@(?:[a-z0-9-]{1,63}+\.)++[a-z]{2,63}\Z")
_email_validator = EmailValidator()


class Email(Parser):
    """An e-mail address, stored trimmed and lower-cased (as the models keep them)."""

    empty = ""
    hint = "e-mail"

    def parse(self, raw: str) -> str:
        value = raw.lower()
        if len(value) > 254:
            raise CellError("too long for an e-mail address (at most 254 characters)")
        if _SIMPLE_EMAIL.match(value) is None or "-." in value or ".-" in value or "@-" in value:
            try:
                _email_validator(value)
            except ValidationError:
                raise CellError(f"not an e-mail address: {raw!r}") from None
        return value


class DateTime(Parser):
    """ISO 8601 date and time, with an offset or Z; without one, in settings.TIME_ZONE."""

    hint = "time"

    def parse(self, raw: str) -> datetime.datetime:
        if len(raw) < 16 or raw[4] != "-" or raw[7] != "-" or raw[10] not in "Tt ":
            raise CellError(f"not an ISO 8601 time (like 2024-03-01T09:30:00+01:00): {raw!r}")
        try:
            value = datetime.datetime.fromisoformat(raw)
        except ValueError:
            raise CellError(f"not a valid time: {raw!r}") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.get_default_timezone())
        return _plausible(value, raw)


class Date(Parser):
    hint = "date"

    def parse(self, raw: str) -> datetime.date:
        if len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
            raise CellError(f"not a date in the form YYYY-MM-DD: {raw!r}")
        try:
            value = datetime.date.fromisoformat(raw)
        except ValueError:
            raise CellError(f"not a valid date: {raw!r}") from None
        return _plausible(value, raw)


def _plausible(value, raw: str):
    """The models' rule (`plausible_date`), said for a cell."""
    if not plausible_year(value):
        raise CellError(f"not a year from {FIRST_YEAR} to {LAST_YEAR}: {raw!r}")
    return value


_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?\Z")  # ASCII digits: int() and Decimal() take any script's
# The largest whole number an integer column of PostgreSQL holds (PositiveIntegerField, IntegerField).
LARGEST_INTEGER = 2_147_483_647


class Money(Parser):
    """An amount in the base currency: digits, a dot and at most two decimals, never negative."""

    hint = "amount"

    def parse(self, raw: str) -> Decimal:
        if _AMOUNT.match(raw) is None:
            if raw.startswith("-"):
                raise CellError(f"cannot be negative: {raw}")
            if "," in raw:
                raise CellError(f"use a dot for decimals and no thousands separator: {raw!r}")
            if re.fullmatch(r"[0-9]+\.[0-9]{3,}", raw):
                raise CellError(f"at most two decimals: {raw}")
            if re.fullmatch(r"[0-9]{13,}(?:\.[0-9]{1,2})?", raw):
                raise CellError(f"too large: at most 12 digits before the dot: {raw}")
            raise CellError(f"not an amount (like 1250.00): {raw!r}")
        return Decimal(raw)


class Integer(Parser):
    def __init__(self, *, min_value: int = 0, max_value: int = LARGEST_INTEGER, empty: int | None = None):
        self.min_value = min_value
        self.max_value = max_value
        self.empty = empty
        self.hint = "whole number"

    def parse(self, raw: str) -> int:
        if not re.fullmatch(r"-?[0-9]+", raw):
            raise CellError(f"not a whole number: {raw!r}")
        if len(raw) > 20:  # int() of a huge string is slow, and the value is out of range anyway
            raise CellError(f"must be {self.min_value} to {self.max_value}: {raw[:20]}...")
        value = int(raw)
        if not self.min_value <= value <= self.max_value:
            raise CellError(f"must be {self.min_value} to {self.max_value}: {value}")
        return value


class Boolean(Parser):
    empty = False
    hint = "true/false"
    VALUES = {"true": True, "yes": True, "1": True, "y": True, "false": False, "no": False, "0": False, "n": False}

    def parse(self, raw: str) -> bool:
        try:
            return self.VALUES[raw.lower()]
        except KeyError:
            raise CellError(f"not true or false: {raw!r}") from None


class Choice(Parser):
    """One of a fixed set of values (a model's TextChoices), case-insensitive."""

    empty = ""

    def __init__(self, choices: type[TextChoices] | Iterable[str]):
        values = choices.values if isinstance(choices, type) else list(choices)
        self.values = {str(value).lower(): str(value) for value in values}
        self.hint = "one of " + ", ".join(f"`{value}`" for value in self.values.values())

    def parse(self, raw: str) -> str:
        try:
            return self.values[raw.lower()]
        except KeyError:
            raise CellError(f"{raw!r} is not one of {', '.join(self.values.values())}") from None


# References ----------------------------------------------------------------------------------------------------


class Reference(Parser):
    """A cell naming another record; `resolve` finds the records of a whole batch of keys at once."""

    creates = False  # True when missing records are created (resolved last, for the good rows only)

    def parse(self, raw: str) -> str:
        return raw

    def resolve(self, keys: set[str], run) -> dict[str, tuple | str]:
        """key -> (id, *extra values) for the keys that name a record, or the reason it cannot be used;
        a key left out is reported with `missing(key)`."""
        raise NotImplementedError

    def missing(self, key: str) -> str:
        raise NotImplementedError


class ExternalIdRef(Reference):
    """A record of another kind by its external_id, e.g. a contact's company; `fields` come back with its id.

    A reference to the kind being imported (a subscription that renews another) may also name a row
    earlier in the same file.
    """

    CACHE_SIZE = 100_000  # records found and kept for the next batches, at most

    def __init__(self, model: type[Model], kind: str, *, fields: tuple[str, ...] = ()):
        self.model = model
        self.kind = kind
        self.fields = fields
        self.hint = f"external_id of `{kind}`"

    def resolve(self, keys: set[str], run) -> dict[str, tuple]:
        if self.model is run.spec.model:  # records of the kind being imported change as it goes: no cache
            return self._lookup(keys)
        # Other kinds' records stay as they are during the import, and batches name the same ones again and
        # again (contacts their companies): found ones are kept, up to a bound that keeps memory flat.
        cache = run.cache.setdefault(f"external-ids:{self.model._meta.label}:{','.join(self.fields)}", {})
        unknown = [key for key in keys if key not in cache]
        if unknown:
            if len(cache) + len(unknown) > self.CACHE_SIZE:
                cache.clear()
            cache.update(self._lookup(unknown))
        return {key: cache[key] for key in keys if key in cache}

    def _lookup(self, keys) -> dict[str, tuple]:
        if not keys:
            return {}
        # `external_id <> ''` spelled out lets PostgreSQL use the partial unique index for the IN list.
        rows = (
            self.model._default_manager.filter(external_id__any_of=set(keys))
            .exclude(external_id="")
            .order_by()
            .values_list("external_id", "id", *self.fields)
        )
        found = {row[0]: row[1:] for row in rows}
        found.update(made_here(self.model, [key for key in keys if key not in found], self.fields))
        return found

    def missing(self, key: str) -> str:
        return f"no record of {self.kind} has external_id {key!r} (import {self.kind} first)"


class UserByEmail(Reference):
    """A staff user by e-mail (case-insensitive); the user must exist."""

    hint = "user e-mail"

    def parse(self, raw: str) -> str:
        return raw.lower()

    def resolve(self, keys: set[str], run) -> dict[str, tuple | str]:
        cache = run.cache.setdefault("users", {})
        unknown = [key for key in keys if key not in cache]
        if unknown:
            found: dict[str, list[int]] = {}
            rows = (
                get_user_model()
                ._default_manager.annotate(email_lower=Lower("email"))
                .filter(email_lower__any_of=set(unknown))
                .order_by()
                .values_list("email_lower", "id")
            )
            for email, user_id in rows:
                found.setdefault(email, []).append(user_id)
            for key in unknown:
                ids = found.get(key, [])
                cache[key] = (ids[0],) if len(ids) == 1 else f"several users have the e-mail {key!r}" if ids else None
        return {key: cache[key] for key in keys if cache[key] is not None}

    def missing(self, key: str) -> str:
        return f"no user has the e-mail {key!r}"


class ByName(Reference):
    """A record found by its name, case-insensitive, and created when missing (channels, for instance).

    In a dry run nothing is created; the result notes what would be.
    """

    creates = True

    def __init__(self, model: type[Model], label: str, *, max_length: int = 100):
        self.model = model
        self.label = label
        self.max_length = max_length
        self.hint = f"{label} name"

    def parse(self, raw: str) -> str:
        if len(raw) > self.max_length:
            raise CellError(f"too long: {len(raw):,} characters, at most {self.max_length:,}")
        return raw

    def resolve(self, keys: set[str], run) -> dict[str, tuple]:
        cache = run.cache.setdefault(f"by-name:{self.model._meta.label}", {})
        wanted: dict[str, str] = {}
        for key in keys:  # a new name is created as the file first spells it ("Paid ads", then "paid ADS")
            wanted.setdefault(key.lower(), key)
        unknown = [lower for lower in wanted if lower not in cache]
        if unknown:
            cache.update(self._lookup(unknown))
            missing = [lower for lower in unknown if lower not in cache]
            if missing:
                names = sorted(wanted[lower] for lower in missing)
                run.note(f"new {self.label}: {', '.join(names)}")
                if run.writing:
                    self.model._default_manager.bulk_create(
                        [self.model(name=name) for name in names], ignore_conflicts=True
                    )
                    cache.update(self._lookup(missing))
                else:
                    cache.update(dict.fromkeys(missing, (None,)))
        return {key: cache[key.lower()] for key in keys if key.lower() in cache}

    def _lookup(self, lowered: list[str]) -> dict[str, tuple]:
        rows = (
            self.model._default_manager.annotate(name_lower=Lower("name"))
            .filter(name_lower__any_of=set(lowered))
            .order_by()
            .values_list("name_lower", "id")
        )
        return {name: (pk,) for name, pk in rows}

    def missing(self, key: str) -> str:
        return f"no {self.label} named {key!r}"
