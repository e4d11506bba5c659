"""Many payloads at once (the CSV import): batches give exactly what the API gives one by one."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from bookings.models import AuditEntry, Booking
from crew.models import Assignment, ChecklistItem, CrewEvent, Slot
from guests.models import GuestPage
from jada import importing
from jada.importing import intake_many
from jada.intake import IntakeRejected, booking_intake
from jada.models import PipelineRun, StageRun
from tests.jada.intake_support import row_counts, write_up
from tests.vessels import default_vessel, other_vessel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fleet(db) -> None:
    """Jada (the default) and a second boat, for charters at one time."""
    default_vessel()
    other_vessel()


class Rollback(Exception):
    pass


def outcome_text(outcome: Any) -> str:
    if isinstance(outcome, IntakeRejected):
        return f"rejected {outcome.errors}"
    booking = outcome.booking
    assignments = sorted(
        Assignment.objects.filter(event__booking_id=booking.pk).values_list(
            "member__code", "role", "call_at", "shift_minutes", "removed_at"
        )
    )
    items = sorted(
        ChecklistItem.objects.filter(assignment__event__booking_id=booking.pk).values_list(
            "assignment__member__code", "text", "position", "obsolete"
        )
    )
    run = outcome.run
    stages = sorted(StageRun.objects.filter(run=run).values_list("stage", "state", "detail"))
    return repr(
        (
            outcome.outcome,
            booking.external_ref,
            sorted(outcome.changed),
            outcome.money_changed,
            outcome.crew_changed,
            outcome.warnings,
            assignments,
            items,
            run and (run.reason, run.changed),
            stages,
            list(AuditEntry.objects.filter(booking=booking).values_list("action", "changes")),
            CrewEvent.objects.filter(booking_id=booking.pk).values_list("title", "version").get(),
            sorted(
                Slot.objects.filter(event__booking_id=booking.pk).values_list("role", "call_at")
            ),
            GuestPage.objects.filter(booking_id=booking.pk).count(),
        )
    )


def one_by_one(payloads: list[dict]) -> list[str]:
    """What the API gives for each payload in turn (then rolled back)."""
    texts = []
    try:
        with transaction.atomic():
            for payload in payloads:
                try:
                    texts.append(outcome_text(booking_intake(payload=payload, via="csv")))
                except IntakeRejected as e:
                    texts.append(outcome_text(e))
            raise Rollback
    except Rollback:
        pass
    return texts


def in_batches(payloads: list[dict]) -> list[str]:
    # Read as each comes (as the import reports it), before the rows after it are saved.
    texts = [
        (tag, outcome_text(outcome)) for tag, outcome in intake_many(enumerate(payloads), via="csv")
    ]
    assert [tag for tag, _ in texts] == list(range(len(payloads)))
    return [text for _, text in texts]


def mixed_file() -> list[dict]:
    """New bookings, one named twice, one on file, rejections, overlapping and cancelled crews."""
    later = {"charter_date": "2030-05-31"}
    return [
        write_up(external_ref="B-1"),
        write_up(external_ref="B-2", vessel="QUEEN"),  # same crew, same time as B-1: overlaps it
        write_up(external_ref="B-3", gross_revenue="lots"),
        write_up(external_ref="B-1", guest={"name": "Ann", "count": 6}),  # B-1 again
        write_up(external_ref="ON-FILE", **later),  # on file: updated
        write_up(external_ref="B-4", location="Nowhere"),
        write_up(external_ref="B-5", status="cancelled", **later),
        write_up(
            external_ref="B-6", charter_date="2030-06-02", crew_assignments=[], captain_id=None
        ),
        write_up(external_ref="B-7", vessel="QUEEN", **later),  # overlaps ON-FILE's crew
        write_up(  # no crew named
            external_ref="B-8", charter_date="2030-06-03", crew_assignments=None, captain_id=None
        ),
        write_up(external_ref="B-1"),  # back as it was
        write_up(external_ref="B-9", charter_date="2030-06-01"),
        write_up(
            external_ref="B-10",
            charter_date="2030-06-04",
            crew_assignments=[{"role": "deckhand"}],
            captain_id=None,
        ),
    ]


@pytest.mark.parametrize("batch_size", [2, 3, 500])
def test_batches_give_what_the_api_gives_one_by_one(dock, roster, templates, batch_size):
    booking_intake(
        payload=write_up(
            external_ref="ON-FILE", charter_date="2030-05-28", guest={"name": "X", "count": 2}
        ),
        via="api",
    )
    payloads = mixed_file()
    expected = one_by_one(payloads)
    importing.BATCH_SIZE, size = batch_size, importing.BATCH_SIZE
    try:
        assert in_batches(payloads) == expected
    finally:
        importing.BATCH_SIZE = size
    assert "created" in expected[0] and "updated" in expected[3] and "rejected" in expected[2]
    assert "overlaps Charter · Boatsetter B-1" in expected[1]
    assert "overlaps Charter · Boatsetter B-2" not in expected[0]
    assert "[('deckhand', datetime" in expected[-1]  # B-10's open slot


# PostgreSQL only: SQLite caps the variables of one statement, so Django splits a bulk insert of
# many rows into several statements there; the rule is about the batch, not that cap.
@pytest.mark.postgres
def test_new_bookings_cost_the_same_statements_however_many(dock, roster, templates):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite splits a bulk insert by its cap on variables per statement")

    def statements(count: int, first: int, month: str) -> int:
        payloads = [
            # A day each (one vessel, one charter at a time), in a month of their own.
            write_up(external_ref=f"N-{first + i}", charter_date=f"2031-{month}-{1 + i:02}")
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            outcomes = list(intake_many(enumerate(payloads), via="csv"))
        assert all(outcome.outcome == "created" for _, outcome in outcomes)
        return len(captured)

    few, many = statements(2, 0, "01"), statements(20, 100, "02")
    # (four of them the vessel's: the default, the overlaps, the holds near, a savepoint)
    assert few == many <= 21
    assert row_counts()["Booking"] == 22


def test_a_batch_the_database_refuses_is_saved_one_by_one(dock, roster, templates, monkeypatch):
    payloads = [write_up(external_ref="R-1"), write_up(external_ref="R-2", vessel="QUEEN")]
    expected = one_by_one(payloads)
    real = importing.intakes_save_new

    def refused(valids, **kwargs):
        # As when another request creates one of these bookings first: the insert fails and
        # the batch's transaction writes nothing.
        with transaction.atomic():
            real(valids, **kwargs)
            raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(importing, "intakes_save_new", refused)
    outcomes = [outcome for _, outcome in intake_many(enumerate(payloads), via="csv")]
    assert [outcome_text(o) for o in outcomes] == expected
    assert Booking.objects.count() == 2 and PipelineRun.objects.count() == 2


def test_runs_saved_together_are_queued_in_one_message_and_run(
    dock, roster, templates, django_capture_on_commit_callbacks, monkeypatch
):
    from jada import tasks

    messages = []
    real = tasks.dispatch_runs.delay

    def delay(run_ids):
        messages.append(list(run_ids))
        return real(run_ids)  # eager here: the stages run in this process

    monkeypatch.setattr(tasks.dispatch_runs, "delay", delay)
    payloads = [write_up(external_ref=f"Q-{i}", charter_date=f"2031-02-0{i + 1}") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [outcome for _, outcome in intake_many(enumerate(payloads), via="csv")]
    runs = [outcome.run.pk for outcome in outcomes]
    assert messages == [runs]
    assert PipelineRun.objects.filter(pk__in=runs, dispatched_at__isnull=False).count() == 3
    assert not StageRun.objects.filter(run__in=runs, state__in=["pending", "running"]).exists()
