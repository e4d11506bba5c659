"""A `crew_assignments` item without `crew_id` is an open slot of its role, offered to the crew."""

from __future__ import annotations

import pytest
from django.core import mail

from bookings.audit_format import change_lines
from bookings.models import AuditEntry
from crew import offers
from crew.models import Offer, Slot
from jada.models import PipelineRun
from tests.factories import make_member
from tests.jada.intake_support import new_token, post, write_up

pytestmark = pytest.mark.django_db

OPEN = [
    {"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5},
    {"role": "deckhand", "duration_hours": 5},
]


@pytest.fixture
def token(dock, roster, templates) -> str:
    make_member("CREW_003", "Alex Kim", "crew003@crew.example.com", ["deckhand"])
    return new_token()


def test_an_item_without_crew_id_is_an_open_slot_offered_at_once(
    client, token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, write_up(crew_assignments=OPEN), token=token)
    assert response.status_code == 201, response.json()
    slot = Slot.objects.get()
    assert (slot.origin, slot.role, slot.shift_minutes) == ("api", "deckhand", 300)
    # CREW_001 is on the charter already: CREW_002 and CREW_003 are offered it.
    offered = sorted(Offer.objects.values_list("member__code", flat=True))
    assert offered == ["CREW_002", "CREW_003"]
    assert {m.to[0] for m in mail.outbox if "Open shift" in m.subject} == {
        "crew002@crew.example.com",
        "crew003@crew.example.com",
    }
    assert [c["crew_id"] for c in response.json()["crew_assignments"]] == ["CREW_001"]


def test_the_same_open_slot_again_changes_nothing_even_once_taken(
    client, token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, write_up(crew_assignments=OPEN), token=token)
    runs = PipelineRun.objects.count()
    assert post(client, write_up(crew_assignments=OPEN), token=token).status_code == 200
    assert PipelineRun.objects.count() == runs and Slot.objects.count() == 1
    offer = Offer.objects.get(member__code="CREW_003")
    assert offers.offer_take(offer=offer).outcome == offers.TAKEN
    # The taker holds the slot: the same body neither removes them nor opens another.
    response = post(client, write_up(crew_assignments=OPEN), token=token)
    assert response.status_code == 200
    assert PipelineRun.objects.count() == runs and Slot.objects.count() == 1
    codes = sorted(c["crew_id"] for c in response.json()["crew_assignments"])
    assert codes == ["CREW_001", "CREW_003"]


def test_dropping_the_open_item_withdraws_the_slot_and_its_offers(
    client, token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, write_up(crew_assignments=OPEN), token=token)
    two = [*OPEN, {"role": "deckhand"}]
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, write_up(crew_assignments=two), token=token).status_code == 200
    assert Slot.objects.filter(withdrawn_at__isnull=True).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        post(client, write_up(crew_assignments=OPEN), token=token)
    assert Slot.objects.filter(withdrawn_at__isnull=True).count() == 1
    gone = Slot.objects.get(withdrawn_at__isnull=False)
    offer = Offer.objects.filter(slot=gone).first()
    assert offers.offer_take(offer=offer).outcome == offers.CLOSED
    # Dropping the last one withdraws it too.
    named = [OPEN[0]]
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, write_up(crew_assignments=named), token=token).status_code == 200
    assert not Slot.objects.filter(withdrawn_at__isnull=True).exists()


def test_the_openapi_document_says_crew_id_may_be_left_out(client):
    schema = client.get("/api/openapi.json").json()
    item = schema["components"]["schemas"]["CrewAssignmentRequest"]
    assert "crew_id" not in item.get("required", [])
    assert "open slot" in item["properties"]["crew_id"]["description"]


def test_a_member_away_that_day_is_a_warning_not_a_block(client, token, roster):
    from datetime import date

    from crew.models import Unavailability

    Unavailability.objects.create(member=roster["CREW_002"], day=date(2030, 5, 30))
    response = post(client, write_up(), token=token)
    assert response.status_code == 201
    warnings = response.json()["warnings"]
    assert any(w.startswith("Sam Ortiz (CREW_002) marked Thu 30 May 2030") for w in warnings)
    doc = client.get(f"/api/bookings/{response.json()['id']}", headers={"X-Dashboard-Token": token})
    assert doc.json()["warnings"] == warnings


def test_the_audit_log_says_the_api_opened_and_withdrew_a_slot_and_who_took_it(
    client, token, django_capture_on_commit_callbacks
):
    def crew_entry() -> list[str]:
        return change_lines(AuditEntry.objects.filter(changes__has_key="crew").latest("pk"))

    with django_capture_on_commit_callbacks(execute=True):
        post(client, write_up(crew_assignments=OPEN[:1]), token=token)
        post(client, write_up(crew_assignments=OPEN), token=token)
    assert crew_entry() == ["Crew: opened a deckhand slot"]
    assert AuditEntry.objects.latest("pk").via == "api"
    with django_capture_on_commit_callbacks(execute=True):
        offers.offer_take(offer=Offer.objects.get(member__code="CREW_003"))
    assert crew_entry() == ["Crew: Alex Kim took the deckhand slot"]
    assert AuditEntry.objects.latest("pk").who == "Alex Kim"
    more = [*OPEN, {"role": "deckhand", "duration_hours": 5}]
    with django_capture_on_commit_callbacks(execute=True):
        post(client, write_up(crew_assignments=more), token=token)
        post(client, write_up(crew_assignments=OPEN), token=token)
    assert crew_entry() == ["Crew: withdrew the deckhand slot"]
