"""Writes that span apps: saving a booking, and deciding when its pipeline starts.

Every path that saves a booking (the API, the CSV import, the admin, the demo) comes through
`booking_save`: `bookings.services.booking_upsert` writes the operator's record, and the rule
here decides whether crew and guests must hear about it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from bookings.audit import created_entries_save, crew_change_log
from bookings.formatting import stamp_text
from bookings.models import Booking, Dock
from bookings.money import money_text
from bookings.selectors import booking_projection, dock_upcoming_booking_ids
from bookings.services import (
    OPERATIONAL_FIELDS,
    BookingData,
    UpsertResult,
    booking_upsert,
    bookings_insert_new,
)
from crew.dispatch_plans import open_items_settled, slot_items
from crew.models import Assignment, CrewMember
from crew.selectors import crew_roster, crew_roster_new, event_id_for_booking
from crew.services import CrewSyncResult, PlannedAssignment, default_shift_minutes
from jada import pipeline
from jada.models import PipelineRun

T = TypeVar("T")


@dataclass(frozen=True)
class BookingSaved(UpsertResult):
    crew_changed: bool = False  # the crew plan changed the assignments
    run: PipelineRun | None = None  # the pipeline run started, if any
    # One readable sentence each; they never block the write.
    warnings: tuple[str, ...] = ()
    # Warnings that state money: shown only to those who may see it.
    money_warnings: tuple[str, ...] = ()

    @property
    def changed_anything(self) -> bool:
        return self.created or bool(self.changed) or self.money_changed or self.crew_changed


def crew_event_plan_apply(
    *, booking_id: int, plan: Sequence[PlannedAssignment], by: AbstractBaseUser | None, via: str
) -> PipelineRun:
    """Apply assignments edited on the crew event page; the booking's audit log says who
    was added, removed or changed, and the pipeline tells the crew."""
    with transaction.atomic():
        before = crew_roster(booking_id)
        run = pipeline.start(booking_id, crew_plan=plan, reason="crew")
        crew_change_log(
            booking_id=booking_id, before=before, after=crew_roster(booking_id), by=by, via=via
        )
    return run


def crew_dispatch_audited(
    *, booking_id: int, change: Callable[[], T], by: AbstractBaseUser | None, via: str
) -> T:
    """Run an operator's dispatch `change` (open or withdraw a slot) and write what it changed
    to the booking's audit log ("Crew: opened a deckhand slot"), in one transaction."""
    with transaction.atomic():
        before = crew_roster(booking_id)
        result = change()
        crew_change_log(
            booking_id=booking_id, before=before, after=crew_roster(booking_id), by=by, via=via
        )
    return result


def crew_change_by_member_record(
    sender: object,
    *,
    booking_id: int,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    by_name: str,
    **kwargs: object,
) -> None:
    """A crew member's own change (crew.signals), in the booking's audit log as theirs."""
    crew_change_log(booking_id=booking_id, before=before, after=after, via="crew", by_name=by_name)


def crew_change_by_operator_record(
    sender: object,
    *,
    booking_id: int,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    by: AbstractBaseUser | None,
    via: str,
    **kwargs: object,
) -> None:
    """An operator's crew change made on crew's side (crew.signals: a member deactivated)."""
    crew_change_log(booking_id=booking_id, before=before, after=after, by=by, via=via)


def first_crew(
    *, booking_id: int, plan: Sequence[PlannedAssignment] | None, crew: CrewSyncResult
) -> list[dict[str, Any]]:
    """A new charter's crew as its "created" entry lists it, from the assignments just written
    (no read); a plan that opened slots is read back, as its slots were written one by one."""
    if plan and slot_items(plan):
        return crew_roster(booking_id)
    return crew_roster_new(crew.added)


def crew_plan_differs(
    *, booking_id: int, plan: Sequence[PlannedAssignment] | None, duration_minutes: int
) -> bool:
    """Whether applying `plan` would change the booking's active assignments."""
    if plan is None:
        return False
    event_id = event_id_for_booking(booking_id)
    if event_id is None:
        return True
    current = {
        code: (role, minutes)
        for code, role, minutes in Assignment.objects.filter(
            event_id=event_id, removed_at__isnull=True
        ).values_list("member__code", "role", "shift_minutes")
    }
    wanted = {
        p.member_code: (p.role, p.shift_minutes or default_shift_minutes(duration_minutes))
        for p in plan
        if p.member_code
    }
    open_items = slot_items(plan)
    if open_items is not None:
        # Members who took such a slot hold it; the rest must be open already.
        kept, settled = open_items_settled(event_id=event_id, items=open_items)
        for code in kept:
            current.pop(code, None)
        if not settled:
            return True
    return current != wanted


def charter_has_passed(starts_at: datetime, *, now: datetime | None = None) -> bool:
    """Whether a charter's start is behind us: such a booking is recorded and tells no one."""
    return starts_at <= (now or timezone.now())


def past_charter_warning(starts_at: datetime) -> str:
    return (
        f"This charter started {stamp_text(starts_at)}, which has passed: it is recorded "
        "for the books and nothing is sent (no crew invitation, no guest email, no guest page)."
    )


def _money_warnings(booking: Booking) -> tuple[str, ...]:
    financials = getattr(booking, "financials", None)
    if financials is None or financials.net_revenue is None or financials.net_revenue >= 0:
        return ()
    return (
        f"Net revenue is {money_text(financials.net_revenue, financials.currency)}, below zero: "
        "the costs and the fee exceed the gross revenue.",
    )


def booking_warnings(booking: Booking) -> dict[str, tuple[str, ...]]:
    """The save's warnings (`BookingSaved` fields): a charter in the past, a loss."""
    passed = charter_has_passed(booking.starts_at)
    return {
        "warnings": (past_charter_warning(booking.starts_at),) if passed else (),
        "money_warnings": _money_warnings(booking),
    }


def booking_save(
    *,
    data: BookingData,
    plan: Sequence[PlannedAssignment] | None = None,
    by: AbstractBaseUser | None = None,
    via: str,
    by_name: str = "",
) -> BookingSaved:
    """Upsert the booking and, when crew or guests must hear of it, start its pipeline.

    One transaction. The pipeline starts for a new booking, a change to an operational field,
    or a crew `plan` that differs from the assignments; a money-only change starts nothing.
    A charter whose start has passed is recorded for the books and its run sends nothing (its
    outside-world stages are skipped); the result's `warnings` say so.
    Raises the service's ValidationError (nothing written) and IntegrityError (lost an insert
    race: the caller may try again).
    """
    with transaction.atomic():
        upsert = booking_upsert(data=data, by=by, via=via, by_name=by_name, crew_follows=True)
        booking = upsert.booking
        if upsert.created:
            # Nothing to compare with: the crew event, checklists, page and run are all new.
            crews: list[CrewSyncResult] = []
            run = pipeline.start(
                booking.pk,
                changed=upsert.changed,
                created=True,
                crew_plan=plan,
                new_booking=booking_projection(booking),
                crews=crews,
            )
            created_entries_save(
                entries=[upsert.created_entry] if upsert.created_entry else [],
                crews={booking.pk: first_crew(booking_id=booking.pk, plan=plan, crew=crews[0])},
            )
            return BookingSaved(
                booking=booking,
                created=True,
                changed=upsert.changed,
                money_changed=upsert.money_changed,
                crew_changed=plan is not None,
                run=run,
                **booking_warnings(booking),
            )
        crew_changed = crew_plan_differs(
            booking_id=booking.pk, plan=plan, duration_minutes=booking.duration_minutes
        )
        # Read before the pipeline applies the plan: the audit's "before".
        crew_before = crew_roster(booking.pk) if crew_changed else None
        run = None
        if upsert.changed or crew_changed:
            run = pipeline.start(booking.pk, changed=upsert.changed, crew_plan=plan)
        if crew_before is not None:
            crew_change_log(
                booking_id=booking.pk,
                before=crew_before,
                after=crew_roster(booking.pk),
                by=by,
                via=via,
                by_name=by_name,
            )
        return BookingSaved(
            booking=booking,
            created=False,
            changed=upsert.changed,
            money_changed=upsert.money_changed,
            crew_changed=crew_changed,
            run=run,
            **booking_warnings(booking),
        )


def bookings_save_planned(
    *,
    items: Sequence[tuple[Booking, Sequence[PlannedAssignment] | None]],
    by: AbstractBaseUser | None = None,
    via: str,
    by_name: str = "",
    members: dict[str, CrewMember] | None = None,
) -> list[tuple[PipelineRun, CrewSyncResult]]:
    """`booking_save` for new bookings built and checked by an import's plan, many at once.

    Writes the bookings as built (`bookings_insert_new`) and starts their pipelines: about a
    dozen statements however many, one insert per table. A key or a vessel's time taken
    meanwhile by someone else raises IntegrityError, having written nothing.
    """
    with transaction.atomic(savepoint=False):
        entries = bookings_insert_new(
            bookings=[booking for booking, _ in items],
            by=by,
            via=via,
            by_name=by_name,
            crew_follows=True,
        )
        started = pipeline.start_many(
            [booking_projection(booking) for booking, _ in items],
            changed=OPERATIONAL_FIELDS,
            crew_plans=[plan for _, plan in items],
            members=members,
        )
        # The "created" entries list the first crew, as `booking_save`'s do.
        created_entries_save(
            entries=entries,
            crews={
                booking.pk: first_crew(booking_id=booking.pk, plan=plan, crew=crew)
                for (booking, plan), (_, crew) in zip(items, started, strict=True)
            },
        )
        return started


# Dock fields that crew emails, the portal and the guest page show.
DOCK_SHOWN_FIELDS = frozenset({"name", "address", "directions", "map_url"})


def dock_bookings_refresh(*, dock: Dock, now: datetime | None = None) -> int:
    """After an edit of what a dock shows: tell the crew and guests of its upcoming charters.

    Each confirmed booking from yesterday on gets a pipeline run for a changed dock (crew
    "changed" emails, the guest page re-published); returns how many.
    """
    since = (now or timezone.now()) - timedelta(days=1)
    ids = dock_upcoming_booking_ids(dock=dock, since=since)
    with transaction.atomic():
        for booking_id in ids:
            pipeline.start(booking_id, changed={"dock"}, reason="dock")
    return len(ids)
