"""Sign-in links on request ("Email me a new link"): rate limited, sent by a worker."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from crew import emails
from crew.limits import Limit, limit_hit
from crew.models import CrewMember

logger = logging.getLogger(__name__)

LINK_REQUESTS = Limit(kind="link", per_account=3, per_client=10, window=timedelta(hours=1))
LINK_REQUESTS_PER_ADDRESS = LINK_REQUESTS.per_account
LINK_REQUESTS_PER_CLIENT = LINK_REQUESTS.per_client
LINK_REQUEST_WINDOW = LINK_REQUESTS.window


def link_request(*, email: str, client: str, now: datetime | None = None) -> bool:
    """Email a fresh sign-in link to the member with this address, if any.

    Returns False when rate limited (per address and per client); True otherwise, whether or
    not the address belongs to anyone, so callers answer the same either way.
    """
    address = email.strip().lower()
    if limit_hit(LINK_REQUESTS, account=address, client=client, now=now) is None:
        return False
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
