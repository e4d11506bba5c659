"""Dispatch: a place left opens a slot, the operators hear of it, the roster gets offers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from crew import dispatch, offers
from crew.models import (
    Assignment,
    AssignmentState,
    CrewMember,
    Offer,
    Role,
    Slot,
    SlotOrigin,
    Unavailability,
)
from crew.services import PlannedAssignment, assignment_respond, crew_notify
from tests.factories import WRITEUP_PLAN, charter, make_member
from tests.vessels import other_vessel

START = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
NOW = START - timedelta(days=3)
OFFER_PATH = "/crew/offers/"


@pytest.fixture
def bench(roster):
    """More deckhands: one free, one away that day, one busy then, one inactive; a 2nd captain."""
    return {
        "CREW_003": make_member("CREW_003", "Alex Kim", "crew003@crew.example.com", ["deckhand"]),
        "CREW_004": make_member("CREW_004", "Jo Park", "crew004@crew.example.com", ["deckhand"]),
        "CREW_005": make_member("CREW_005", "Lee Wu", "crew005@crew.example.com", ["deckhand"]),
        "CREW_006": make_member("CREW_006", "Max Roe", "crew006@crew.example.com", ["deckhand"]),
        "CAP_002": make_member("CAP_002", "Rita Vega", "cap002@crew.example.com", ["captain"]),
    }


@pytest.fixture
def staged(dock, roster, templates, bench, django_capture_on_commit_callbacks):
    """The write-up's charter told to its crew; CREW_004 away that day, CREW_005 on another
    charter at the same time, CREW_006 off the roster."""
    with django_capture_on_commit_callbacks(execute=True):
        event = charter(dock)
        charter(
            dock,
            plan=[PlannedAssignment("CREW_005", "deckhand")],
            external_ref="BS-OTHER",
            starts_at=START + timedelta(hours=1),
            vessel=other_vessel(),  # the other boat: only the crew member is double-booked
        )
    Unavailability.objects.create(member=bench["CREW_004"], day=date(2030, 5, 30))
    CrewMember.objects.filter(code="CREW_006").update(active=False)
    crew_notify(event_id=event.pk)
    mail.outbox.clear()
    return event


def sent_to(prefix: str) -> list:
    return [m for m in mail.outbox if m.to and m.to[0].startswith(prefix)]


def offer_links() -> dict[str, str]:
    """Member email → the offer link of their offer email's text body."""
    links = {}
    for message in mail.outbox:
        for line in message.body.splitlines():
            if OFFER_PATH in line:
                links[message.to[0]] = line.strip()
    return links


def respond(staged, code, capture, *, accepted=False, reason="", now=NOW):
    assignment = Assignment.objects.get(event=staged, member__code=code)
    with capture(execute=True):
        assignment_respond(assignment=assignment, accepted=accepted, reason=reason, now=now)
    return assignment


def test_a_decline_tells_the_operators_and_offers_the_slot_to_exactly_the_eligible(
    staged, django_capture_on_commit_callbacks
):
    respond(staged, "CREW_002", django_capture_on_commit_callbacks, reason="Family dinner")
    slot = Slot.objects.get(event=staged)
    assert (slot.origin, slot.role, slot.vacated_by.code) == ("declined", "deckhand", "CREW_002")
    # CREW_001 is on the charter, CREW_004 away that day, CREW_005 busy then, CREW_006
    # inactive, CAP_002 a captain: only CREW_003 is offered the shift.
    assert [o.member.code for o in Offer.objects.filter(slot=slot)] == ["CREW_003"]
    [operator] = sent_to("operator@")
    assert "declined" in operator.subject
    for text in (operator.body, operator.alternatives[0][0]):
        assert "Sam Ortiz (CREW_002)" in text
        assert "Boatsetter BS-2024-0530" in text
        assert "Thu 30 May 2030, 9:00 AM PDT (America/Los_Angeles)" in text
        assert "Sheraton Hotel Dock" in text
        assert "Deckhand" in text
        assert "Family dinner" in text
        assert "offered to 1 member(s): Alex Kim (CREW_003)" in text
    [offer_email] = sent_to("crew003@")
    assert "Open shift" in offer_email.subject and "PDT" in offer_email.subject
    link = offer_links()["crew003@crew.example.com"]
    assert link.startswith("http://") and OFFER_PATH in link
    assert "America/Los_Angeles" in offer_email.body
    assert len(mail.outbox) == 2


def test_the_first_take_wins_and_the_rest_are_told_it_is_gone(
    staged, bench, django_capture_on_commit_callbacks
):
    CrewMember.objects.filter(code="CREW_006").update(active=True)
    respond(staged, "CREW_002", django_capture_on_commit_callbacks, reason="Sick")
    links = offer_links()
    assert set(links) == {"crew003@crew.example.com", "crew006@crew.example.com"}
    mail.outbox.clear()
    client = Client()
    path = links["crew003@crew.example.com"].removeprefix("http://127.0.0.1:8000")
    page = client.get(path)
    assert page.status_code == 200 and b"Take this shift" in page.content
    assert not Slot.objects.get(event=staged).filled_at  # GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        taken = client.post(path)
    assert taken.status_code == 200 and b"It's yours" in taken.content
    assert b"/crew/login/?t=" in taken.content  # the way on to the portal
    alex = Assignment.objects.get(event=staged, member__code="CREW_003")
    assert (alex.state, alex.role) == (AssignmentState.ACCEPTED, Role.DECKHAND)
    assert {i.text for i in alex.checklist_items.all()} == {"Brief 4 guests", "Secure fenders"}
    [invitation] = sent_to("crew003@")
    ics = invitation.attachments[0][1]
    assert "METHOD:REQUEST" in ics and "PARTSTAT=ACCEPTED" in ics
    [filled] = sent_to("operator@")
    assert "filled" in filled.subject and "Alex Kim (CREW_003)" in filled.body
    # Nobody else on the charter was emailed about it.
    assert len(mail.outbox) == 2
    other = links["crew006@crew.example.com"].removeprefix("http://127.0.0.1:8000")
    late = Client().post(other)
    assert late.status_code == 200 and b"This shift has been taken" in late.content
    assert Assignment.objects.filter(event=staged, member__code="CREW_006").count() == 0
    # Taking it again changes nothing and says it is theirs.
    assert b"It's yours" in client.post(path).content
    assert Assignment.objects.filter(event=staged, removed_at__isnull=True).count() == 4


def test_offers_die_with_the_slot_and_the_charter(staged, dock, django_capture_on_commit_callbacks):
    respond(staged, "CREW_002", django_capture_on_commit_callbacks)
    offer = Offer.objects.get()
    path = reverse("crew-offer", args=[offer.token])
    slot = offer.slot
    assert dispatch.slot_withdraw(slot=slot)
    response = Client().post(path)
    assert response.status_code == 200 and b"no longer open" in response.content
    Slot.objects.filter(pk=slot.pk).update(withdrawn_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        charter(dock, plan=None, status="cancelled")
    assert b"no longer open" in Client().post(path).content
    assert offers.offer_take(offer=offer, now=NOW).outcome == offers.CLOSED
    assert not Assignment.objects.filter(member__code="CREW_003").exists()


def test_an_offer_dies_when_the_charter_starts(staged, django_capture_on_commit_callbacks):
    respond(staged, "CREW_002", django_capture_on_commit_callbacks)
    offer = Offer.objects.get()
    assert offers.offer_take(offer=offer, now=START + timedelta(minutes=1)).outcome == "closed"
    assert offers.offer_take(offer=offer, now=START - timedelta(minutes=1)).outcome == "taken"


def test_an_unknown_offer_token_is_a_404(db, client):
    response = client.get(reverse("crew-offer", args=["not-a-token"]))
    assert response.status_code == 404
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_offer_page_costs_a_pinned_number_of_queries(
    staged, django_assert_num_queries, django_capture_on_commit_callbacks
):
    respond(staged, "CREW_002", django_capture_on_commit_callbacks)
    path = reverse("crew-offer", args=[Offer.objects.get().token])
    client = Client()
    with django_assert_num_queries(1):
        assert client.get(path).status_code == 200


def test_fan_out_costs_the_same_queries_for_2_and_200_members(staged):
    def fan_out_queries(extra: int, ref: str) -> int:
        for n in range(extra):
            code = f"X{ref}{n:03d}"
            make_member(code, f"Extra {code}", f"{code.lower()}@crew.example.com", ["deckhand"])
        slot = Slot.objects.create(
            event=staged,
            role="deckhand",
            call_at=START - timedelta(hours=1),
            shift_minutes=300,
            origin=SlotOrigin.OPERATOR,
        )
        slot.event = staged
        with CaptureQueriesContext(connection) as queries:
            made = dispatch.slot_fan_out(slot=slot, now=NOW)
        inserts = [q for q in queries if q["sql"].startswith("INSERT")]
        return len(made), len(queries), len(inserts)

    few, few_queries, few_inserts = fan_out_queries(1, "A")  # CREW_003 and XA000
    many, many_queries, many_inserts = fan_out_queries(198, "B")  # and 198 more
    assert (few, many) == (2, 200)
    # The members (one query), the offers' insert, the slot's offered_at.
    assert few_queries - few_inserts == many_queries - many_inserts == 2
    if connection.vendor == "postgresql":
        assert few_queries == many_queries == 3
    else:
        # SQLite caps a statement at 999 parameters, so Django splits the insert there.
        assert few_inserts == 1 and many_inserts <= 2


def test_a_removal_opens_the_slot_unless_the_plan_fills_the_role(
    staged, dock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        charter(dock, plan=[PlannedAssignment("CAP_001", "captain"), WRITEUP_PLAN[1]])
    slot = Slot.objects.get(event=staged)
    assert (slot.origin, slot.vacated_by.code) == ("removed", "CREW_002")
    [operator] = sent_to("operator@")
    assert "removed" in operator.subject and "Sam Ortiz (CREW_002)" in operator.body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        charter(
            dock,
            plan=[
                PlannedAssignment("CAP_001", "captain"),
                PlannedAssignment("CREW_003", "deckhand"),
            ],
        )
    # CREW_001 went and CREW_003 came in the same role: no new slot, no "removed" email.
    assert Slot.objects.filter(event=staged).count() == 1
    assert sent_to("operator@") == []


def test_deactivating_a_member_opens_their_places(staged, roster):
    opened = dispatch.member_deactivated(member=roster["CREW_001"], now=NOW)
    assert [(s.origin, s.vacated_by.code) for s in opened] == [("deactivated", "CREW_001")]


def test_accepting_after_a_decline_closes_the_slot_unless_it_was_taken(
    staged, django_capture_on_commit_callbacks
):
    respond(staged, "CREW_002", django_capture_on_commit_callbacks)
    respond(staged, "CREW_002", django_capture_on_commit_callbacks, accepted=True)
    slot = Slot.objects.get(event=staged)
    assert slot.withdrawn_at is not None
    respond(staged, "CREW_001", django_capture_on_commit_callbacks)
    offer = Offer.objects.get(slot__vacated_by__code="CREW_001")
    assert offers.offer_take(offer=offer, now=NOW).outcome == offers.TAKEN
    from crew.services import NotAllowed

    with pytest.raises(NotAllowed, match="taken"):
        respond(staged, "CREW_001", django_capture_on_commit_callbacks, accepted=True)
    assert Assignment.objects.get(member__code="CREW_001").state == AssignmentState.DECLINED


@pytest.mark.parametrize("switch", ["setting", "charter"])
def test_with_offering_off_the_slot_waits_for_the_operator(
    staged, switch, django_capture_on_commit_callbacks
):
    if switch == "charter":
        dispatch.event_offering_set(event=staged, on=False)
        respond(staged, "CREW_002", django_capture_on_commit_callbacks)
    else:
        with override_settings(CREW_AUTO_OFFER=False):
            respond(staged, "CREW_002", django_capture_on_commit_callbacks)
    assert not Offer.objects.exists()
    [operator] = mail.outbox
    assert "Offering is off for this charter: the slot waits for you" in operator.body
    mail.outbox.clear()
    # The operator offers it after all.
    with django_capture_on_commit_callbacks(execute=True):
        count = dispatch.slot_reoffer(slot=Slot.objects.get())
    assert count == 1 and [m.to for m in mail.outbox] == [["crew003@crew.example.com"]]


def test_a_decline_after_the_charter_opens_nothing(staged, django_capture_on_commit_callbacks):
    respond(staged, "CREW_002", django_capture_on_commit_callbacks, now=START + timedelta(hours=1))
    assert not Slot.objects.exists() and mail.outbox == []


def test_the_operator_adds_an_open_slot(staged, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        slot = dispatch.slot_add(event=staged, role="deckhand", now=NOW)
    assert slot.origin == "operator" and slot.call_at == START - timedelta(hours=1)
    assert [m.to for m in mail.outbox] == [["crew003@crew.example.com"]]  # no operator email


def test_a_large_roster_is_emailed_in_batches_each_once(staged, django_capture_on_commit_callbacks):
    for n in range(59):
        make_member(f"XB{n:03d}", f"Extra {n}", f"xb{n:03d}@crew.example.com", ["deckhand"])
    with django_capture_on_commit_callbacks(execute=True) as queued:
        slot = dispatch.slot_add(event=staged, role="deckhand", now=NOW)
    assert len(queued) == 3  # 60 offers, 25 a task
    assert len(mail.outbox) == 60 and len({m.to[0] for m in mail.outbox}) == 60
    assert offers.offers_send(slot_id=slot.pk) == 0  # nothing twice


def test_deactivation_tells_the_operators_the_member_was_removed(
    staged, roster, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.member_deactivated(member=roster["CREW_001"], now=NOW)
    [operator] = sent_to("operator@")
    assert "removed" in operator.subject and "Dana Cole (CREW_001)" in operator.body
    assert "no longer on the roster" in operator.body
