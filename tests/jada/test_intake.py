"""`jada.intake.booking_intake`: the one service behind the API, the CSV import and the demo."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from bookings.models import AuditEntry, Booking
from crew.services import PlannedAssignment
from jada import pipeline, services
from jada.intake import IntakeRejected, booking_intake, load_json
from jada.models import PipelineRun
from jada.services import crew_plan_differs
from tests.jada.intake_support import row_counts, write_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(dock, roster, templates) -> None:
    pass


def test_outcomes_are_created_updated_unchanged(ready, alice):
    first = booking_intake(payload=write_up(), by=alice, via="api")
    assert first.outcome == "created" and first.run is not None
    assert AuditEntry.objects.get().actor == alice

    again = booking_intake(payload=write_up(), via="api")
    assert again.outcome == "unchanged" and again.run is None

    changed = booking_intake(payload=write_up(notes="Bring sunscreen"), via="api")
    assert changed.outcome == "updated" and changed.changed == {"notes"}
    assert changed.run is not None


def test_a_crew_only_change_is_an_update_with_a_run(ready):
    booking_intake(payload=write_up(), via="api")
    result = booking_intake(payload=write_up(captain_id=None), via="api")
    assert result.outcome == "updated"
    assert result.crew_changed and not result.changed
    assert "assignments" in result.run.changed


def test_python_floats_go_through_their_shortest_repr_never_float_arithmetic(ready):
    result = booking_intake(payload=write_up(gross_revenue=840.75, crew_cost=250.0), via="api")
    financials = result.booking.financials
    assert financials.gross_revenue == Decimal("840.75")
    assert financials.fee == Decimal("151.34")
    assert financials.net_revenue == Decimal("289.41")


def test_json_numbers_are_parsed_as_decimal():
    assert load_json(b'{"gross_revenue": 840.75}') == {"gross_revenue": Decimal("840.75")}
    # 0.1 + 0.2 in binary floating point is 0.30000000000000004; in Decimal it is 0.3.
    parsed = load_json('{"a": 0.1, "b": 0.2}')
    assert parsed["a"] + parsed["b"] == Decimal("0.3")


def test_the_race_for_a_new_booking_is_retried_as_an_update(ready, monkeypatch):
    """The loser of the insert race (unique constraint) retries and finds the winner's row."""
    real = services.booking_upsert
    calls = []

    def lose_the_race_once(**kwargs):
        calls.append(kwargs["via"])
        if len(calls) == 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        if len(calls) == 2:
            # What the other request committed meanwhile (its booking row, without crew).
            real(**{**kwargs, "via": "winner"})
        return real(**kwargs)

    monkeypatch.setattr(services, "booking_upsert", lose_the_race_once)
    result = booking_intake(payload=write_up(), via="api")

    assert calls == ["api", "api"]
    assert not result.created
    assert result.crew_changed  # the loser's crew plan is applied to the winner's row
    assert result.booking.pk == Booking.objects.get().pk


def test_it_gives_up_after_repeated_integrity_errors(ready, monkeypatch):
    def always(**kwargs):
        raise IntegrityError("something else is wrong")

    monkeypatch.setattr(services, "booking_upsert", always)
    before = row_counts()
    with pytest.raises(IntegrityError):
        booking_intake(payload=write_up(), via="api")
    assert row_counts() == before


def test_the_ledgers_own_validation_is_reported_by_payload_field(ready, monkeypatch):
    def invalid(**kwargs):
        raise ValidationError({"guest_count": ["Too many."], "fee_percent": ["Nope."]})

    monkeypatch.setattr(services, "booking_upsert", invalid)
    with pytest.raises(IntakeRejected) as caught:
        booking_intake(payload=write_up(), via="api")
    assert caught.value.errors == {"guest.count": ["Too many."], "port_fee_percent": ["Nope."]}


def test_a_failure_after_the_booking_is_saved_rolls_everything_back(ready, monkeypatch):
    def broken_pipeline(*args, **kwargs):
        raise RuntimeError("crew service down")

    monkeypatch.setattr(pipeline, "start", broken_pipeline)
    before = row_counts()
    with pytest.raises(RuntimeError):
        booking_intake(payload=write_up(), via="api")
    assert row_counts() == before


def test_overlapping_shifts_are_warned_about_but_saved(ready):
    booking_intake(payload=write_up(), via="api")
    # 12:30: the vessel is free again after its turnaround; the 5-hour shifts are not.
    result = booking_intake(
        payload=write_up(external_ref="BS-OTHER", start_time="12:30"), via="api"
    )
    assert result.created
    assert result.warnings
    assert any("CREW_001" in w for w in result.warnings)


def test_back_to_back_shifts_are_not_warned_about(ready):
    booking_intake(payload=write_up(), via="api")
    # First shift: 08:00 to 13:00 (an hour's call before 09:00, 5 hours); this one starts at
    # 14:00 with its call at 13:00.
    crew = [{"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5}]
    result = booking_intake(
        payload=write_up(
            external_ref="BS-LATER", start_time="14:00", captain_id=None, crew_assignments=crew
        ),
        via="api",
    )
    assert result.warnings == []


def test_crew_plan_differs(ready):
    booking = booking_intake(payload=write_up(), via="api").booking
    same = (
        PlannedAssignment("CAP_001", "captain"),
        PlannedAssignment("CREW_001", "deckhand", 300),
        PlannedAssignment("CREW_002", "deckhand", 300),
    )
    check = dict(booking_id=booking.pk, duration_minutes=180)
    assert not crew_plan_differs(plan=None, **check)
    assert not crew_plan_differs(plan=same, **check)
    # The captain's default shift is the charter plus an hour either side.
    assert crew_plan_differs(plan=same, booking_id=booking.pk, duration_minutes=240)
    assert crew_plan_differs(plan=same[:2], **check)
    assert crew_plan_differs(plan=(*same[:2], PlannedAssignment("CREW_002", "mate", 300)), **check)
    assert crew_plan_differs(plan=same, booking_id=booking.pk + 1000, duration_minutes=180)


def test_same_data_twice_adds_no_pipeline_run(ready):
    booking_intake(payload=write_up(), via="api")
    booking_intake(payload=write_up(), via="csv")
    assert PipelineRun.objects.count() == 1
