"""Open slots that follow from a crew plan: places a plan takes away, open items it lists."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from crew.dispatch import CALL_LEAD_FOR_SLOTS, slot_open, slot_open_for
from crew.models import Assignment, AssignmentState, CrewEvent, Slot, SlotOrigin


def slots_for_removals(
    *, event: CrewEvent, removed: Iterable[Assignment], added_roles: Iterable[str], now: datetime
) -> list[Slot]:
    """Open a slot for each member a plan took off, unless the plan put another in the role."""
    from crew.services import CALL_LEAD

    spare: dict[str, int] = {}
    for role in added_roles:
        spare[role] = spare.get(role, 0) + 1
    opened = []
    for assignment in removed:
        if spare.get(assignment.role, 0) > 0:
            spare[assignment.role] -= 1
            continue
        if assignment.state == AssignmentState.DECLINED:
            continue  # their decline opened the slot already
        assignment.event = event
        # The member keeps the shift they were told of; the slot is for the charter as it is.
        call_at = event.starts_at - CALL_LEAD
        slot = slot_open_for(
            assignment=assignment, origin=SlotOrigin.REMOVED, now=now, call_at=call_at
        )
        if slot is not None:
            opened.append(slot)
    return opened


def slot_items(plan: Iterable) -> list | None:
    """A plan's open-slot items (no member), or None when the plan does not list open slots.

    An item with neither member nor role says "these are all the open slots, maybe none"; the
    API and the booking form send it, so dropping the last open item withdraws its slot. A plan
    without any such item (the crew event page's) leaves the open slots as they are.
    """
    items = [p for p in plan if not p.member_code]
    return [p for p in items if p.role] if items else None


def takers_keep(*, event: CrewEvent, existing: dict, open_items: list) -> list:
    """Members who took an open slot of the event fill a plan's open items of their role.

    Pops each kept taker out of `existing` (code → assignment) so the plan leaves them on the
    charter; returns the open items still unfilled.
    """
    takers = set(
        Slot.objects.filter(event=event, filled_by__isnull=False, withdrawn_at__isnull=True)
        .filter(filled_by__removed_at__isnull=True)
        .values_list("filled_by_id", flat=True)
    )
    left = list(open_items)
    for code, assignment in list(existing.items()):
        if assignment.pk not in takers:
            continue
        item = next((i for i in left if i.role == assignment.role), None)
        if item is not None:
            left.remove(item)
            existing.pop(code)
    return left


def planned_slots_ensure(*, event: CrewEvent, items: list, now: datetime) -> bool:
    """Keep as many open slots asked for by a plan (the API) as it lists, per role.

    Creates the missing ones (offered at once when offering is on) and withdraws the extra;
    returns whether anything changed.
    """
    from crew.services import default_shift_minutes

    wanted: dict[str, list] = {}
    for item in items:
        wanted.setdefault(item.role, []).append(item)
    have: dict[str, list[Slot]] = {}
    for slot in Slot.objects.filter(
        event=event, origin=SlotOrigin.API, filled_at__isnull=True, withdrawn_at__isnull=True
    ).order_by("opened_at", "pk"):
        have.setdefault(slot.role, []).append(slot)
    changed = False
    for role in set(wanted) | set(have):
        asked, open_now = wanted.get(role, []), have.get(role, [])
        for item in asked[len(open_now) :]:
            slot_open(
                event=event,
                role=role,
                call_at=item.call_at or event.starts_at - CALL_LEAD_FOR_SLOTS,
                shift_minutes=item.shift_minutes or default_shift_minutes(event.duration_minutes),
                origin=SlotOrigin.API,
                now=now,
            )
            changed = True
        for slot in open_now[len(asked) :]:
            slot.withdrawn_at = now
            slot.save(update_fields=["withdrawn_at"])
            changed = True
    return changed


def open_items_settled(*, event_id: int, items: list) -> tuple[set[str], bool]:
    """For a plan's open items: the codes of takers they keep, and whether the rest are open.

    Lets the intake tell a plan that changes nothing from one that does, without writing.
    """
    api_open = Slot.objects.filter(
        event_id=event_id, origin=SlotOrigin.API, filled_at__isnull=True, withdrawn_at__isnull=True
    )
    if not items:
        # Nothing asked for: settled when nothing asked for before is still open (one query).
        return set(), not api_open.exists()
    takers = list(
        Slot.objects.filter(
            event_id=event_id,
            filled_by__isnull=False,
            filled_by__removed_at__isnull=True,
            withdrawn_at__isnull=True,
        ).values_list("filled_by__member__code", "filled_by__role")
    )
    left = [item.role for item in items]
    kept = set()
    for code, role in takers:
        if role in left:
            left.remove(role)
            kept.add(code)
    open_roles = sorted(
        Slot.objects.filter(
            event_id=event_id,
            origin=SlotOrigin.API,
            filled_at__isnull=True,
            withdrawn_at__isnull=True,
        ).values_list("role", flat=True)
    )
    return kept, open_roles == sorted(left)
