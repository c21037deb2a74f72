"""Base serializers of the API: a body's key that names no field is refused, never quietly dropped; so is a new
value for a field the endpoint shows but does not change."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField

# What a form of DRF's browsable API posts along with the fields.
FORM_KEYS = frozenset({"csrfmiddlewaretoken"})
EMPTY = (None, "", [], {})


class KnownFieldsMixin:
    """A key that is not one of the serializer's fields answers 400 under that key, with the fields it takes (a
    typo such as `amout` would otherwise save the record without the amount). A read-only field of the record
    (its status, its stage) may be sent back as a GET answered it, so that a body can go back as it came; a
    different value answers 400 with how to change it (`read_only_hints`, field -> the action), where it would
    otherwise answer 200 and change nothing."""

    read_only_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - FORM_KEYS)
            writable = ", ".join(name for name, field in self.fields.items() if not field.read_only)
            errors = {name: [f"Unknown field. The fields to send are: {writable}."] for name in unknown}
            errors.update({name: [self.read_only_message(name)] for name in self._read_only_changed(data)})
        if not errors:
            return super().to_internal_value(data)
        try:
            super().to_internal_value(data)
        except ValidationError as error:
            errors = {**error.detail, **errors}
        raise ValidationError(errors)

    def read_only_message(self, name: str) -> str:
        hint = self.read_only_hints.get(name)
        if hint and self.instance is not None and "{id}" in hint:
            hint = hint.replace("{id}", str(self.instance.pk))
        return f"This field cannot be changed here{': ' + hint if hint else ''}."

    def _read_only_changed(self, data: Mapping) -> list[str]:
        """The read-only fields of the record's own columns given a value other than the record's (a new record
        has none: any value but an empty one). Fields worked out from others (a stage's name, hours to a first
        response, a last update) are left alone: a body sent back later may differ there, rightly."""
        model = getattr(getattr(self, "Meta", None), "model", None)
        instance = self.instance if not isinstance(self.instance, list | tuple) else None
        changed = []
        for name, given in data.items():
            field = self.fields.get(name)
            if model is None or field is None or not field.read_only or not _column(model, field):
                continue
            if instance is None:
                if given not in EMPTY:
                    changed.append(name)
                continue
            try:
                attribute = field.get_attribute(instance)
                shown = None if attribute is None else field.to_representation(attribute)
            except (SkipField, AttributeError, KeyError, ObjectDoesNotExist):
                continue
            if not _same(given, shown):
                changed.append(name)
        return changed


def _column(model, field) -> bool:
    """Whether the serializer field shows one of the model's own editable columns (not a worked-out value)."""
    if isinstance(field, serializers.SerializerMethodField) or "." in field.source or field.source == "*":
        return False
    try:
        return model._meta.get_field(field.source).editable
    except FieldDoesNotExist:
        return False


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
        if None not in moments:
            return moments[0] == moments[1]
    except (ValueError, TypeError):
        return False
    try:
        return Decimal(text) == Decimal(other)
    except (InvalidOperation, ValueError):
        return False


class ModelSerializer(KnownFieldsMixin, serializers.ModelSerializer):
    pass


class Serializer(KnownFieldsMixin, serializers.Serializer):
    pass
