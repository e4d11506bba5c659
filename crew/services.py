"""Writes to the crew's side: the crew event, assignments and checklists.

Crew code receives a booking only as `bookings.selectors.OperationalBooking`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bookings.selectors import OperationalBooking
from crew.models import (
    Assignment,
    ChecklistItem,
    ChecklistTemplate,
    CrewEvent,
    CrewMember,
    EventStatus,
    Role,
)

# Crew are called to the dock this long before guests board (prep, fuel, fenders).
CALL_LEAD = timedelta(minutes=60)
# Event fields whose change crew must be told about (a new version and a "changed" email).
EVENT_NOTIFY_FIELDS = (
    "starts_at",
    "duration_minutes",
    "dock_name",
    "dock_address",
    "dock_directions",
    "guest_count",
    "notes",
    "status",
)


@dataclass(frozen=True)
class PlannedAssignment:
    member_code: str
    role: str
    shift_minutes: int | None = None  # None: the charter plus prep and clean-up


@dataclass(frozen=True)
class CrewSyncResult:
    event: CrewEvent
    created: bool
    changed: frozenset[str]  # event fields and "assignments" when the roster changed
    checklist_changed: bool

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
        "guest_count": booking.guest_count,
        "notes": booking.notes,
        "status": EventStatus.CANCELLED if booking.is_cancelled else EventStatus.SCHEDULED,
    }


def _apply_plan(
    *, event: CrewEvent, plan: Sequence[PlannedAssignment], now: datetime
) -> bool:
    """Make the event's active assignments match the plan; returns whether anything changed."""
    members = {m.code: m for m in CrewMember.objects.filter(code__in=[p.member_code for p in plan])}
    existing = {a.member.code: a for a in event.assignments.select_related("member")}
    changed = False
    for planned in plan:
        shift = planned.shift_minutes or default_shift_minutes(event.duration_minutes)
        assignment = existing.pop(planned.member_code, None)
        if assignment is None:
            Assignment.objects.create(
                event=event,
                member=members[planned.member_code],
                role=planned.role,
                call_at=event.starts_at - CALL_LEAD,
                shift_minutes=shift,
            )
            changed = True
            continue
        updates: dict[str, object] = {}
        if assignment.removed_at is not None:
            updates["removed_at"] = None
        if assignment.role != planned.role:
            updates["role"] = planned.role
        if assignment.shift_minutes != shift:
            updates["shift_minutes"] = shift
        if updates:
            for name, value in updates.items():
                setattr(assignment, name, value)
            assignment.save(update_fields=list(updates))
            changed = True
    for assignment in existing.values():
        if assignment.removed_at is None:
            assignment.removed_at = now
            assignment.save(update_fields=["removed_at"])
            changed = True
    return changed


def crew_event_sync(
    *,
    booking: OperationalBooking,
    plan: Sequence[PlannedAssignment] | None = None,
    now: datetime | None = None,
) -> CrewSyncResult:
    """Create or update the crew event of a booking (stage 2) and its checklists (stage 4).

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
            shift = event.starts_at != values["starts_at"]
            old_start = event.starts_at
            for name, value in values.items():
                setattr(event, name, value)
            if shift:
                # Keep each member's lead time when the charter moves.
                delta = event.starts_at - old_start
                for assignment in event.assignments.all():
                    assignment.call_at += delta
                    assignment.save(update_fields=["call_at"])
        if plan is not None and _apply_plan(event=event, plan=plan, now=now):
            changed.add("assignments")
        if changed and not created:
            event.version += 1
        event.save()
        checklist_changed = checklist_sync(event=event)
        return CrewSyncResult(
            event=event,
            created=created,
            changed=frozenset(changed),
            checklist_changed=checklist_changed,
        )


def render_checklist_text(template: ChecklistTemplate, event: CrewEvent) -> str:
    local_start = timezone.localtime(event.starts_at)
    try:
        return template.text.format(
            guest_count=event.guest_count,
            dock=event.dock_name,
            start=f"{local_start:%H:%M}",
        )
    except (KeyError, IndexError, ValueError):
        # A typo in a template must not stop the pipeline; show the text as written.
        return template.text


def checklist_sync(*, event: CrewEvent) -> bool:
    """Generate each active assignment's items from templates, keeping ticks that still apply.

    An item whose text changes (a new guest count) loses its tick: the task is a new one.
    """
    templates = list(ChecklistTemplate.objects.filter(active=True))
    changed = False
    assignments = event.assignments.filter(removed_at__isnull=True).prefetch_related(
        "checklist_items"
    )
    for assignment in assignments:
        by_template = {i.template_id: i for i in assignment.checklist_items.all() if i.template_id}
        wanted = [t for t in templates if t.role in ("", assignment.role)]
        for template in wanted:
            text = render_checklist_text(template, event)
            item = by_template.pop(template.pk, None)
            if item is None:
                ChecklistItem.objects.create(
                    assignment=assignment, template=template, text=text, position=template.position
                )
                changed = True
            elif item.text != text or item.obsolete or item.position != template.position:
                if item.text != text:
                    item.done_at, item.done_by = None, None
                item.text, item.obsolete, item.position = text, False, template.position
                item.save()
                changed = True
        for item in by_template.values():
            if not item.obsolete:
                item.obsolete = True
                item.save(update_fields=["obsolete"])
                changed = True
    return changed


def member_codes_unknown(codes: Sequence[str]) -> list[str]:
    """Codes not on the active roster (for intake validation)."""
    known = set(CrewMember.objects.filter(code__in=codes, active=True).values_list("code", flat=True))
    return [code for code in codes if code not in known]


def roles() -> list[str]:
    return list(Role.values)
