"""How the API reads a request: its filters, and its method before its `format` (a module of its own: DRF imports
it from the settings while its views are being imported)."""

import datetime
import re

from django.db import models
from django.utils.dateparse import parse_datetime
from django_filters import BooleanFilter, IsoDateTimeFilter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation

# PostgreSQL takes time zone offsets under 16 hours; Python parses up to 24.
LARGEST_OFFSET = datetime.timedelta(hours=16)
OFFSET_OUT_OF_RANGE = "Give a time zone offset between -15:59 and +15:59."


def offset_out_of_range(value: str) -> bool:
    try:
        moment = parse_datetime(value)
    except ValueError:
        return False  # the filter's own form says what is wrong
    offset = moment.utcoffset() if moment is not None else None
    return offset is not None and abs(offset) >= LARGEST_OFFSET


def whole_number_field(model, field_name: str) -> bool:
    field = get_model_field(model, field_name)
    if field is not None and field.is_relation:
        field = field.target_field
    return isinstance(field, models.IntegerField | models.AutoField)


# What a list takes besides its filters: paging, the format and the exports.
LIST_PARAMETERS = frozenset({"cursor", "page_size", "page", "format", "export"})


class StrictFilterBackend(DjangoFilterBackend):
    """The pages' FilterSets for the API, refusing (400) what a page's form would quietly ignore: a yes/no filter
    that is not `true` or `false`, a fraction where a whole number (an id, a score) is expected, a time zone offset
    PostgreSQL cannot hold, a parameter that is no filter of the list."""

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
            elif isinstance(query_filter, IsoDateTimeFilter) and offset_out_of_range(value):
                errors[name] = [OFFSET_OUT_OF_RANGE]
        # A parameter that is no filter of the list is a mistake too (`?status=won` where the filter is `state`):
        # ignored, it would answer every record as if filtered.
        for name in sorted(set(request.query_params) - set(filterset.filters) - LIST_PARAMETERS):
            errors[name] = [f"Unknown filter. This list's filters are: {', '.join(sorted(filterset.filters))}."]
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
