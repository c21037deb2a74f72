"""The OpenAPI schema: drf-spectacular's, plus the CSV answers of the list endpoints (CsvExportMixin)."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_serializer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from .api import CsvExportMixin

EXPORT_HELP = (
    "Answer CSV instead of a page of JSON: every row the filters select, all pages, streamed. "
    "`csv` (the same as `?format=csv` or `Accept: text/csv`): the fields of the JSON as columns, spreadsheet "
    "formulas neutralised. `reimport`: the columns of `manage.py import_records` for this kind, raw values, "
    "references by external id."
)


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

    def get_response_serializers(self):
        serializers = super().get_response_serializers()
        if self._answers_csv() and is_serializer(serializers):
            return {
                (200, "application/json"): serializers,
                (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            }
        return serializers
