from django.utils.http import urlencode
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .keyset import InvalidCursor, keyset_page

PAGE_REFUSED = "Lists are paged by cursor: follow the `next` and `previous` links (`?cursor=`), not `?page=`."


class ApiPagination(BasePagination):
    """Keyset pagination: `?cursor=` from the `next` and `previous` links, `?page_size=N` up to 500 for
    integrations that read in bulk (a larger size is cut to 500).

    A page deep in a list of millions costs what the first one does (one query, an index range scan; no COUNT),
    with every `ordering` the list offers. `?page=N` answers 400 pointing at the cursor, as does a cursor that
    was altered or made for another ordering; a page size that is not a whole number from 1 answers 400 too:
    DRF alone would ignore it and answer a page of another size than the client asked for.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_param = "cursor"
    page_query_param = "page"

    def paginate_queryset(self, queryset, request, view=None):
        self.check_query(request)
        self.request = request
        size = min(int(request.query_params.get(self.page_size_query_param) or self.page_size), self.max_page_size)
        try:
            self.page = keyset_page(queryset, cursor=request.query_params.get(self.cursor_query_param), size=size)
        except InvalidCursor as error:
            raise ValidationError({self.cursor_query_param: [str(error)]}) from error
        return self.page.rows

    def check_query(self, request) -> None:
        """400 for `?page=`, and for a page size that is not a whole number from 1 (exports, which have no pages,
        ask too)."""
        if self.page_query_param in request.query_params:
            raise ValidationError({self.page_query_param: [PAGE_REFUSED]})
        value = request.query_params.get(self.page_size_query_param, "")
        if value and not (value.isascii() and value.isdigit() and int(value) > 0):
            raise ValidationError({self.page_size_query_param: ["Give a whole number from 1."]})

    def link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.link(self.page.next_cursor),
                "previous": self.link(self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        example = f"https://crm.example.com/api/contacts/?{urlencode({self.cursor_query_param: 'eyJvIjoi...'})}"
        link = {"type": "string", "nullable": True, "format": "uri", "example": example}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page (null on the last one)."},
                "previous": {**link, "description": "The page before (null on the first one)."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "Where the page starts: take it from the `next` or `previous` link of the page before "
                    "(an opaque, signed value; an altered one, or one from another `ordering`, answers 400). "
                    "Lists are not numbered: `?page=` answers 400."
                ),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Number of results per page, at most {self.max_page_size} (larger: cut).",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
