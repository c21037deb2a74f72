from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    """?page=N, and ?page_size=N up to 500 for integrations that read in bulk."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
