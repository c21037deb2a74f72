from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    """?page=N, and ?page_size=N up to 500 for integrations that read in bulk (a larger size is cut to 500).

    A page or page size that is not a whole number from 1 answers 400: DRF alone would ignore a bad page size and
    answer a page of another size than the client asked for.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Number of results per page, at most {self.max_page_size} (larger: cut)."
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        self.check_query(request)
        return super().paginate_queryset(queryset, request, view)

    def check_query(self, request) -> None:
        """400 for a page or page size that is not a whole number from 1 (exports, which have no pages, ask too)."""
        for name in (self.page_query_param, self.page_size_query_param):
            value = request.query_params.get(name, "")
            if value and not (value.isascii() and value.isdigit() and int(value) > 0):
                raise ValidationError({name: ["Give a whole number from 1."]})
