"""Celery tasks of the guests' side: thin, each calling one service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from guests.selectors import pages_outlived
from guests.services import guest_pages_publish_bulk


@shared_task(name="guests.tasks.republish_ended_pages", acks_late=True)
def republish_ended_pages() -> str:
    """Re-publish the pages of charters that ended since (beat: hourly); idempotent.

    Not retried: a failure leaves the pages as they were, and the next run picks them up.
    """
    booking_ids = pages_outlived(now=timezone.now())
    if not booking_ids:
        return "No guest page outlived by its charter."
    # One invalidation for the batch; uploads happen outside any transaction.
    return guest_pages_publish_bulk(booking_ids=booking_ids).summary()
