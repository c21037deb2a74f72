"""How the API reads a request: its filters, and its method before its `format` (a module of its own: DRF imports
it from the settings while its views are being imported)."""

import re

from django.db import models
from django_filters import BooleanFilter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation


def whole_number_field(model, field_name: str) -> bool:
    field = get_model_field(model, field_name)
    if field is not None and field.is_relation:
        field = field.target_field
    return isinstance(field, models.IntegerField | models.AutoField)


class StrictFilterBackend(DjangoFilterBackend):
    """The pages' FilterSets for the API, refusing (400) what a page's form would quietly ignore: a yes/no filter
    that is not `true` or `false`, a fraction where a whole number (an id, a score) is expected."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors = {}
        for name, query_filter in filterset.filters.items():
            value = request.query_params.get(name, "")
            if not value:
                continue
            if isinstance(query_filter, BooleanFilter) and value not in ("true", "false"):
                errors[name] = ["Give true or false."]
            elif (
                isinstance(query_filter, NumberFilter)
                and whole_number_field(queryset.model, query_filter.field_name)
                and not re.fullmatch(r"-?[0-9]+", value)
            ):
                errors[name] = ["Give a whole number."]
        if errors:
            raise ValidationError(errors)
        return filterset


class ContentNegotiation(DefaultContentNegotiation):
    """A method the view does not have answers 405 (in JSON) whatever `?format=` asks; DRF would choose the format
    first and answer 404 for one the view lacks."""

    def select_renderer(self, request, renderers, format_suffix=None):
        view = request.parser_context.get("view")
        if view is not None and request.method.upper() not in view._allowed_methods():
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
