"""Sign-in links on request ("Email me a new link"): rate limited, sent by a worker."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from crew import emails
from crew.models import CrewMember, LinkRequest

logger = logging.getLogger(__name__)

LINK_REQUESTS_PER_ADDRESS = 3
LINK_REQUESTS_PER_CLIENT = 10
LINK_REQUEST_WINDOW = timedelta(hours=1)
# pg_advisory_xact_lock key of the link-request limiter (any constant of our own).
LINK_REQUEST_LOCK = 0x4A41444131


def _digest(kind: str, value: str) -> str:
    # Keyed, so the table does not reveal which addresses or clients asked.
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def link_request(*, email: str, client: str, now: datetime | None = None) -> bool:
    """Email a fresh sign-in link to the member with this address, if any.

    Returns False when rate limited (per address and per client); True otherwise, whether or
    not the address belongs to anyone, so callers answer the same either way.
    """
    now = now or timezone.now()
    address = email.strip().lower()
    email_hash, client_hash = _digest("email", address), _digest("client", client)
    since = now - LINK_REQUEST_WINDOW
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Count-then-insert must not interleave, or requests sent at once all pass the limit.
            # The lock is the transaction's; requests are few, so one lock for all is enough.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINK_REQUEST_LOCK])
        LinkRequest.objects.filter(at__lt=now - timedelta(days=1)).delete()
        recent = LinkRequest.objects.filter(at__gte=since)
        if recent.filter(email_hash=email_hash).count() >= LINK_REQUESTS_PER_ADDRESS:
            return False
        if recent.filter(client=client_hash).count() >= LINK_REQUESTS_PER_CLIENT:
            return False
        LinkRequest.objects.create(email_hash=email_hash, client=client_hash, at=now)
    member_id = (
        CrewMember.objects.filter(email__iexact=address, active=True)
        .values_list("pk", flat=True)
        .first()
    )
    if member_id is not None:
        from crew import tasks

        # Sent by a worker: the answer must not differ for a known address, neither in what it
        # says (a mail server that is down) nor in how long it takes (an SMTP round trip).
        try:
            tasks.send_sign_in_link.delay(member_id)
        except Exception:
            logger.exception("sign-in link for crew member %s not queued", member_id)
    return True


def link_send(*, member_id: int, now: datetime | None = None) -> bool:
    """Email a fresh sign-in link to an active member; False when there is none to send to."""
    member = CrewMember.objects.filter(pk=member_id, active=True).select_related("user").first()
    if member is None:
        return False
    emails.link_message(member, now=now or timezone.now()).send()
    return True
