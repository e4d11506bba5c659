"""Who is asking, for rate limits: the client's address, trusting only our own proxies."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The socket's address, or the one our proxies put in X-Forwarded-For.

    Each proxy appends the address it was connected from, so with TRUSTED_PROXY_COUNT proxies
    the client is that many entries from the right; whatever a client writes into the header
    itself sits further left and is never read. Without trusted proxies the header is ignored.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= count:
            return forwarded[-count]
    # Fewer entries than proxies means a request that did not come through them all: the
    # socket's address (the nearest proxy at worst) limits it more, never less.
    return request.META.get("REMOTE_ADDR", "") or "unknown"
