"""The guest's emails: one per version of what the page says, none when off or forbidden."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail
from icalendar import Calendar

from guests.models import GuestPage
from guests.services import guest_notify
from guests.storage import page_read
from jada.services import booking_save
from tests.factories import booking_data


@pytest.fixture(autouse=True)
def guest_domain(settings):
    settings.GUEST_SITE_URL = "https://queenofsandiego.com"


def ics_attachment(message) -> Calendar:
    [(name, content, mimetype)] = message.attachments
    calendar = Calendar.from_ical(content)
    # iMIP: the part's content type names the file's METHOD.
    assert name.endswith(".ics") and mimetype == f"text/calendar; method={calendar['method']}"
    return calendar


def test_the_guest_gets_one_confirmation_with_the_page_and_the_ics(booking):
    assert guest_notify(booking_id=booking.pk) is True

    page = GuestPage.objects.get(booking_id=booking.pk)
    [message] = mail.outbox
    assert message.to == ["jordan@guest.example.com"]
    assert message.subject == "Your charter on Thursday, May 30 is confirmed · Queen of San Diego"
    assert f"https://queenofsandiego.com/g/{page.session_id}" in message.body
    html = message.alternatives[0][0]
    assert f'href="https://queenofsandiego.com/g/{page.session_id}"' in html
    assert "9:00 AM PDT (America/Los_Angeles)" in message.body
    event = ics_attachment(message).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2030, 5, 30, 16, tzinfo=UTC)
    assert message.reply_to == ["hello@queenofsandiego.com"]
    assert message.from_email == "Queen of San Diego <charters@sailjada.com>"
    # The link works before the email leaves: the page was published first.
    assert b"Sheraton Hotel Dock" in page_read(page.object_name)
    assert page.emailed_hash and page.emailed_at


def test_a_caller_that_just_published_is_not_published_for_again(booking):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guests.services import guest_page_publish

    guest_page_publish(booking_id=booking.pk)
    page_path = GuestPage.objects.get(booking_id=booking.pk).object_name
    before = page_read(page_path)
    with CaptureQueriesContext(connection) as ctx:
        assert guest_notify(booking_id=booking.pk, published=True) is True
    # No second render: the page's row is read once, for the email's own bookkeeping.
    reads = [
        q
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT") and "guests_guestpage" in q["sql"]
    ]
    assert len(reads) == 1
    # The booking is read once too, under the page's lock (not also before it).
    bookings = [
        q
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "bookings_booking"' in q["sql"]
    ]
    assert len(bookings) == 1
    assert page_read(page_path) == before
    assert len(mail.outbox) == 1


def test_a_second_run_sends_nothing(booking):
    assert guest_notify(booking_id=booking.pk) is True
    assert guest_notify(booking_id=booking.pk) is False
    assert len(mail.outbox) == 1


def test_a_change_sends_an_update_with_a_newer_calendar_entry(dock, booking):
    guest_notify(booking_id=booking.pk)
    booking_save(
        data=booking_data(dock, starts_at=datetime(2030, 5, 30, 18, tzinfo=UTC)), via="test"
    )

    assert guest_notify(booking_id=booking.pk) is True
    assert guest_notify(booking_id=booking.pk) is False

    first, update = mail.outbox
    assert update.subject.startswith("Updated: your charter on Thursday, May 30")
    assert "11:00 AM PDT" in update.body
    assert ics_attachment(update).walk("VEVENT")[0]["sequence"] == 1
    assert ics_attachment(first).walk("VEVENT")[0]["sequence"] == 0


def test_a_cancellation_sends_a_notice(dock, booking):
    guest_notify(booking_id=booking.pk)
    booking_save(data=booking_data(dock, status="cancelled"), via="test")

    assert guest_notify(booking_id=booking.pk) is True

    notice = mail.outbox[-1]
    assert notice.subject.startswith("Cancelled: your charter on Thursday, May 30")
    assert "has been cancelled" in notice.body
    assert str(ics_attachment(notice).walk("VEVENT")[0]["status"]) == "CANCELLED"
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert b"Your charter has been cancelled" in page_read(page.object_name)


def test_a_charter_back_on_after_a_cancellation_is_confirmed_anew(dock, booking):
    guest_notify(booking_id=booking.pk)
    booking_save(data=booking_data(dock, status="cancelled"), via="test")
    guest_notify(booking_id=booking.pk)
    booking_save(data=booking_data(dock, status="confirmed"), via="test")

    assert guest_notify(booking_id=booking.pk) is True

    _, _, back_on = mail.outbox
    assert back_on.subject.startswith("Your charter on Thursday, May 30 is confirmed")
    assert str(ics_attachment(back_on).walk("VEVENT")[0]["status"]) != "CANCELLED"


def test_no_cancellation_notice_for_a_charter_the_guest_was_never_told_of(dock, roster, templates):
    booking = booking_save(data=booking_data(dock, status="cancelled"), via="test").booking
    assert guest_notify(booking_id=booking.pk) is False
    assert mail.outbox == []


def test_a_new_address_gets_the_email(dock, booking):
    guest_notify(booking_id=booking.pk)
    booking_save(data=booking_data(dock, guest_email="avery@guest.example.com"), via="test")
    assert guest_notify(booking_id=booking.pk) is True
    assert mail.outbox[-1].to == ["avery@guest.example.com"]


def test_guest_emails_can_be_turned_off(booking, settings):
    settings.GUEST_EMAILS_ENABLED = False
    assert guest_notify(booking_id=booking.pk) is False
    assert guest_notify(booking_id=booking.pk, force=True) is False
    # The pipeline's call, the page just published: refused under the page's lock alike.
    assert guest_notify(booking_id=booking.pk, published=True) is False
    assert mail.outbox == []


def test_marketplaces_that_forbid_contacting_guests_are_respected(booking, settings):
    settings.GUEST_EMAILS_BLOCKED_SOURCES = ["getmyboat", "boatsetter"]
    assert guest_notify(booking_id=booking.pk) is False
    assert guest_notify(booking_id=booking.pk, force=True) is False
    assert guest_notify(booking_id=booking.pk, published=True) is False
    assert mail.outbox == []


def test_other_sources_still_email(booking, settings):
    settings.GUEST_EMAILS_BLOCKED_SOURCES = ["getmyboat"]
    assert guest_notify(booking_id=booking.pk) is True


def test_no_address_no_email(dock, roster, templates):
    booking = booking_save(data=booking_data(dock, guest_email=""), via="test").booking
    assert guest_notify(booking_id=booking.pk) is False
    assert mail.outbox == []


def test_force_resends_the_current_email(booking):
    guest_notify(booking_id=booking.pk)
    assert guest_notify(booking_id=booking.pk, force=True) is True
    first, again = mail.outbox
    assert again.subject == first.subject and again.body == first.body


def test_the_email_says_nothing_the_page_does_not(booking):
    guest_notify(booking_id=booking.pk)
    [message] = mail.outbox
    for text in (message.subject, message.body, message.alternatives[0][0]):
        assert "guest briefing required" not in text  # crew notes
        assert "+1 555 0100" not in text  # the guest's own phone
        assert "crew.example.com" not in text
