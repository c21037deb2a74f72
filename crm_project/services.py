"""Helpers shared by the apps' services."""

from django.core.exceptions import ValidationError


def apply_and_save(instance, fields: tuple[str, ...], data: dict):
    """Set the allowed fields, validate the whole row (constraints included), save.

    Raises ValidationError (nothing saved) for bad values, TypeError for fields the
    caller may not set here (a programming error, not user input).
    """
    unknown = set(data) - set(fields)
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    for name, value in data.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    return instance


def refuse(message: str, field: str | None = None):
    """Raise the ValidationError that pages and the API show as a clear message (400)."""
    raise ValidationError({field: message} if field else message)
