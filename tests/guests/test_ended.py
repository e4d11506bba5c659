"""A page published before its charter stops saying "confirmed" once the charter has ended."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from guests.models import GuestPage
from guests.selectors import pages_outlived
from guests.services import guest_page_publish
from guests.tasks import republish_ended_pages
from jada.services import booking_save
from tests.factories import booking_data


def guest_text(html: bytes) -> str:
    """What the guest reads (the calendar file inside keeps its machine STATUS field)."""
    return re.sub(r'href="data:[^"]*"', "", html.decode()).lower()


def stored(aws, page: GuestPage) -> bytes:
    return aws.s3().get_object(Bucket=aws.bucket, Key=page.object_name)["Body"].read()


@pytest.fixture
def later(monkeypatch):
    """Moves the clock: `later(moment)` makes every `timezone.now()` answer `moment`."""

    def move(moment):
        monkeypatch.setattr("django.utils.timezone.now", lambda: moment)

    return move


def test_the_hourly_task_republishes_a_page_whose_charter_has_ended(
    booking, dock, s3_guest_storage, moto_requests, later, settings
):
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["guests.tasks.republish_ended_pages"]["schedule"] <= 3600
    # The next charter on the same boat, a day later: its page is published and not yet due.
    upcoming = booking_save(
        data=booking_data(
            dock, external_ref="BS-NEXT", starts_at=booking.starts_at + timedelta(days=1)
        ),
        via="test",
    ).booking
    guest_page_publish(booking_id=booking.pk)
    guest_page_publish(booking_id=upcoming.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert "your charter is confirmed" in guest_text(stored(s3_guest_storage, page))

    later(booking.ends_at - timedelta(minutes=1))
    assert pages_outlived(now=booking.ends_at - timedelta(minutes=1)) == []
    moto_requests.clear()
    assert (
        republish_ended_pages.apply().get(disable_sync_subtasks=False)
        == "No guest page outlived by its charter."
    )
    assert moto_requests == []

    later(booking.ends_at + timedelta(minutes=30))
    summary = republish_ended_pages.apply().get(disable_sync_subtasks=False)
    assert summary.startswith("1 guest pages checked: 1 published"), summary
    uploads = [r for r in moto_requests if r.service == "s3" and r.method == "PUT"]
    assert len(uploads) == 1
    text = guest_text(stored(s3_guest_storage, page))
    assert "confirmed" not in text
    assert "this charter has taken place" in text
    # The next charter's page still says what it did.
    other = GuestPage.objects.get(booking_id=upcoming.pk)
    assert "your charter is confirmed" in guest_text(stored(s3_guest_storage, other))

    # Once re-published after the end, the page is done: no second upload, then or later.
    moto_requests.clear()
    assert (
        republish_ended_pages.apply().get(disable_sync_subtasks=False)
        == "No guest page outlived by its charter."
    )
    later(booking.ends_at + timedelta(hours=5))
    assert (
        republish_ended_pages.apply().get(disable_sync_subtasks=False)
        == "No guest page outlived by its charter."
    )
    assert moto_requests == []


def test_the_batch_is_bounded_earliest_end_first(booking, dock, later):
    others = [
        booking_save(
            data=booking_data(
                dock, external_ref=f"BS-B{n}", starts_at=booking.starts_at + timedelta(days=n)
            ),
            via="test",
        ).booking
        for n in (1, 2)
    ]
    for b in (booking, *others):
        guest_page_publish(booking_id=b.pk)
    now = others[-1].ends_at + timedelta(minutes=1)
    assert pages_outlived(now=now, limit=2) == [booking.pk, others[0].pk]
    # Ended more than the look-back ago: left alone, however stale.
    assert pages_outlived(now=now, within=timedelta(days=1)) == [others[-1].pk]


def test_a_page_never_published_or_cancelled_is_not_picked(booking, dock):
    now = booking.ends_at + timedelta(minutes=1)
    assert pages_outlived(now=now) == []  # never published: the pipeline's to do
    guest_page_publish(booking_id=booking.pk)
    booking_save(data=booking_data(dock, status="cancelled"), via="test")
    assert pages_outlived(now=now) == []  # a cancelled charter's page never said confirmed
