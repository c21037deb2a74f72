from django.conf import settings
from django.contrib.auth.middleware import (
    LoginRequiredMiddleware as DjangoLoginRequiredMiddleware,
)
from django.http import JsonResponse
from django.shortcuts import render


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's login-required middleware, leaving the API and the admin to their own auth."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(settings.LOGIN_EXEMPT_PATH_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class RequestSizeLimitMiddleware:
    """Refuse a request whose body is over MAX_REQUEST_BODY_MB (413) before anything reads it.

    Django spools uploaded files to disk as it parses them, and the CSRF check parses the body of every
    POST: without this, a huge upload would be written out in full before any view could refuse it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body then
        limit_mb = settings.MAX_REQUEST_BODY_MB
        if length > limit_mb * 1024 * 1024:
            message = (
                f"This request is {length / 1024 / 1024:,.1f} MB; the largest accepted is {limit_mb} MB. "
                "Import larger files with `manage.py import_records`."
            )
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return render(request, "413.html", {"message": message}, status=413)
        return self.get_response(request)
