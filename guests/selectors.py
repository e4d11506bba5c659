"""Reads of guest pages that need care: which published pages the passing of time made stale."""

from __future__ import annotations

from datetime import datetime, timedelta

from bookings.selectors import bookings_ended_between
from guests.models import GuestPage

# How far back a charter's end is looked for: the hourly run catches each end within the hour;
# a week covers a beat that was down for days without reading the whole history.
ENDED_LOOKBACK = timedelta(days=7)
# Pages re-published per run: a busy day's worth; the rest wait for the next run.
ENDED_BATCH = 100


def pages_outlived(
    *, now: datetime, within: timedelta = ENDED_LOOKBACK, limit: int = ENDED_BATCH
) -> list[int]:
    """Booking ids whose charter ended after their page was last published, earliest end first.

    Such a page was rendered before the charter and still tells the guest it is confirmed.
    Once re-published (after the end) a page is no longer one of them.
    """
    ended = bookings_ended_between(after=now - within, until=now)
    if not ended:
        return []
    published = GuestPage.objects.filter(
        booking_id__in=list(ended), published_at__isnull=False
    ).values_list("booking_id", "published_at")
    stale = sorted((ended[pk], pk) for pk, at in published if at < ended[pk])
    return [pk for _, pk in stale[:limit]]
