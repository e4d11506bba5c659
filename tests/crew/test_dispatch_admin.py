"""The operator's side of dispatch: fill by state, open slots, offering, availability."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.core import mail
from django.urls import reverse

from crew.models import Assignment, AssignmentState, Offer, Slot, Unavailability
from crew.services import assignment_respond
from tests.factories import make_member
from tests.helpers import formset_data

NOW = datetime(2030, 5, 1, tzinfo=UTC)


def change_url(event) -> str:
    return reverse("admin:crew_crewevent_change", args=[event.pk])


def test_the_event_page_shows_fill_by_state_and_open_slots(staff, event):
    Assignment.objects.filter(member__code="CREW_001").update(state=AssignmentState.ACCEPTED)
    with_slot = Assignment.objects.get(member__code="CREW_002")
    assignment_respond(assignment=with_slot, accepted=False, reason="Sick", now=NOW)
    html = staff.get(change_url(event)).content.decode()
    assert "1 ✓ · 1 awaiting · 1 declined · 1 open · no accepted captain" in html
    assert 'class="crew-fill gap"' in html
    assert "Deckhand, call Thu 30 May 2030, 8:00 AM PDT (America/Los_Angeles): Declined" in html


def test_the_operator_adds_an_open_deckhand_slot_and_it_is_offered(
    staff,
    event,
    django_capture_on_commit_callbacks,
):
    make_member("CREW_007", "Kai Moss", "crew007@crew.example.com", ["deckhand"])
    data = {**formset_data(event, []), "auto_offer": "on", "add_slot": "deckhand"}
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(change_url(event), data, follow=True)
    assert "Open deckhand slot added, offered to 1 member(s)." in response.content.decode()
    slot = Slot.objects.get(event=event)
    assert (slot.origin, slot.role) == ("operator", "deckhand")
    assert [m.to for m in mail.outbox] == [["crew007@crew.example.com"]]


def test_offering_off_per_charter_then_offer_again(
    staff,
    event,
    django_capture_on_commit_callbacks,
):
    make_member("CREW_007", "Kai Moss", "crew007@crew.example.com", ["deckhand"])
    data = {**formset_data(event, []), "add_slot": "deckhand"}  # offering unticked
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(change_url(event), data)
    event.refresh_from_db()
    assert event.auto_offer is False and not Offer.objects.exists()
    data = {**formset_data(event, []), "offer_again": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(change_url(event), data, follow=True)
    assert "offered again to 1 member(s)" in response.content.decode()
    assert Offer.objects.get().member.code == "CREW_007"


def test_the_event_page_warns_of_a_member_away_that_day(staff, event, roster):
    Unavailability.objects.create(member=roster["CREW_002"], day=date(2030, 5, 30))
    html = staff.get(change_url(event)).content.decode()
    assert "Sam Ortiz (CREW_002) marked Thu 30 May 2030 as a day they cannot work" in html


def test_the_booking_page_shows_the_crew_fill(staff, event):
    url = reverse("admin:bookings_booking_change", args=[event.booking_id])
    html = staff.get(url).content.decode()
    assert "Crew: " in html and "0 ✓ · 3 awaiting · no accepted captain" in html


def test_the_operator_withdraws_the_open_slots_and_their_offers_close(
    staff,
    event,
    django_capture_on_commit_callbacks,
):
    from django.test import Client

    make_member("CREW_007", "Kai Moss", "crew007@crew.example.com", ["deckhand"])
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            change_url(event),
            {**formset_data(event, []), "auto_offer": "on", "add_slot": "deckhand"},
        )
    offer = Offer.objects.get()
    data = {**formset_data(event, []), "auto_offer": "on", "withdraw_slots": "on"}
    response = staff.post(change_url(event), data, follow=True)
    assert "1 open slot(s) withdrawn" in response.content.decode()
    page = Client().post(reverse("crew-offer", args=[offer.token]))
    assert page.status_code == 200 and b"no longer open" in page.content
    assert not Assignment.objects.filter(member__code="CREW_007").exists()
