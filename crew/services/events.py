"""The crew event of a booking and its assignments (the `crew_event` stage).

Crew code receives a booking only as `bookings.selectors.OperationalBooking`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bookings.selectors import OperationalBooking
from crew import dispatch_plans
from crew.models import (
    Assignment,
    AssignmentState,
    ChecklistItem,
    CrewEvent,
    CrewMember,
    EventStatus,
)
from crew.services.checklists import checklist_items_create, checklist_sync

# Crew are called to the dock this long before guests board (prep, fuel, fenders).
CALL_LEAD = timedelta(minutes=60)
# Event fields whose change crew must be told about (a new version and a "changed" email).
EVENT_NOTIFY_FIELDS = (
    "starts_at",
    "duration_minutes",
    "dock_name",
    "dock_address",
    "dock_directions",
    "dock_map_url",
    "vessel_name",
    "guest_count",
    "notes",
    "status",
)


@dataclass(frozen=True)
class PlannedAssignment:
    member_code: str
    role: str
    shift_minutes: int | None = None  # None: the charter plus prep and clean-up
    call_at: datetime | None = None  # None: CALL_LEAD before boarding


@dataclass(frozen=True)
class CrewSyncResult:
    event: CrewEvent
    created: bool
    changed: frozenset[str]  # event fields and "assignments" when the roster changed
    checklist_changed: bool
    added: tuple[Assignment, ...] = ()  # assignments created here (filled for new events)

    @property
    def notify_needed(self) -> bool:
        return self.created or bool(self.changed)


def default_shift_minutes(duration_minutes: int) -> int:
    # Call time is an hour before boarding, and clean-up takes about as long again.
    return duration_minutes + 2 * int(CALL_LEAD.total_seconds() // 60)


def _event_values(booking: OperationalBooking) -> dict[str, object]:
    return {
        "title": f"Charter · {booking.source_label} {booking.external_ref}",
        "starts_at": booking.starts_at,
        "duration_minutes": booking.duration_minutes,
        "dock_name": booking.dock_name,
        "dock_address": booking.dock_address,
        "dock_directions": booking.dock_directions,
        "dock_map_url": booking.dock_map_url,
        "vessel_name": booking.vessel_name,
        "guest_count": booking.guest_count,
        "notes": booking.notes,
        "status": EventStatus.CANCELLED if booking.is_cancelled else EventStatus.SCHEDULED,
    }


def _new_assignment(event: CrewEvent, planned: PlannedAssignment, member: CrewMember) -> Assignment:
    shift = planned.shift_minutes or default_shift_minutes(event.duration_minutes)
    call_at = planned.call_at or event.starts_at - CALL_LEAD
    return Assignment(
        event=event,
        member=member,
        role=planned.role,
        call_at=call_at,
        shift_minutes=shift,
        # bulk_create skips save(), which keeps ends_at otherwise.
        ends_at=call_at + timedelta(minutes=shift),
    )


def _apply_plan(
    *, event: CrewEvent, plan: Sequence[PlannedAssignment], now: datetime, new_event: bool = False
) -> bool:
    """Make the event's active assignments match the plan; returns whether anything changed.

    `new_event`: the event was just created, so it has no assignments to look up yet.
    """
    # An item without a member is an open slot of its role (dispatch offers it).
    open_items = dispatch_plans.slot_items(plan)
    plan = [p for p in plan if p.member_code]
    members = {m.code: m for m in CrewMember.objects.filter(code__in=[p.member_code for p in plan])}
    existing = (
        {} if new_event else {a.member.code: a for a in event.assignments.select_related("member")}
    )
    if open_items is not None and not new_event:
        # Whoever took such a slot holds it: not named, yet not taken off either.
        open_items = dispatch_plans.takers_keep(
            event=event, existing=existing, open_items=open_items
        )
    added: list[Assignment] = []
    changed = False
    for planned in plan:
        shift = planned.shift_minutes or default_shift_minutes(event.duration_minutes)
        assignment = existing.pop(planned.member_code, None)
        if assignment is None:
            added.append(_new_assignment(event, planned, members[planned.member_code]))
            changed = True
            continue
        updates: dict[str, object] = {}
        if assignment.removed_at is not None:
            # Back on the charter: its call time is today's, not the one it was taken off with.
            updates["removed_at"] = None
            updates["call_at"] = planned.call_at or event.starts_at - CALL_LEAD
        if assignment.role != planned.role:
            updates["role"] = planned.role
        if assignment.shift_minutes != shift:
            updates["shift_minutes"] = shift
        if planned.call_at is not None and assignment.call_at != planned.call_at:
            updates["call_at"] = planned.call_at
        if updates:
            for name, value in updates.items():
                setattr(assignment, name, value)
            assignment.save(update_fields=list(updates))
            changed = True
    removed = []
    for assignment in existing.values():
        if assignment.removed_at is None:
            removed.append(assignment)
            assignment.removed_at = now
            fields = ["removed_at"]
            told = assignment.notified_snapshot or {}
            if told.get("call_at") and not told.get("cancelled"):
                # Their cancellation and feed keep the shift they were invited for, not one the
                # charter moved to in this same change (or since they were last told).
                assignment.call_at = datetime.fromisoformat(told["call_at"])
                assignment.shift_minutes = told.get("shift_minutes", assignment.shift_minutes)
                fields += ["call_at", "shift_minutes"]
            assignment.save(update_fields=fields)
            changed = True
    if added:
        Assignment.objects.bulk_create(added)
    if removed:
        # A member taken off leaves a slot, unless the plan put someone else in the role.
        dispatch_plans.slots_for_removals(
            event=event, removed=removed, added_roles=[a.role for a in added], now=now
        )
    # A new charter has no slots to withdraw: only open items need the slots' table.
    wanted = open_items if not new_event else (open_items or None)
    if wanted is not None and dispatch_plans.planned_slots_ensure(
        event=event, items=wanted, now=now
    ):
        changed = True
    return changed


def _follow_move(event: CrewEvent, *, old_start: datetime) -> None:
    """Move every assignment with its charter, keeping each member's lead time.

    On another day the answers and ticks were for the old date: a member who could come then
    may not be free now, and the dock work is still to do, so they start over.
    """
    delta = event.starts_at - old_start
    new_day = timezone.localdate(event.starts_at) != timezone.localdate(old_start)
    for assignment in event.assignments.filter(removed_at__isnull=True):
        assignment.call_at += delta
        # A new day deserves its own day-before reminder.
        assignment.reminded_day_before_at = None
        fields = ["call_at", "reminded_day_before_at"]
        if new_day:
            assignment.state = AssignmentState.PENDING
            assignment.responded_at = assignment.reminded_unanswered_at = None
            assignment.decline_reason = ""
            fields += ["state", "responded_at", "reminded_unanswered_at", "decline_reason"]
        assignment.save(update_fields=fields)
    if new_day:
        ChecklistItem.objects.filter(assignment__event=event, done_at__isnull=False).update(
            done_at=None, done_by=None
        )


def crew_event_sync(
    *,
    booking: OperationalBooking,
    plan: Sequence[PlannedAssignment] | None = None,
    now: datetime | None = None,
) -> CrewSyncResult:
    """Create or update the crew event of a booking (`crew_event`) and its checklists (`checklist`).

    `plan` replaces the roster when given; None leaves assignments as they are.
    """
    now = now or timezone.now()
    with transaction.atomic():
        values = _event_values(booking)
        event = CrewEvent.objects.select_for_update().filter(booking_id=booking.id).first()
        created = event is None
        if created:
            event = CrewEvent.objects.create(booking_id=booking.id, **values)
            changed: set[str] = set()
        else:
            changed = {name for name in EVENT_NOTIFY_FIELDS if getattr(event, name) != values[name]}
            old_start, old_duration = event.starts_at, event.duration_minutes
            for name, value in values.items():
                setattr(event, name, value)
            if event.starts_at != old_start:
                _follow_move(event, old_start=old_start)
            if event.duration_minutes != old_duration and plan is None:
                # A longer (or shorter) charter lengthens each shift by as much; a new crew
                # plan sets the shifts itself.
                longer = event.duration_minutes - old_duration
                for assignment in event.assignments.filter(removed_at__isnull=True):
                    assignment.shift_minutes = max(1, assignment.shift_minutes + longer)
                    assignment.save(update_fields=["shift_minutes"])
        if plan is not None and _apply_plan(event=event, plan=plan, now=now, new_event=created):
            changed.add("assignments")
        if not created:
            # A new event was saved with these values just above.
            if changed:
                event.version += 1
            event.save()
        checklist_changed = checklist_sync(event=event)
        return CrewSyncResult(
            event=event,
            created=created,
            changed=frozenset(changed),
            checklist_changed=checklist_changed,
        )


def member_codes_unknown(codes: Sequence[str]) -> list[str]:
    """Codes not on the active roster (for intake validation)."""
    active = CrewMember.objects.filter(code__in=codes, active=True)
    known = set(active.values_list("code", flat=True))
    return [code for code in codes if code not in known]


def new_event(booking: OperationalBooking) -> CrewEvent:
    """The crew event of a new booking, not saved."""
    return CrewEvent(booking_id=booking.id, **_event_values(booking))


def members_by_code(plans: Sequence[Sequence[PlannedAssignment]]) -> dict[str, CrewMember]:
    """The members the plans name, by code (one read)."""
    codes = {planned.member_code for plan in plans for planned in plan if planned.member_code}
    return {m.code: m for m in CrewMember.objects.filter(code__in=codes)} if codes else {}


def new_roster(
    event: CrewEvent, plan: Sequence[PlannedAssignment], members: dict[str, CrewMember]
) -> list[Assignment]:
    """The assignments (not saved) a new event gets from its plan, in the plan's order."""
    return [
        _new_assignment(event, planned, members[planned.member_code])
        for planned in plan
        if planned.member_code
    ]


def crew_events_create_many(
    *,
    bookings: Sequence[OperationalBooking],
    plans: Sequence[Sequence[PlannedAssignment] | None],
    members: dict[str, CrewMember] | None = None,
) -> list[CrewSyncResult]:
    """The crew events of bookings that have none yet, with assignments and checklists.

    What `crew_event_sync` does for a new event, for many at once: five statements in all,
    and the open slots' own for a plan that lists some (items without a member). `members`:
    those the plans name, by code, when the caller has them.
    """
    plans = [plan or () for plan in plans]
    if members is None:
        members = members_by_code(plans)
    events = [new_event(booking) for booking in bookings]
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        CrewEvent.objects.bulk_create(events)
        rosters = [
            new_roster(event, plan, members) for event, plan in zip(events, plans, strict=True)
        ]
        Assignment.objects.bulk_create([a for roster in rosters for a in roster])
        # Items in the order checklist_sync reads assignments: by call time, then as inserted.
        by_call = [sorted(roster, key=lambda a: a.call_at) for roster in rosters]
        with_items = checklist_items_create(rosters=list(zip(events, by_call, strict=True)))
        slots = {
            event.pk
            for event, plan in zip(events, plans, strict=True)
            # New charters: only open items need the slots' table.
            if (open_items := dispatch_plans.slot_items(plan))
            and dispatch_plans.planned_slots_ensure(event=event, items=open_items, now=now)
        }
    return [
        CrewSyncResult(
            event=event,
            created=True,
            changed=frozenset({"assignments"} if roster or event.pk in slots else ()),
            checklist_changed=event.pk in with_items,
            added=tuple(roster),
        )
        for event, roster in zip(events, rosters, strict=True)
    ]
