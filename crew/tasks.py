"""Celery tasks of the crew side: thin, each calling one service."""

from __future__ import annotations

import logging

from celery import shared_task

from crew import services

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
