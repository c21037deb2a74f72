"""Base serializers of the API: a body's key that names no field is refused, never quietly dropped; so is a new
value for a field the endpoint shows but that changes through an action (a deal's status, a ticket's priority)."""

import datetime
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField
from rest_framework.utils.encoders import JSONEncoder

# What a form of DRF's browsable API posts along with the fields.
FORM_KEYS = frozenset({"csrfmiddlewaretoken"})
EMPTY = (None, "", [], {})


class KnownFieldsMixin:
    """A key that is not one of the serializer's fields answers 400 under that key, with the fields it takes (a
    typo such as `amout` would otherwise save the record without the amount); `shown_elsewhere` names keys a GET
    of the same record shows (a ticket's conversation) that are taken and left alone.

    The read-only fields people set through actions (`read_only_hints`: field -> how to change it; a status, a
    stage, an owner) may be sent back as a GET showed them, or with a new record's default; another value answers
    400 with how to change it, where it would otherwise answer 200 and change nothing. The other read-only fields
    (counters, times the system keeps) are taken and left alone: a body read a minute ago may differ there, as
    the record moved on."""

    read_only_hints: dict[str, str] = {}
    shown_elsewhere: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - FORM_KEYS - self.shown_elsewhere)
            writable = ", ".join(name for name, field in self.fields.items() if not field.read_only)
            errors = {name: [f"Unknown field. The fields to send are: {writable}."] for name in unknown}
            errors.update({name: [self.read_only_message(name, now)] for name, now in self._read_only_changed(data)})
        if not errors:
            return super().to_internal_value(data)
        try:
            super().to_internal_value(data)
        except ValidationError as error:
            errors = {**error.detail, **errors}
        raise ValidationError(errors)

    def read_only_message(self, name: str, now=None) -> str:
        """How the field changes; for a record, with its value now (a body read before it changed shows another)."""
        record = self._record()
        hint = self.read_only_hints[name].replace("{id}", str(record.pk) if record is not None else "<id>")
        if record is None:
            return f"This field cannot be changed here: {hint}."
        shown = "empty" if now in EMPTY else json.dumps(now, cls=JSONEncoder, ensure_ascii=False)
        return f"This field cannot be changed here (it is {shown} now): {hint}."

    def _record(self):
        return self.instance if not isinstance(self.instance, list | tuple | QuerySet) else None

    def _read_only_changed(self, data: Mapping) -> list[tuple[str, object]]:
        """The fields of `read_only_hints` given a value other than the record's (a new record's: its default),
        with the value shown now."""
        model = getattr(getattr(self, "Meta", None), "model", None)
        record = self._record()
        changed = []
        for name, given in data.items():
            field = self.fields.get(name)
            if model is None or field is None or not field.read_only or name not in self.read_only_hints:
                continue
            try:
                if record is None:
                    default = _model_field(model, field).get_default()
                    shown = None if default is None else field.to_representation(default)
                else:
                    attribute = field.get_attribute(record)
                    shown = None if attribute is None else field.to_representation(attribute)
            except (SkipField, AttributeError, KeyError, ObjectDoesNotExist, FieldDoesNotExist):
                continue
            if not _same(given, shown):
                changed.append((name, shown))
        return changed


def _model_field(model, field):
    if "." in field.source or field.source == "*":
        raise FieldDoesNotExist(field.source)
    return model._meta.get_field(field.source)


def _same(given, shown) -> bool:
    """Whether a value sent is the value shown, however written: a time with another offset, "10.0" for 10.00."""
    if given == shown:
        return True
    if given in EMPTY or shown in EMPTY or isinstance(given, dict | list) or isinstance(shown, dict | list):
        return given in EMPTY and shown in EMPTY
    text, other = str(given), str(shown)
    if text == other:
        return True
    try:
        moments = parse_datetime(text), parse_datetime(other)
        if None not in moments:  # to the second: clients send milliseconds back, or none
            return abs(moments[0] - moments[1]) < datetime.timedelta(seconds=1)
    except (ValueError, TypeError):  # a time without its offset is not the time shown
        return False
    try:
        return Decimal(text) == Decimal(other)
    except (InvalidOperation, ValueError):
        return False


class ModelSerializer(KnownFieldsMixin, serializers.ModelSerializer):
    pass


class Serializer(KnownFieldsMixin, serializers.Serializer):
    pass
