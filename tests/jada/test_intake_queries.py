"""How many SQL statements one intake costs: creating the write-up's booking must not creep up."""

from __future__ import annotations

import pytest

from crew.models import Assignment, ChecklistItem
from jada.intake import booking_intake
from jada.models import StageRun
from tests.jada.intake_support import row_counts, write_up
from tests.vessels import default_vessel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fleet(db) -> None:
    """An existing fleet, as in production (a first booking ever would create the vessel)."""
    default_vessel()


# The write (booking_save): whether the key is on file, then one insert per table: booking, money,
# audit, crew event, three assignments, their six checklist items, guest page, run and its six
# stage rows; reads of the members and the checklist templates. Counted inside the test's
# transaction: its atomic block and booking_upsert's are savepoints here (four statements, two
# of them BEGIN and COMMIT in production).
# The vessel adds three: the default vessel, the no-double-booking check, the holds near it;
# on PostgreSQL two more, the savepoint the exclusion constraint's loser reads the winner from.
WRITE_QUERIES = 21
# The whole intake: the write, the dock and roster reads of the validation, and the warnings
# (the new assignments, shifts overlapping them, days their members marked away).
# And the external calendar holds' warnings: four for the vessel in all.
CREATE_QUERIES = 27
# The same booking again: read, lock, compare (the crew, and the open slots its body asked for,
# so dropping the last one withdraws it), write nothing (and the holds' warnings).
UNCHANGED_QUERIES = 20


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


def test_the_write_of_a_new_booking_is_one_insert_per_table(
    dock, roster, templates, django_assert_max_num_queries
):
    from jada.intake import intake_validate
    from jada.services import booking_save

    valid = intake_validate(write_up())
    with django_assert_max_num_queries(WRITE_QUERIES):
        saved = booking_save(data=valid.data, plan=valid.plan, via="api")
    assert saved.created and saved.run is not None
    assert row_counts()["ChecklistItem"] == 6 and row_counts()["StageRun"] == 6
