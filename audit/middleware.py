from . import context


class AuditMiddleware:
    """Keeps the request at hand for the audit trail, which names its user as the author of each change."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with context.request_scope(request):
            return self.get_response(request)
