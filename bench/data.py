"""The benchmark's data: the roster, bookings through the services or straight into the tables."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bench.services import TOKEN


def seed() -> None:
    from django.contrib.auth.models import User

    from bookings.models import Dock, Vessel
    from crew.models import ChecklistTemplate, CrewMember, Role
    from jada.models import ApiToken, hash_token
    from tests.factories import make_member

    dock = Dock.objects.create(
        name="Sheraton Hotel Dock",
        address="1380 Harbor Island Dr, San Diego, CA 92101",
        directions="Park in the hotel's marina lot; walk past the pool to gate C.",
    )
    # The boat bookings that name none go on (the others are the size figures' own).
    Vessel.objects.create(
        code="JADA", name="Jada", guest_name="Jada", capacity=150, home_dock=dock, is_default=True
    )
    User.objects.create_superuser("alice", "alice@sailjada.com", "pw-alice")
    make_member("CAP_001", "Marco Reyes", "cap001@crew.example.com", [Role.CAPTAIN])
    for i in range(1, 5):
        make_member(f"CREW_{i:03}", f"Deck Hand{i}", f"crew{i:03}@crew.example.com", ["deckhand"])
    ChecklistTemplate.objects.create(text="Brief {guest_count} guests", position=1)
    ChecklistTemplate.objects.create(text="Check fuel", role=Role.CAPTAIN, position=2)
    ChecklistTemplate.objects.create(text="Secure fenders", role=Role.DECKHAND, position=3)
    ApiToken.objects.create(name="bench", token_hash=hash_token(TOKEN))
    assert CrewMember.objects.count() == 5


_counter = iter(range(10**9))


def create_booking(*, crew: tuple[str, ...] = ("CAP_001", "CREW_001", "CREW_002"), start=None):
    """A booking through the service, with its crew, as the API would save it."""
    from django.db import transaction

    from bookings.models import Dock
    from bookings.services import BookingData, booking_upsert
    from crew.services import PlannedAssignment
    from jada import pipeline

    n = next(_counter)
    start = start or datetime(2031, 1, 1, 17, tzinfo=UTC) + timedelta(hours=7 * n)
    data = BookingData(
        source="boatsetter",
        external_ref=f"BENCH-{n}",
        guest_name="Jordan Avery",
        guest_email=f"guest{n}@guest.example.com",
        guest_count=4,
        starts_at=start,
        duration_minutes=180,
        dock=Dock.objects.get(),
        gross_revenue=Decimal("840.75"),
        crew_cost=Decimal("250.00"),
        captain_cost=Decimal("150.00"),
        fee_percent=Decimal("18"),
    )
    plan = [
        PlannedAssignment(code, "captain" if code.startswith("CAP") else "deckhand")
        for code in crew
    ]
    with transaction.atomic():
        booking = booking_upsert(data=data, via="bench").booking
        pipeline.start(booking.pk, created=True, crew_plan=plan)
    return booking.pk


def bulk_bookings(count: int, *, per_day: int = 3, first_day=None) -> list[int]:
    """Bookings and their money straight into the tables (for the admin's size figures)."""
    from bookings.models import Booking, Dock, Financials, Vessel

    dock = Dock.objects.get()
    # One boat per slot of the day: a vessel takes one charter at a time.
    boats = [
        Vessel.objects.get_or_create(
            code=f"BENCH_{slot}",
            defaults={"name": f"Bench {slot}", "guest_name": "Bench", "capacity": 12},
        )[0]
        for slot in range(per_day)
    ]
    first_day = first_day or datetime(2032, 1, 1, 16, tzinfo=UTC)
    base = next(_counter)
    made = []
    for start in range(0, count, 1000):
        chunk = [
            Booking(
                source="direct",
                external_ref=f"BULK-{base}-{i}",
                guest_name=f"Guest {i}",
                guest_count=1 + i % 12,
                starts_at=first_day + timedelta(days=i // per_day, hours=3 * (i % per_day)),
                duration_minutes=180,
                dock=dock,
                vessel=boats[i % per_day],
                blocked_until=first_day
                + timedelta(days=i // per_day, hours=3 * (i % per_day), minutes=180 + 30),
            )
            for i in range(start, min(count, start + 1000))
        ]
        Booking.objects.bulk_create(chunk)
        money = []
        for b in chunk:
            f = Financials(
                booking=b,
                gross_revenue=Decimal("1000.00"),
                crew_cost=Decimal("200.00"),
                captain_cost=Decimal("150.00"),
                fee_percent=Decimal("10"),
            )
            f.recompute()
            money.append(f)
        Financials.objects.bulk_create(money)
        made += [b.pk for b in chunk]
    return made


def settle_earlier_runs() -> int:
    """Close the runs earlier figures left open, so a figure with beat measures only its own.

    The intake and import figures queue their runs with no worker and then drop the messages;
    their stages stay pending, and the sweeper a figure's beat runs would take them all up (the
    import's 10,000 charters) in the middle of that figure. Returns how many stages it closed.
    """
    from django.utils import timezone

    from jada.models import PipelineRun, StageRun, StageState

    now = timezone.now()
    open_states = [StageState.PENDING, StageState.RUNNING, StageState.RETRYING]
    closed = StageRun.objects.filter(state__in=open_states).update(
        state=StageState.SKIPPED, finished_at=now, next_attempt_at=None
    )
    PipelineRun.objects.filter(finished_at__isnull=True).update(dispatched_at=now, finished_at=now)
    return closed


def wait_done(booking_ids, *, timeout: float = 300) -> float:
    """Seconds until every stage of every run of these bookings finished; raises on failure."""
    from jada.models import StageRun, StageState

    ids = list(booking_ids)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        stages = StageRun.objects.filter(run__booking_id__in=ids)
        open_ = stages.filter(state__in=[StageState.PENDING, StageState.RUNNING]).count()
        failed = stages.filter(state=StageState.FAILED).values_list("stage", "last_error")[:3]
        if failed:
            raise RuntimeError(f"stages failed: {list(failed)}")
        if open_ == 0 and stages.exists():
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"{open_} stage(s) still open after {timeout}s")


def api_body(ref: str, start_day: int = 1) -> dict:
    """The write-up's charter (the API's own example) with one deckhand, on a day of its own.

    Days from 2060: after every other figure's charters, so the vessel is free on each.
    """
    from jada.api.schemas import EXAMPLE  # after django.setup(): the schemas read the models

    return {
        **EXAMPLE,
        "external_ref": ref,
        "charter_date": f"{date(2060, 1, 1) + timedelta(days=start_day)}",
        "crew_assignments": [{"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5}],
        "notes": "bench",
    }
