"""Base serializers of the API: a body's key that names no field is refused, never quietly dropped."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

# What a form of DRF's browsable API posts along with the fields.
FORM_KEYS = frozenset({"csrfmiddlewaretoken"})


class KnownFieldsMixin:
    """A key that is not one of the serializer's fields answers 400 under that key, with the fields it takes (a
    typo such as `amout` would otherwise save the record without the amount). Read-only fields count as known,
    so that what a GET answered can be sent back as it is."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields) - FORM_KEYS) if isinstance(data, Mapping) else []
        if not unknown:
            return super().to_internal_value(data)
        writable = ", ".join(name for name, field in self.fields.items() if not field.read_only)
        errors = {name: [f"Unknown field. The fields to send are: {writable}."] for name in unknown}
        try:
            super().to_internal_value(data)
        except ValidationError as error:
            errors = {**error.detail, **errors}
        raise ValidationError(errors)


class ModelSerializer(KnownFieldsMixin, serializers.ModelSerializer):
    pass


class Serializer(KnownFieldsMixin, serializers.Serializer):
    pass
