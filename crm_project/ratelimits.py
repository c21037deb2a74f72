"""Rate limits on the public pages, counted in the cache per client address (django-ratelimit).

When the cache (Redis) is down the limit cannot be counted; the page then answers
instead of failing with a 500, and the failure is logged.
"""

import logging

from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)


def over_limit(request, *, group: str, rate) -> bool:
    """Count this request against `group` and say whether the client is over `rate`."""
    try:
        return is_ratelimited(request, group=group, key="ip", rate=rate, increment=True)
    except Exception:  # the cache is unreachable: serve rather than fail
        logger.warning("Rate limit %s not counted: the cache is unavailable", group, exc_info=True)
        return False
