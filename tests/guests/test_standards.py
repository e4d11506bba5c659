"""What mail and calendar clients check in the guest's emails and calendar entries."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from django.core import mail
from icalendar import Calendar

from bookings.services import booking_upsert
from guests.models import GuestPage
from guests.services import guest_notify, guest_page_publish
from guests.storage import page_read
from jada.services import booking_save
from tests.factories import booking_data
from tests.helpers import page_ics_of as ics_of


@pytest.fixture(autouse=True)
def guest_domain(settings):
    settings.GUEST_SITE_URL = "https://queenofsandiego.com"


def calendar_part(message) -> tuple[str, Calendar]:
    """The calendar part as sent: its Content-Type header and the file it carries."""
    [part] = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    return part["Content-Type"], Calendar.from_ical(part.get_payload(decode=True))


def organizers(calendar: Calendar) -> list[str]:
    [event] = calendar.walk("VEVENT")
    values = event.get("organizer")
    values = values if isinstance(values, list) else [values] if values else []
    return [str(value) for value in values]


def test_the_page_link_and_the_email_publish_with_exactly_one_organizer(booking):
    guest_notify(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    linked = Calendar.from_ical(ics_of(page_read(page.object_name).decode()))
    content_type, attached = calendar_part(mail.outbox[0])

    for calendar in (linked, attached):
        assert str(calendar["method"]) == "PUBLISH"
        assert organizers(calendar) == ["mailto:charters@sailjada.com"]
    assert ics_of(page_read(page.object_name).decode()).count(b"ORGANIZER") == 1
    assert 'method="PUBLISH"' in content_type or "method=PUBLISH" in content_type


def test_a_cancellation_is_sent_as_a_cancel_named_in_the_content_type(dock, booking):
    guest_notify(booking_id=booking.pk)
    booking_upsert(data=booking_data(dock, status="cancelled"), via="test")
    guest_notify(booking_id=booking.pk)

    content_type, calendar = calendar_part(mail.outbox[-1])

    assert str(calendar["method"]) == "CANCEL"
    assert "method=CANCEL" in content_type.replace('"', "")
    [event] = calendar.walk("VEVENT")
    assert organizers(calendar) == ["mailto:charters@sailjada.com"]
    assert event["sequence"] == 1 and str(event["status"]) == "CANCELLED"
    # The page's own link stays a PUBLISH of the cancelled event.
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert b"METHOD:PUBLISH" in ics_of(page_read(page.object_name).decode())


def test_the_subject_is_plain_text_not_html(booking, settings):
    settings.GUEST_BRAND_NAME = "Ñandú & Co's"
    guest_notify(booking_id=booking.pk)
    [message] = mail.outbox
    assert message.subject == "Your charter on Thursday, May 30 is confirmed · Ñandú & Co's"


def test_guest_emails_say_they_are_automatic_and_fit_a_phone(dock, booking):
    guest_notify(booking_id=booking.pk)
    booking_upsert(data=booking_data(dock, guest_count=6), via="test")
    guest_notify(booking_id=booking.pk)
    booking_upsert(data=booking_data(dock, status="cancelled"), via="test")
    guest_notify(booking_id=booking.pk)

    assert len(mail.outbox) == 3
    for message in mail.outbox:
        assert message.message()["Auto-Submitted"] == "auto-generated"
        [(html, _)] = message.alternatives
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_dtstamp_is_the_time_of_each_version(dock, booking):
    def stamps() -> tuple[datetime, datetime, datetime]:
        page = GuestPage.objects.get(booking_id=booking.pk)
        linked = Calendar.from_ical(ics_of(page_read(page.object_name).decode()))
        _, attached = calendar_part(mail.outbox[-1])
        return (
            linked.walk("VEVENT")[0].decoded("dtstamp"),
            attached.walk("VEVENT")[0].decoded("dtstamp"),
            page.revised_at.replace(microsecond=0),
        )

    guest_notify(booking_id=booking.pk)
    first_link, first_mail, first_version = stamps()
    assert first_link == first_mail == first_version
    time.sleep(1.1)  # DTSTAMP counts whole seconds
    guest_page_publish(booking_id=booking.pk, force=True)  # the same version, published again
    assert stamps()[0] == first_version

    booking_save(data=booking_data(dock, guest_count=6), via="test")
    guest_notify(booking_id=booking.pk)

    second_link, second_mail, second_version = stamps()
    assert second_link == second_mail == second_version
    assert second_version > first_version
