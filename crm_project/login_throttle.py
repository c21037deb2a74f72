"""Login throttling: django-axes, counting failures in the database per (username, client address) pair.

- LOGIN_FAILURE_LIMIT failures for one username from one address (each within LOGIN_LOCKOUT_MINUTES of the
  one before) lock that pair for LOGIN_LOCKOUT_MINUTES. Only the pair: the same user logging in from another
  address is not locked out by someone guessing from here.
- An address with LOGIN_FAILURES_PER_ADDRESS failures over any usernames (one trying many names) is
  locked as a whole for as long.
- The count lives in the database (axes' AccessAttempt), so it holds, and staff can still log in, while
  Redis is down. Admins see and clear locks in the admin (Axes: access attempts) or with `manage.py
  axes_reset_ip` / `axes_reset_username`.

The backend below refuses a locked login before the password is checked, for every caller of
`authenticate()` with a request: the login page, the admin's login and the API token endpoint. The login
forms and the token endpoint say why (`lockout_message`), and the middleware answers 429.
"""

import math

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Sum
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled

from .throttles import AddressThrottle


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses the login of a locked pair or address (axes' backend, first in AUTHENTICATION_BACKENDS).

    A call without a request (the test client's `login()`, a script) has no address to count by: it is
    left to the next backends rather than refused.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _recent_attempts(request, **filters):
    return AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request), **filters)


def address_failures(request) -> int:
    """Failed logins from the request's client address over the last cool-off time, whatever the username."""
    total = _recent_attempts(request, ip_address=request.axes_ip_address).aggregate(total=Sum("failures_since_start"))
    return total["total"] or 0


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler, with the address-wide limit on top of the per-pair one."""

    def get_failures(self, request, credentials=None) -> int:
        """Failures of the (username, address) pair; the lock's count when the address as a whole is over."""
        pair = super().get_failures(request, credentials)
        if address_failures(request) >= settings.LOGIN_FAILURES_PER_ADDRESS:
            return max(pair, get_failure_limit(request, credentials))
        return pair


def _address_locked(request) -> bool:
    return address_failures(request) >= settings.LOGIN_FAILURES_PER_ADDRESS


def lockout_seconds(request, username: str | None) -> int:
    """How long the lock on this request's login lasts still (the address's, or the pair's), in seconds."""
    filters = {"ip_address": request.axes_ip_address}
    if not _address_locked(request):
        filters["username"] = username
    last = _recent_attempts(request, **filters).aggregate(last=Max("attempt_time"))["last"]
    if last is None:
        return 0
    return max(0, math.ceil((last + get_cool_off(request) - timezone.now()).total_seconds()))


def lockout_message(request, username: str | None) -> str:
    """Why a login was refused and for how long: the address is over its limit, or this username from it."""
    minutes = max(1, math.ceil(lockout_seconds(request, username) / 60))
    for_how_long = f"for {minutes} more minute{'s' if minutes != 1 else ''}"
    if _address_locked(request):
        return f"Too many failed logins from your network address: logging in from it is locked {for_how_long}."
    return (
        f"Too many failed logins for this username from your network address: it is locked here {for_how_long}. "
        "Logging in from elsewhere is not affected, and an administrator can lift the lock."
    )


def is_locked_out(request) -> bool:
    """Whether axes refused (or just locked) the login attempted in this request."""
    return bool(getattr(request, "axes_locked_out", False))


def lockout_response(request, original_response, credentials):
    """AXES_LOCKOUT_CALLABLE: the login page that refused the login (its form says why), as a 429."""
    if original_response is not None and original_response.status_code == 200:
        original_response.status_code = 429
        return original_response
    username = (credentials or {}).get("username")
    return HttpResponse(lockout_message(request, username), status=429, content_type="text/plain; charset=utf-8")


class ThrottledLoginMixin:
    """A login form that says so when the throttle refused the login, instead of "wrong password"."""

    def get_invalid_login_error(self):
        if self.request is not None and is_locked_out(self.request):
            username = self.cleaned_data.get("username")
            return forms.ValidationError(lockout_message(self.request, username), code="locked_out")
        return super().get_invalid_login_error()


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The login page's form."""


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form."""


class _ThrottledAuthTokenSerializer(AuthTokenSerializer):
    def validate(self, attrs):
        request = self.context["request"]
        try:
            return super().validate(attrs)
        except serializers.ValidationError:
            if not is_locked_out(request):
                raise
            username = attrs.get("username")
            raise Throttled(
                wait=lockout_seconds(request, username), detail=lockout_message(request, username)
            ) from None


class AuthTokenView(ObtainAuthToken):
    """POST username and password for an API token; a locked login is refused with 429 and says why."""

    serializer_class = _ThrottledAuthTokenSerializer
    throttle_classes = [AddressThrottle]
