"""Crew test helpers: charters with a roster planned through the pipeline's own entry point."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bookings.selectors import booking_operational
from crew.models import CrewEvent
from crew.services import PlannedAssignment, crew_event_sync
from jada.services import booking_save
from tests.conftest import booking_data

WRITEUP_PLAN = (
    PlannedAssignment("CAP_001", "captain"),
    PlannedAssignment("CREW_001", "deckhand", 300),
    PlannedAssignment("CREW_002", "deckhand"),
)


def charter(dock, plan: Sequence[PlannedAssignment] | None = WRITEUP_PLAN, **overrides):
    """Create or update a booking and sync its crew event with `plan`; returns the crew event."""
    booking = booking_save(data=booking_data(dock, **overrides), via="test").booking
    if plan is not None:
        crew_event_sync(booking=booking_operational(booking.pk), plan=plan)
    return CrewEvent.objects.get(booking_id=booking.pk)


@pytest.fixture
def event(db, dock, roster, templates) -> CrewEvent:
    """The write-up's charter with its captain and two deckhands (one on a 5-hour shift)."""
    return charter(dock)
