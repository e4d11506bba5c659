"""No double-booked vessel under concurrency: PostgreSQL's exclusion constraint holds it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.urls import reverse

from bookings.models import Booking, Status
from bookings.services import booking_upsert
from tests.factories import booking_data
from tests.helpers import post_data
from tests.jada.intake_support import new_token, post, write_up
from tests.workers import require_service

NINE_PDT = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
THREADS = 6


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        require_service("postgresql", "the exclusion constraint is PostgreSQL's")


def raw_booking(dock, vessel, ref: str, start: datetime, status: str = Status.CONFIRMED):
    """A row written straight to the table, past the service's own check."""
    return Booking.objects.create(
        source="boatsetter",
        external_ref=ref,
        guest_name="Guest",
        guest_count=2,
        starts_at=start,
        duration_minutes=180,
        dock=dock,
        vessel=vessel,
        status=status,
        blocked_until=start + timedelta(minutes=180 + vessel.turnaround_minutes),
    )


@pytest.mark.postgres
def test_the_database_refuses_overlapping_confirmed_bookings(postgres, jada, queen, dock):
    raw_booking(dock, jada, "A", NINE_PDT)
    with pytest.raises(IntegrityError, match="booking_vessel_no_overlap"), transaction.atomic():
        # Inside the turnaround of A (free again at 12:30).
        raw_booking(dock, jada, "B", NINE_PDT + timedelta(hours=3, minutes=29))
    # Right after the turnaround, on another vessel, or cancelled: all fine.
    raw_booking(dock, jada, "C", NINE_PDT + timedelta(hours=3, minutes=30))
    raw_booking(dock, queen, "D", NINE_PDT)
    cancelled = raw_booking(dock, jada, "E", NINE_PDT, status=Status.CANCELLED)
    # Re-activating the cancelled one is refused by the database too.
    cancelled.status = Status.CONFIRMED
    with pytest.raises(IntegrityError), transaction.atomic():
        cancelled.save()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_slot_exactly_one_wins(jada, dock, roster, templates):
    if connection.vendor != "postgresql":
        require_service("postgresql", "SQLite serialises writers, so there is no race to lose")
    token = new_token()
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, dict]] = []
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            # Different references, the same boat, overlapping times.
            payload = write_up(external_ref=f"BS-RACE-{n}", start_time=f"{9 + n % 2:02d}:00")
            response = post(client, payload, token=token)
            answers.append((response.status_code, response.json()))
        except BaseException as e:  # reported below; a thread cannot fail the test itself
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (THREADS - 1), answers
    winner = Booking.objects.get()
    for status, body in answers:
        if status == 409:
            (message,) = body["errors"]["starts_at"]
            assert message.startswith("Jada is booked ") and winner.external_ref in message
            assert "(turnaround 30 min)" in message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_loser_of_a_race_inside_the_service_gets_a_conflict_not_a_crash(jada, dock):
    """The service's own check cannot see an uncommitted rival; the constraint then decides."""
    if connection.vendor != "postgresql":
        require_service("postgresql", "the exclusion constraint is PostgreSQL's")
    from bookings.vessels import BookingConflict

    inside = threading.Event()
    release = threading.Event()
    outcome: list[object] = []

    def first() -> None:
        try:
            with transaction.atomic():
                booking_upsert(data=booking_data(dock, external_ref="BS-FIRST"), via="test")
                inside.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(timeout=10)
    # Checked while the first is uncommitted: the check passes, the insert waits on the lock.
    threading.Timer(0.5, release.set).start()
    try:
        booking_upsert(data=booking_data(dock, external_ref="BS-SECOND"), via="test")
    except BookingConflict as e:
        outcome.append(e)
    thread.join(timeout=20)
    assert len(outcome) == 1 and "for BS-FIRST" in str(outcome[0])
    assert list(Booking.objects.values_list("external_ref", flat=True)) == ["BS-FIRST"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_operator_losing_a_save_race_reads_the_form_error_not_a_crash(
    alice, jada, dock, roster, templates
):
    """Two operators save overlapping charters at once: the admin's check passes for both."""
    if connection.vendor != "postgresql":
        require_service("postgresql", "the exclusion constraint is PostgreSQL's")
    inside, release = threading.Event(), threading.Event()

    def other_operator() -> None:
        try:
            with transaction.atomic():
                booking_upsert(data=booking_data(dock, external_ref="BS-FIRST"), via="test")
                inside.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_operator)
    thread.start()
    assert inside.wait(timeout=10)
    # The rival is uncommitted while this form and the service look: both see the slot free;
    # the insert then waits on the constraint until the rival commits, and loses.
    threading.Timer(0.5, release.set).start()
    client = Client()
    client.force_login(alice)
    money = {"gross_revenue": "500", "crew_cost": "0", "captain_cost": "0", "fee_percent": "0"}
    response = client.post(
        reverse("admin:bookings_booking_add"),
        post_data(dock=dock.pk, vessel=jada.pk, external_ref="D-SECOND", **money),
    )
    thread.join(timeout=20)
    assert response.status_code == 200
    assert (
        "Jada is booked 09:00\u201312:00 PDT for BS-FIRST (turnaround 30 min)"
        in response.content.decode()
    )
    assert list(Booking.objects.values_list("external_ref", flat=True)) == ["BS-FIRST"]
