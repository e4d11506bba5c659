"""The vessel reaches crew and guests only through the operational projection."""

from __future__ import annotations

from django.core import mail
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from bookings.selectors import booking_operational
from crew.models import CrewEvent
from guests.models import GuestPage
from jada.intake import booking_intake
from tests.jada.intake_support import write_up


def crew_mail(address: str):
    return [m for m in mail.outbox if address in m.to]


def ics_of(message) -> Calendar:
    (content,) = [c for _, c, mime in message.attachments if "calendar" in mime]
    return Calendar.from_ical(content)


def test_crew_see_the_vessel_name_and_guests_its_guest_facing_name(
    jada, queen, dock, roster, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_intake(payload=write_up(vessel="JADA"), via="api").booking

    projected = booking_operational(booking.pk)
    assert (projected.vessel_code, projected.vessel_name, projected.vessel_guest_name) == (
        "JADA",
        "Jada",
        "Jada of San Diego",
    )
    assert CrewEvent.objects.get(booking_id=booking.pk).vessel_name == "Jada"
    # The crew email: text, HTML and the ICS (whose LOCATION stays the dock).
    [message] = crew_mail("crew001@crew.example.com")
    assert "Vessel:     Jada" in message.body
    assert "Jada" in message.alternatives[0][0]
    (event,) = ics_of(message).walk("VEVENT")
    assert str(event["location"]).startswith("Sheraton Hotel Dock")
    assert "Vessel: Jada." in str(event["description"])
    # The crew card in the portal.
    client = Client()
    client.force_login(roster["CREW_001"].user, backend="sesame.backends.ModelBackend")
    portal = client.get(reverse("crew-portal")).content.decode()
    assert "<dt>Vessel</dt><dd>Jada</dd>" in portal
    # The guest page: the guest-facing name, not the crew's.
    page = GuestPage.objects.get(booking_id=booking.pk)
    html = Client().get(page.path).content.decode()
    assert "Jada of San Diego" in html


def test_moving_to_another_vessel_tells_the_crew(
    jada, queen, dock, roster, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking_intake(payload=write_up(vessel="JADA"), via="api")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_intake(payload=write_up(vessel="QUEEN"), via="api").booking
    assert CrewEvent.objects.get(booking_id=booking.pk).vessel_name == "Queen"
    [message] = crew_mail("crew001@crew.example.com")
    assert message.subject.startswith("Changed") and "Vessel:     Queen" in message.body
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert "Queen of the Bay" in Client().get(page.path).content.decode()
