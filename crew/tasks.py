"""Celery tasks of the crew side: thin, each calling one service."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task

from crew import dispatch, offers, operator_emails, services, silence

logger = logging.getLogger(__name__)


@shared_task(name="crew.tasks.send_reminders", acks_late=True)
def send_reminders() -> int:
    """Send the reminders that are due (beat runs this every few minutes); idempotent."""
    return services.reminders_send()


@shared_task(name="crew.tasks.send_sign_in_link", acks_late=True)
def send_sign_in_link(member_id: int) -> bool:
    """The email "Email me a new link" asked for; not retried (asking again sends another)."""
    try:
        return services.link_send(member_id=member_id)
    except Exception:
        logger.exception("sign-in link email to crew member %s failed", member_id)
        return False


# --- Dispatch: open slots, offers, operator emails, alerts ---

# Mail errors worth another try; each task below sends each email once (rows are claimed).
TRANSIENT = (OSError, smtplib.SMTPException)
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(name="crew.tasks.send_offers", **RETRY)
def send_offers(slot_id: int, offer_ids: list[int] | None = None) -> int:
    """Email the unsent offers of an open slot (a batch of them, when given)."""
    return offers.offers_send(slot_id=slot_id, offer_ids=offer_ids)


@shared_task(name="crew.tasks.announce_slot", **RETRY)
def announce_slot(slot_id: int) -> bool:
    """Tell the operators a member declined, was removed or deactivated."""
    return operator_emails.slot_announce(slot_id=slot_id)


@shared_task(name="crew.tasks.announce_filled", **RETRY)
def announce_filled(slot_id: int) -> bool:
    """Tell the operators who filled a slot."""
    return operator_emails.slot_filled_announce(slot_id=slot_id)


@shared_task(name="crew.tasks.notify_crew", **RETRY)
def notify_crew(event_id: int) -> int:
    """Send the charter's crew what they have not been told (a taker's invitation)."""
    return services.crew_notify(event_id=event_id)


@shared_task(name="crew.tasks.send_alerts", acks_late=True)
def send_alerts() -> int:
    """Operator alerts for charters close at hand, and offers a lost task left unsent."""
    for slot_id in dispatch.offers_unsent():
        offers.offers_send(slot_id=slot_id)
    return silence.alerts_send()
