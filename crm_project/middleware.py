from django.conf import settings
from django.contrib.auth.middleware import (
    LoginRequiredMiddleware as DjangoLoginRequiredMiddleware,
)


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's login-required middleware, leaving the API and the admin to their own auth."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(settings.LOGIN_EXEMPT_PATH_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
