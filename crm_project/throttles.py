"""API throttles: requests per user and per client address, counted in the cache (Redis).

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (env API_RATE_USER, API_RATE_ADDRESS), read on each
request so that a changed setting applies at once. The address is the one `client_address` trusts. When
the cache is down nothing can be counted: the request is served, and the failure logged, rather than the
whole API failing with it.
"""

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from .client_address import client_address

logger = logging.getLogger(__name__)


class _CrmThrottle(SimpleRateThrottle):
    def get_ident(self, request) -> str:
        return client_address(request)

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # The rate is looked up again: the one read when the class was made may be stale.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache is unreachable: serve rather than fail
            logger.warning("API throttle %s not counted: the cache is unavailable", self.scope, exc_info=True)
            return True


class UserThrottle(_CrmThrottle, UserRateThrottle):
    """Requests of one user (by id; an anonymous caller by client address)."""

    scope = "user"


class AddressThrottle(_CrmThrottle):
    """Requests from one client address, signed in or not: many accounts behind one address share it."""

    scope = "address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
