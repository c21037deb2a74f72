"""Building blocks shared by every app's API."""

import itertools
import json
from collections.abc import Iterable, Iterator

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.utils.text import slugify
from rest_framework import renderers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder

from .exports import CHUNK_SIZE, CsvFormat, csv_lines, csv_response, export_filename, export_response, spreadsheet_safe
from .permissions import referring_records

IN_USE_MESSAGE = "Other records still refer to this one."


def raise_as_api_error(error: DjangoValidationError):
    """A model or service ValidationError becomes a 400 with per-field messages."""
    if hasattr(error, "error_dict"):
        # Django names errors of the whole record "__all__"; DRF clients expect "non_field_errors".
        raise ValidationError(
            {
                (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
                for field, messages in error.message_dict.items()
            }
        ) from None
    raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: error.messages}) from None


# CSV from the list endpoints -------------------------------------------------------------------


def csv_cell(value) -> str:
    """A serialized API value in a CSV cell: as in the JSON (true, nested values as JSON), formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        value = json.dumps(value, cls=JSONEncoder, ensure_ascii=False)
    return spreadsheet_safe(str(value))


class CsvRenderer(renderers.BaseRenderer):
    """text/csv for the list endpoints (?format=csv or Accept: text/csv).

    CsvExportMixin.list streams the rows itself and refusals answer in JSON, so this renders only
    what might reach it otherwise: a list of objects, or one object, as a table.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        records = data if isinstance(data, list) else [data]
        headers = list(dict.fromkeys(key for record in records if isinstance(record, dict) for key in record))
        rows = [headers, *([csv_cell(record.get(name)) for name in headers] for record in records)]
        return "".join(csv_lines(rows, byte_order_mark=False)).encode(self.charset)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class CsvExportMixin:
    """A list endpoint that also answers CSV: every row its filters select, all pages, streamed.

    - `?format=csv` (or `Accept: text/csv`, or `?export=csv`): the serializer's fields as columns,
      values as in the JSON, spreadsheet formulas neutralised;
    - `?export=reimport`, where the viewset declares `reimport_format`: the import format of its kind.

    The permission checks are the list's own; a refusal answers in JSON like the rest of the API.
    """

    reimport_format: CsvFormat | None = None
    export_name = ""  # the file's name; the model's plural by default

    def export_modes(self) -> list[str]:
        return ["csv", "reimport"] if self.reimport_format is not None else ["csv"]

    def get_renderers(self):
        renderer_list = super().get_renderers()
        return [*renderer_list, CsvRenderer()] if self.action == "list" else renderer_list

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and isinstance(getattr(request, "accepted_renderer", None), CsvRenderer):
            # Only rows are CSV: a refusal (401, 403, 400 ...) answers in JSON like the rest of the API.
            request.accepted_renderer, request.accepted_media_type = renderers.JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    # Above `list`: in the class body, that name is the method from there on.
    def serialized_rows(self, queryset: QuerySet) -> Iterator[list[str]]:
        """The header (the serializer's readable fields), then the rows, serialized a chunk at a time."""
        headers = [name for name, field in self.get_serializer().fields.items() if not field.write_only]
        yield headers
        for chunk in _chunks(queryset.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE):
            for item in self.get_serializer(chunk, many=True).data:
                yield [csv_cell(item.get(name)) for name in headers]

    def list(self, request, *args, **kwargs):
        mode = request.query_params.get("export") or (
            "csv" if isinstance(request.accepted_renderer, CsvRenderer) else ""
        )
        if not mode:
            return super().list(request, *args, **kwargs)
        if self.paginator is not None and hasattr(self.paginator, "check_query"):
            self.paginator.check_query(request)  # an export has no pages, but a bad ?page= is still a mistake
        if mode not in self.export_modes():
            raise ValidationError({"export": [f"Choose one of: {', '.join(self.export_modes())}."]})
        queryset = self.filter_queryset(self.get_queryset())
        if mode == "reimport":
            return export_response(self.reimport_format, queryset)
        name = self.export_name or slugify(queryset.model._meta.verbose_name_plural)
        return csv_response(self.serialized_rows(queryset), filename=export_filename(name), byte_order_mark=False)


class ServiceModelViewSet(CsvExportMixin, viewsets.ModelViewSet):
    """CRUD whose writes go through services; a refused write answers 400 and changes nothing.

    Subclasses implement perform_service_create(data), perform_service_update(instance,
    data) and perform_service_delete(instance).
    """

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            instance = self.perform_service_create(serializer.validated_data)
        except DjangoValidationError as error:
            raise_as_api_error(error)
        instance = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            self.perform_service_update(instance, serializer.validated_data)
        except DjangoValidationError as error:
            raise_as_api_error(error)
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        try:
            self.perform_service_delete(instance)
        except (ProtectedError, RestrictedError) as error:
            referring = referring_records(error)
            message = f"{IN_USE_MESSAGE[:-1]}: {referring}." if referring else IN_USE_MESSAGE
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]}) from None
        except DjangoValidationError as error:
            raise_as_api_error(error)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def run_service(self, service, **kwargs):
        """Call one service; its refusal becomes a 400."""
        try:
            return service(**kwargs)
        except DjangoValidationError as error:
            raise_as_api_error(error)

    def run_action(self, service, *, serializer_class=None, response_status=status.HTTP_200_OK, **kwargs):
        """Run one service for a POST action and answer with the object it returns, serialized."""
        result = self.run_service(service, **kwargs)
        serializer_class = serializer_class or self.get_serializer_class()
        if result is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializer_class(result, context=self.get_serializer_context()).data, status=response_status)
