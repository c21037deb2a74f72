"""The OpenAPI schema: drf-spectacular's, plus the CSV answers of the list endpoints (CsvExportMixin) and the
error answers every operation can give (400, 401, 403, 404), so that a client knows their shape."""

from django.core.exceptions import FieldDoesNotExist
from django_filters import NumberFilter
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import (
    ResolvedComponent,
    build_basic_type,
    build_object_type,
    get_view_model,
    is_serializer,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from .api import CsvExportMixin
from .api_input import whole_number_field

EXPORT_HELP = (
    "Answer CSV instead of a page of JSON: every row the filters select, all pages, streamed. "
    "`csv` (the same as `?format=csv` or `Accept: text/csv`): the fields of the JSON as columns, spreadsheet "
    "formulas neutralised. `reimport`: the columns of `manage.py import_records` for this kind, raw values, "
    "references by external id."
)


# DRF's answer to a refusal that is not about the input: {"detail": "..."}.
ERROR_DETAIL = ResolvedComponent(
    name="ErrorDetail",
    type=ResolvedComponent.SCHEMA,
    object="ErrorDetail",
    schema=build_object_type(properties={"detail": build_basic_type(OpenApiTypes.STR)}, required=["detail"]),
)
# DRF's answer to invalid input: the messages by field ("non_field_errors" for the whole record, "detail" for a
# request it could not read); a nested field answers its own object of messages.
VALIDATION_ERROR = ResolvedComponent(
    name="ValidationError",
    type=ResolvedComponent.SCHEMA,
    object="ValidationError",
    schema={
        **build_object_type(additionalProperties={}),
        "description": "Messages by field name; `non_field_errors` for the record as a whole.",
        "example": {"email": ["Enter a valid email address."]},
    },
)
ERROR_ANSWERS = {
    "400": ("The input is invalid; nothing was changed.", VALIDATION_ERROR),
    "401": ("No valid session or token.", ERROR_DETAIL),
    "403": ("The user's role may not do this.", ERROR_DETAIL),
    "404": ("No such record (or page), or not one this user may see.", ERROR_DETAIL),
}


def _whole_number_filters(view) -> set[str]:
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is None:
        return set()
    model = get_view_model(view)
    if model is None:
        return set()
    return {
        name
        for name, query_filter in filterset_class.base_filters.items()
        if isinstance(query_filter, NumberFilter) and whole_number_field(model, query_filter.field_name)
    }


def _can_be_null(field) -> bool:
    """A read-only field is null when it says so (default=None), or when its source goes through a nullable column
    or relation of the serializer's model (e.g. `owner`, `company.name`)."""
    if field.default is None:
        return True
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    for attribute in getattr(field, "source_attrs", []):
        if model is None:
            return False
        try:
            model_field = model._meta.get_field(attribute)
        except FieldDoesNotExist:
            return False
        if model_field.null:
            return True
        model = model_field.related_model
    return False


class CrmAutoSchema(AutoSchema):
    """A list endpoint of CsvExportMixin documents its `export` parameter and its text/csv answer (a plain string:
    CSV with a header row, not the page of JSON)."""

    def _answers_csv(self) -> bool:
        return isinstance(self.view, CsvExportMixin) and self.view.action == "list" and self.method == "GET"

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._answers_csv():
            modes = self.view.export_modes()
            export = OpenApiParameter("export", OpenApiTypes.STR, enum=modes, description=EXPORT_HELP)
            parameters = [*parameters, export]
        return parameters

    def _get_parameters(self):
        """A query parameter that is not plain text may also be sent empty: like the pages' filter forms, the API
        reads `?owner=` as "not given" (or, where a filter says so, "anyone"). A number filter on an id or another
        whole number takes whole numbers only (StrictFilterBackend)."""
        parameters = super()._get_parameters()
        lenient = {parameter["name"] for parameter in self._get_filter_parameters() + self._get_pagination_parameters()}
        whole = _whole_number_filters(self.view)
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if parameter["name"] in whole and schema.get("type") == "number":
                schema = {key: value for key, value in schema.items() if key != "format"} | {"type": "integer"}
                parameter["schema"] = schema
            if (
                parameter["name"] in lenient
                and parameter.get("in") == "query"
                and (schema.get("type") != "string" or {"format", "enum", "pattern"} & set(schema))
            ):
                parameter["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """A read-only field that can be empty says so (nullable): drf-spectacular cannot tell by itself."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if field.read_only and "$ref" not in schema and _can_be_null(field):
            schema["nullable"] = True
        return schema

    def _error_codes(self) -> list[str]:
        codes = []
        if (
            self.method != "GET"
            or self.get_filter_backends()
            or self._answers_csv()
            or self._is_list_view()
            or self.get_override_parameters()
        ):
            codes.append("400")  # a body, or query parameters (filters, ordering, export, paging), to validate
        if self.get_auth():
            codes += ["401", "403"]
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            codes.append("404")  # no such record, or a page past the last
        return codes

    def _get_response_bodies(self, direction="response"):
        """Besides its answers, an operation documents the refusals it can answer, in JSON."""
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code in responses:
                continue
            description, component = ERROR_ANSWERS[code]
            self.registry.register_on_missing(component)
            responses[code] = {"content": {"application/json": {"schema": component.ref}}, "description": description}
        return responses

    def get_response_serializers(self):
        serializers = super().get_response_serializers()
        if self._answers_csv() and is_serializer(serializers):
            return {
                (200, "application/json"): serializers,
                (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            }
        return serializers
