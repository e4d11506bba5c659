"""`import_bookings --dry-run`: planned from reads alone, line for line what the import does."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, CalendarSubscription, Hold
from crew.models import Unavailability
from jada import importing
from jada.importing import intake_many
from jada.intake import IntakeRejected, booking_intake
from jada.management.commands.import_bookings import row_payload
from tests.jada.intake_support import HEADER, row, row_counts, run, write_csv, write_up
from tests.vessels import default_vessel, other_vessel

pytestmark = pytest.mark.django_db

COLUMNS = [*HEADER, "vessel"]
CREW = "CREW_001:deckhand:5;CREW_002:deckhand:5"


@pytest.fixture
def fleet(dock, roster, templates) -> None:
    """Jada (the default) and Queen; a charter on file; holds; a deckhand away one day."""
    jada, queen = default_vessel(), other_vessel()
    booking_intake(
        payload=write_up(external_ref="ON-FILE", charter_date="2030-05-28", vessel="QUEEN"),
        via="api",
    )
    for source, uid, start in (
        ("getmyboat", "g-1", datetime(2030, 6, 10, 15, 0, tzinfo=UTC)),  # overlaps N-12
        ("boatsetter", "b-1", datetime(2030, 6, 11, 16, 0, tzinfo=UTC)),  # is N-13
    ):
        subscription = CalendarSubscription.objects.create(
            vessel=jada, name=f"{source} Jada", url="https://example.com/c.ics", source=source
        )
        Hold.objects.create(
            subscription=subscription,
            vessel=jada,
            source=source,
            uid=uid,
            starts_at=start,
            ends_at=start.replace(hour=start.hour + 3),
        )
    Unavailability.objects.create(member=roster["CREW_002"], day=date(2030, 6, 12))
    queen.capacity = 6
    queen.save()


def planned_rows() -> list[dict[str, str]]:
    """Every kind of line the plan answers alone: no booking on file named."""
    return [
        row(external_ref="N-1", charter_date="2030-06-01"),  # created
        # Queen, the same time and crew as N-1: its shifts overlap an earlier row's.
        row(external_ref="N-2", charter_date="2030-06-01", vessel="QUEEN"),
        # Jada an hour after N-1 began: the vessel is taken by an earlier row of the file.
        row(external_ref="N-3", charter_date="2030-06-01", start_time="10:00", captain_id=""),
        # Queen during ON-FILE: taken by a booking on file.
        row(external_ref="N-4", charter_date="2030-05-28", vessel="QUEEN", crew="", captain_id=""),
        row(external_ref="N-1", charter_date="2030-06-01"),  # an earlier row again: unchanged
        row(external_ref="N-2", charter_date="2030-06-01", vessel="QUEEN", guest_count="5"),
        row(external_ref="N-5", charter_date="2020-01-01"),  # past charter
        row(external_ref="N-6", charter_date="2030-06-02", gross_revenue="100", net_revenue=""),
        # More guests than Queen takes.
        row(external_ref="N-7", charter_date="2030-06-03", vessel="QUEEN", guest_count="8"),
        row(external_ref="N-8", gross_revenue="lots"),
        row(external_ref="N-9", location="Nowhere"),
        row(external_ref="N-10", crew="CREW_404:deckhand"),
        row(external_ref="N-11", net_revenue="300.00"),
        row(external_ref="N-12", charter_date="2030-06-10"),  # overlaps a GetMyBoat hold
        row(external_ref="N-13", charter_date="2030-06-11"),  # is the Boatsetter hold
        row(external_ref="N-14", charter_date="2030-06-12"),  # CREW_002 is away
        row(external_ref="N-15", charter_date="2030-06-13", status="cancelled"),
        # Jada while ON-FILE is on Queen, same crew: overlaps shifts on file.
        row(external_ref="N-16", charter_date="2030-05-28"),
        row(external_ref="N-2", charter_date="2030-06-01", vessel="QUEEN", guest_count="8"),
        # N-6 again with other money and no crew columns' change: updated.
        row(external_ref="N-6", charter_date="2030-06-02", gross_revenue="900", net_revenue=""),
        # Cancelled again, crew as it was: unchanged.
        row(external_ref="N-15", charter_date="2030-06-13", status="cancelled"),
    ]


def written_rows() -> list[dict[str, str]]:
    """Lines the plan cannot answer alone: the dry run writes, then rolls back."""
    return [
        *planned_rows(),
        row(external_ref="ON-FILE", charter_date="2030-05-28", vessel="QUEEN", guest_count="6"),
        row(external_ref="N-1", charter_date="2030-06-01", start_time="14:00"),  # moved
        row(external_ref="N-12", charter_date="2030-06-10", crew="CREW_001:deckhand:5"),
        row(external_ref="N-17", charter_date="2030-06-01", start_time="10:00", captain_id=""),
        row(external_ref="N-2", charter_date="2030-06-01", vessel="QUEEN", guest_count="3"),
    ]


def report(tmp_path, rows: list[dict[str, str]], *args: str) -> list[str]:
    path = write_csv(tmp_path / "export.csv", rows, header=COLUMNS)
    out, _, _ = run(str(path), *args)
    lines = out.splitlines()
    if connection.vendor != "sqlite":
        # PostgreSQL's sequences move on in a rolled-back transaction: ids are not comparable.
        lines = [re.sub(r"\(booking \d+\)", "(booking)", line) for line in lines]
    return lines


def writes(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


@pytest.mark.parametrize("batch_size", [3, 500])
def test_a_dry_run_plans_and_writes_nothing_and_says_what_the_import_does(
    tmp_path, fleet, batch_size, monkeypatch
):
    monkeypatch.setattr(importing, "BATCH_SIZE", batch_size)
    before = row_counts()

    with CaptureQueriesContext(connection) as captured:
        dry = report(tmp_path, planned_rows(), "--dry-run")

    assert writes(captured) == []
    assert row_counts() == before
    real = report(tmp_path, planned_rows())
    assert dry[:-1] == real[:-1]  # the booking numbers too: a dry run names the ids to come
    assert dry[-1] == real[-1] + " (dry run: nothing was written)"
    expected = {
        0: "created N-1",
        1: "created N-2",
        2: "rejected N-3: starts_at: Jada is booked 09:00\u201312:00 PDT for N-1",
        3: "rejected N-4: starts_at: Queen is booked 09:00\u201312:00 PDT for ON-FILE",
        4: "unchanged N-1",
        5: "updated N-2",
        6: "created N-5",
        7: "created N-6",
        8: "rejected N-7: guest_count: Queen takes at most 6 guests.",
        9: "rejected N-8: gross_revenue: Enter a number",
        10: "rejected N-9: location: No dock named 'Nowhere'",
        11: "rejected N-10: crew entry 1: Unknown or inactive crew id CREW_404.",
        12: "rejected N-11: net_revenue: Does not agree",
        13: "created N-12",
        14: "created N-13",
        15: "created N-14",
        16: "created N-15",
        17: "created N-16",
        18: "rejected N-2: guest_count: Queen takes at most 6 guests.",
        19: "updated N-6",
        20: "unchanged N-15",
    }
    for index, start in expected.items():
        assert real[index].startswith(f"row {index + 2}: {start}"), real[index]
    warned = {
        1: "overlaps Charter \u00b7 Boatsetter N-1",  # an earlier row's shifts
        4: "overlaps Charter \u00b7 Boatsetter N-2",  # a later row's too, once it is saved
        5: "overlaps Charter \u00b7 Boatsetter N-1",
        6: "which has passed",
        7: "below zero",
        13: "is also taken on getmyboat Jada",
        15: "Sam Ortiz (CREW_002) marked Wed 12 Jun 2030 as a day they cannot work",
        17: "overlaps Charter \u00b7 Boatsetter ON-FILE",  # shifts on file
    }
    for index, line in enumerate(real[:-1]):
        assert (" warning: " in line) == (index in warned), line
        assert warned.get(index, "") in line


def test_rows_needing_the_writes_are_saved_then_rolled_back(tmp_path, fleet):
    before = row_counts()
    on_file = Booking.objects.get(external_ref="ON-FILE")

    dry = report(tmp_path, written_rows(), "--dry-run")

    assert row_counts() == before
    assert Booking.objects.get(external_ref="ON-FILE").guest_count == on_file.guest_count
    real = report(tmp_path, written_rows())
    assert dry[:-1] == real[:-1]
    assert [line.split(" (booking")[0] for line in real[-6:]] == [
        "row 23: updated ON-FILE",
        "row 24: updated N-1",  # moved
        "row 25: updated N-12",  # another crew
        # N-1 moved to 14:00 in row 24: Jada is free at 10:00 now.
        "row 26: created N-17",
        "row 27: updated N-2",
        "26 rows: 10 created, 6 updated, 2 unchanged, 8 rejected",
    ]


def api_answers(payloads: list[dict]) -> list[tuple]:
    """What the API answers for each payload in turn (then rolled back)."""
    answers = []
    with transaction.atomic():
        for payload in payloads:
            try:
                result = booking_intake(payload=payload, via="csv")
                answers.append((result.outcome, result.warnings))
            except IntakeRejected as e:
                answers.append(("rejected", e.errors))
        transaction.set_rollback(True)
    return answers


def test_the_import_answers_each_row_as_the_api_does(fleet):
    payloads = [row_payload(values, set(COLUMNS)) for values in written_rows()]
    expected = api_answers(payloads)

    got = [
        ("rejected", o.errors) if isinstance(o, IntakeRejected) else (o.outcome, o.warnings)
        for _, o in intake_many(enumerate(payloads), via="csv")
    ]

    assert got == expected
    assert any("is also taken on getmyboat Jada" in " ".join(w) for _, w in expected)
