"""The address of the client behind a request, the one place that decides it.

Login throttling (django-axes), the API throttles and the rate limits of the public pages all count by
this address. Only proxies we run may be believed: with `TRUSTED_PROXY_COUNT = 0` (the default) the app
is reached directly and the address is REMOTE_ADDR; with N trusted proxies in front, each appending the
address it was reached from to X-Forwarded-For, the client is the Nth address from the right. What a
client wrote into the header itself stands further left and is never read.
"""

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request) -> str:
    """The client's IP address, as far as our own proxies vouch for it (REMOTE_ADDR without proxies).

    When the header has fewer addresses than there are trusted proxies, or the one to read is not an
    address, the request did not come the way the proxies send it: REMOTE_ADDR answers instead.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = _valid(forwarded[-proxies])
            if address is not None:
                return address
    return _valid(remote) or remote
