"""Crew changes made on crew's side reach the booking's audit log: a member's decline in the
portal (and one taken back), a member deactivated in the roster admin."""

from __future__ import annotations

from django.urls import reverse

from bookings.audit_format import change_lines
from bookings.models import AuditEntry
from crew.models import Assignment
from tests.helpers import signed_in


def entries(event) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(booking_id=event.booking_id).order_by("pk"))


def test_a_decline_in_the_portal_is_the_members_line_with_the_place_it_opens(event, roster):
    dana = roster["CREW_001"]
    client = signed_in(dana)
    url = reverse("crew-respond", args=[Assignment.objects.get(event=event, member=dana).pk])
    known = len(entries(event))

    assert client.post(url, {"answer": "decline", "reason": "Out of town"}).status_code == 302

    declined = entries(event)[known:]
    assert [change_lines(entry) for entry in declined] == [
        ["Crew: Dana Cole declined (deckhand)", "Crew: opened a deckhand slot in Dana Cole's place"]
    ]
    assert (declined[0].via, declined[0].actor, declined[0].who) == ("crew", None, "Dana Cole")
    # Taking the decline back closes the place again, also as the member's own change.
    assert client.post(url, {"answer": "accept"}).status_code == 302
    back = entries(event)[-1]
    assert change_lines(back) == [
        "Crew: Dana Cole's decline undone (deckhand)",
        "Crew: withdrew the deckhand slot",
    ]
    assert (back.via, back.who) == ("crew", "Dana Cole")


def test_an_acceptance_changes_no_one_on_the_charter_and_writes_nothing(event, roster):
    sam = roster["CREW_002"]
    url = reverse("crew-respond", args=[Assignment.objects.get(event=event, member=sam).pk])
    known = len(entries(event))
    assert signed_in(sam).post(url, {"answer": "accept"}).status_code == 302
    assert len(entries(event)) == known


def test_a_member_deactivated_in_the_admin_is_a_line_in_each_charters_log(
    client, alice, event, roster
):
    sam = roster["CREW_002"]
    client.force_login(alice)
    known = len(entries(event))
    response = client.post(
        reverse("admin:crew_crewmember_change", args=[sam.pk]),
        {"code": sam.code, "name": sam.name, "email": sam.email, "roles": sam.roles, "active": ""},
    )
    assert response.status_code == 302

    deactivated = entries(event)[known:]
    assert [change_lines(entry) for entry in deactivated] == [
        [
            "Crew: Sam Ortiz deactivated (deckhand)",
            "Crew: opened a deckhand slot in Sam Ortiz's place",
        ]
    ]
    assert (deactivated[0].via, deactivated[0].actor) == ("admin", alice)
    page = client.get(reverse("admin:bookings_booking_change", args=[event.booking_id]))
    assert "<li>Crew: Sam Ortiz deactivated (deckhand)</li>" in page.content.decode()
