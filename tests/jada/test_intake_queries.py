"""How many SQL statements one intake costs: creating the write-up's booking must not creep up."""

from __future__ import annotations

import pytest

from crew.models import Assignment, ChecklistItem
from jada.intake import booking_intake
from jada.models import StageRun
from tests.jada.intake_support import row_counts, write_up

pytestmark = pytest.mark.django_db

# Reads: the dock, the roster codes, whether the key is on file, the members, the checklist
# templates and the overlap check. Inserts, one per table: booking, money, audit, crew event,
# three assignments, their six checklist items, guest page, run and its six stage rows.
# Counted inside the test's transaction, so the intake's own atomic block is a savepoint here
# (two statements that production does not have).
CREATE_QUERIES = 20
# The same booking again: read, lock, compare, write nothing.
UNCHANGED_QUERIES = 18


def test_creating_the_write_up_booking_stays_within_its_query_budget(
    dock, roster, templates, django_assert_max_num_queries
):
    with django_assert_max_num_queries(CREATE_QUERIES):
        result = booking_intake(payload=write_up(), via="api")

    assert result.outcome == "created"
    counts = row_counts()
    assert counts["Assignment"] == 3
    # Captain: every-role brief + fuel; each deckhand: brief + fenders.
    assert counts["ChecklistItem"] == 6
    assert counts["StageRun"] == 6
    assert sorted(Assignment.objects.values_list("member__code", "role", "shift_minutes")) == [
        ("CAP_001", "captain", 300),
        ("CREW_001", "deckhand", 300),
        ("CREW_002", "deckhand", 300),
    ]
    assert sorted(ChecklistItem.objects.values_list("assignment__member__code", "text")) == [
        ("CAP_001", "Brief 4 guests"),
        ("CAP_001", "Check fuel"),
        ("CREW_001", "Brief 4 guests"),
        ("CREW_001", "Secure fenders"),
        ("CREW_002", "Brief 4 guests"),
        ("CREW_002", "Secure fenders"),
    ]
    assert StageRun.objects.filter(run=result.run).count() == 6


def test_the_same_booking_again_costs_few_queries_and_writes_nothing(
    dock, roster, templates, django_assert_max_num_queries
):
    booking_intake(payload=write_up(), via="api")
    before = row_counts()

    with django_assert_max_num_queries(UNCHANGED_QUERIES):
        again = booking_intake(payload=write_up(), via="api")

    assert again.outcome == "unchanged"
    assert row_counts() == before
