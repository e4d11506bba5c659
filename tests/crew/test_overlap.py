"""Overlap warnings: shown to the operator, never blocking; back-to-back is fine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bookings.models import Booking
from crew.models import Assignment
from crew.selectors import OVERLAP_LIST_LIMIT, event_id_for_booking, overlap_warnings
from crew.services import PlannedAssignment
from tests.factories import charter
from tests.vessels import other_vessel

START = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)  # call 15:00, default shift until 20:00 UTC


def test_it_has_no_warnings_for_a_lone_charter(event):
    assert overlap_warnings(booking_id=event.booking_id) == []


def test_it_warns_when_a_member_is_on_two_overlapping_shifts(event, dock):
    other = charter(
        dock,
        plan=[PlannedAssignment("CREW_002", "deckhand")],
        external_ref="BS-OTHER",
        starts_at=datetime(2030, 5, 30, 19, 0, tzinfo=UTC),
        vessel=other_vessel(),
    )
    warnings = overlap_warnings(booking_id=event.booking_id)
    assert len(warnings) == 1
    assert "Sam Ortiz (CREW_002)" in warnings[0]
    assert other.title in warnings[0]
    # Shown in the operator's zone (America/Los_Angeles): 15:00 UTC is 08:00 PDT.
    assert "08:00 to 13:00" in warnings[0]
    assert warnings[0].endswith("times in America/Los_Angeles")
    # And from the other side.
    back = overlap_warnings(booking_id=other.booking_id)
    assert len(back) == 1 and event.title in back[0]


def test_back_to_back_shifts_do_not_warn(event, dock):
    # Call at 20:00 UTC, exactly when the first shift ends.
    charter(
        dock,
        plan=[PlannedAssignment("CREW_002", "deckhand")],
        external_ref="BS-NEXT",
        starts_at=datetime(2030, 5, 30, 21, 0, tzinfo=UTC),
    )
    assert overlap_warnings(booking_id=event.booking_id) == []


def test_an_earlier_long_shift_reaching_into_this_one_warns(event, dock):
    # A 12-hour shift called at 05:00 UTC runs until 17:00, into the 15:00 call.
    charter(
        dock,
        plan=[PlannedAssignment("CAP_001", "captain", 12 * 60)],
        external_ref="BS-LONG",
        starts_at=datetime(2030, 5, 30, 6, 0, tzinfo=UTC),
    )
    warnings = overlap_warnings(booking_id=event.booking_id)
    assert [w.split(":")[0] for w in warnings] == ["Marco Reyes (CAP_001)"]


def test_removed_assignments_and_cancelled_events_do_not_count(event, dock):
    other = charter(
        dock,
        plan=[PlannedAssignment("CREW_002", "deckhand"), PlannedAssignment("CREW_001", "deckhand")],
        external_ref="BS-OTHER",
        starts_at=datetime(2030, 5, 30, 19, 0, tzinfo=UTC),
        vessel=other_vessel(),
    )
    assert len(overlap_warnings(booking_id=event.booking_id)) == 2
    # Removing CREW_002 from the other charter leaves only CREW_001's overlap.
    charter(
        dock,
        plan=[PlannedAssignment("CREW_001", "deckhand")],
        external_ref="BS-OTHER",
        starts_at=datetime(2030, 5, 30, 19, 0, tzinfo=UTC),
        vessel=other_vessel(),
    )
    assert Assignment.objects.get(event=other, member__code="CREW_002").removed_at is not None
    warnings = overlap_warnings(booking_id=event.booking_id)
    assert len(warnings) == 1 and "CREW_001" in warnings[0]
    # Cancelling the other charter clears the rest.
    charter(
        dock,
        plan=None,
        external_ref="BS-OTHER",
        starts_at=datetime(2030, 5, 30, 19, 0, tzinfo=UTC),
        status="cancelled",
    )
    assert overlap_warnings(booking_id=event.booking_id) == []


def test_it_answers_for_bookings_without_a_crew_event(db):
    assert overlap_warnings(booking_id=999_999) == []
    assert event_id_for_booking(999_999) is None


def test_event_id_for_booking(event):
    assert Booking.objects.filter(pk=event.booking_id).exists()
    assert event_id_for_booking(event.booking_id) == event.pk


def test_a_long_list_of_overlaps_is_capped_with_a_count(event, dock, django_assert_max_num_queries):
    # The same deckhand pasted onto 13 clashing charters: 10 listed, one line for the rest.
    for n in range(13):
        charter(
            dock,
            plan=[PlannedAssignment("CREW_002", "deckhand")],
            external_ref=f"BS-DUP-{n}",
            starts_at=datetime(2030, 5, 30, 17, n, tzinfo=UTC),
            vessel=other_vessel(f"BOAT_{n}"),  # one boat each: only the crew clash
        )
    with django_assert_max_num_queries(4):
        warnings = overlap_warnings(booking_id=event.booking_id)
    assert len(warnings) == OVERLAP_LIST_LIMIT + 1
    assert all("Sam Ortiz (CREW_002)" in w for w in warnings[:-1])
    assert warnings[-1] == "… and 3 more overlapping shift(s) of this crew."


def test_moving_a_charter_moves_the_end_of_each_shift(event, dock):
    deckhand = Assignment.objects.get(event=event, member__code="CREW_001")
    assert deckhand.ends_at == deckhand.call_at + timedelta(minutes=deckhand.shift_minutes)
    # CREW_001 is called at 20:00 UTC for the next charter, when today's shift ends.
    charter(
        dock,
        plan=[PlannedAssignment("CREW_001", "deckhand")],
        external_ref="BS-LATER",
        starts_at=datetime(2030, 5, 30, 21, 0, tzinfo=UTC),
    )
    assert overlap_warnings(booking_id=event.booking_id) == []
    # Today's charter moves an hour later: the shift's end moves with its call time.
    charter(dock, starts_at=datetime(2030, 5, 30, 17, 0, tzinfo=UTC))
    deckhand.refresh_from_db()
    assert deckhand.ends_at == datetime(2030, 5, 30, 21, 0, tzinfo=UTC)
    warnings = overlap_warnings(booking_id=event.booking_id)
    assert [w.split(":")[0] for w in warnings] == ["Dana Cole (CREW_001)"]
