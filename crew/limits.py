"""Rate limits by account and by client: "Email me a new link" and the admin sign-in.

One limiter for both: attempts are rows (keyed hashes, never the address or the account),
counted in a window under a lock, so requests sent at once cannot all pass.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from crew.models import LinkRequest

# pg_advisory_xact_lock key of the limiter (any constant of our own).
LIMIT_LOCK = 0x4A41444131
# Rows older than this are of no limit's window any more.
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """At most `per_account` attempts for one account and `per_client` from one client."""

    kind: str  # keeps each limiter's counts apart
    per_account: int
    per_client: int
    window: timedelta


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


def _digest(kind: str, value: str) -> str:
    # Keyed, so the table does not reveal which accounts or clients asked.
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def limit_hit(
    limit: Limit, *, account: str, client: str, now: datetime | None = None
) -> int | None:
    """Record one attempt and return its id; None, recording nothing, when over either limit."""
    now = now or timezone.now()
    account_hash = _digest(f"{limit.kind}:account", account.strip().lower())
    client_hash = _digest(f"{limit.kind}:client", client)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Count-then-insert must not interleave, or attempts sent at once all pass the
            # limit. The lock is the transaction's; attempts are few, so one lock does.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LIMIT_LOCK])
        LinkRequest.objects.filter(at__lt=now - KEEP).delete()
        recent = LinkRequest.objects.filter(at__gte=now - limit.window)
        if recent.filter(email_hash=account_hash).count() >= limit.per_account:
            return None
        if recent.filter(client=client_hash).count() >= limit.per_client:
            return None
        return LinkRequest.objects.create(email_hash=account_hash, client=client_hash, at=now).pk


def limit_forgive(hit: int) -> None:
    """Take back an attempt that should not count (a sign-in that succeeded)."""
    LinkRequest.objects.filter(pk=hit).delete()
