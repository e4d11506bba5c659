"""The guest's "updated" email says what changed; a page after the charter never says confirmed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bookings.models import Dock
from guests.services import guest_notify
from jada.services import booking_save
from tests.factories import booking_data
from tests.helpers import rendered_for


@pytest.fixture(autouse=True)
def guest_domain(settings):
    settings.GUEST_SITE_URL = "https://queenofsandiego.com"


def test_the_update_lists_each_change_with_what_it_was(dock, booking):
    assert guest_notify(booking_id=booking.pk)
    marina = Dock.objects.create(name="Marina Dock", address="1 Marina Way")
    booking_save(
        data=booking_data(marina, starts_at=datetime(2030, 5, 30, 17, tzinfo=UTC), guest_count=6),
        via="test",
    )
    assert guest_notify(booking_id=booking.pk)
    update = mail.outbox[-1]
    assert update.subject.startswith("Updated: your charter on Thursday, May 30")
    for line in (
        "- Boarding time: 10:00 AM PDT (was 9:00 AM PDT)",
        "- Guests: 6 (was 4)",
        "- Dock: Marina Dock, 1 Marina Way (was Sheraton Hotel Dock, "
        "1380 Harbor Island Dr, San Diego, CA 92101)",
    ):
        assert line in update.body, update.body
    assert "Date:" not in update.body.split("Here is the up-to-date version")[0]
    html = update.alternatives[0][0]
    assert "<li>Boarding time: 10:00 AM PDT (was 9:00 AM PDT)</li>" in html


def test_a_new_date_is_named(dock, booking):
    guest_notify(booking_id=booking.pk)
    booking_save(data=booking_data(dock, starts_at=datetime(2030, 5, 31, 16, tzinfo=UTC)), via="t")
    guest_notify(booking_id=booking.pk)
    body = mail.outbox[-1].body
    assert "- Date: Friday, May 31, 2030 (was Thursday, May 30, 2030)" in body
    assert "Boarding time" not in body.split("Here is the up-to-date version")[0]


def test_a_page_rendered_after_the_charter_does_not_say_confirmed(dock, roster, templates):
    past = booking_save(
        data=booking_data(dock, starts_at=timezone.now() - timedelta(days=1)), via="test"
    ).booking
    _, rendered = rendered_for(past)
    html = rendered.html.decode()
    # What the guest reads (the calendar file inside the page keeps its machine STATUS field).
    text = re.sub(r'href="data:[^"]*"', "", html)
    assert "confirmed" not in text.lower()
    assert "This charter has taken place" in html


def test_the_charter_length_is_named_as_everywhere_else(dock, booking):
    guest_notify(booking_id=booking.pk)
    first = mail.outbox[-1]
    booking_save(data=booking_data(dock, duration_minutes=240), via="test")
    guest_notify(booking_id=booking.pk)
    update = mail.outbox[-1]
    assert "- Charter length: 4 hours (was 3 hours)" in update.body, update.body
    _, rendered = rendered_for(booking)
    page = rendered.html.decode()
    assert "<dt>Charter length</dt><dd>4 hours, back by" in page
    for text in (first.body, first.alternatives[0][0], update.body, page):
        assert "Charter length" in text and "Duration" not in text
