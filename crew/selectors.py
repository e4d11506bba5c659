"""Reads of the crew's side that need care: visibility, prefetching, overlaps."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from bookings import formatting
from crew.models import (
    Assignment,
    AssignmentState,
    ChecklistItem,
    CrewEvent,
    CrewMember,
    EventStatus,
    Role,
    Slot,
    SlotOrigin,
)


def event_id_for_booking(booking_id: int) -> int | None:
    """The crew event id of a booking, or None when it has none yet."""
    return CrewEvent.objects.filter(booking_id=booking_id).values_list("pk", flat=True).first()


def crew_roster(booking_id: int) -> list[dict[str, Any]]:
    """The charter's crew as the audit log keeps it: each member (who, role, call time, shift,
    the open slot they took, whether they declined) and each open slot (whose place it is, and
    why it opened when that was a deactivation), names stored so the log reads without crew."""
    members = (
        Assignment.objects.filter(event__booking_id=booking_id, removed_at__isnull=True)
        .select_related("member", "filled_slot")
        .order_by("member__name", "member__code")
    )
    slots = (
        Slot.objects.filter(
            event__booking_id=booking_id, filled_at__isnull=True, withdrawn_at__isnull=True
        )
        .select_related("vacated_by")
        .order_by("opened_at", "pk")
    )
    return [_member_row(a) for a in members] + [_slot_row(s) for s in slots]


def crew_roster_new(assignments: Iterable[Assignment]) -> list[dict[str, Any]]:
    """`crew_roster` of a new charter's assignments just written (members attached), read from
    them, not the table: they took no slot and answered nothing yet."""
    ordered = sorted(assignments, key=lambda a: (a.member.name, a.member.code))
    return [_member_row(a, new=True) for a in ordered]


def _role_word(role: str) -> str:
    return str(dict(Role.choices).get(role, role)).lower()


def _member_row(a: Assignment, *, new: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "code": a.member.code,
        "name": a.member.name,
        "role": _role_word(a.role),
        "call_at": a.call_at.isoformat() if a.call_at else None,
        "shift_minutes": a.shift_minutes,
    }
    # A new assignment has no slot: asking would cost a read.
    filled = None if new else getattr(a, "filled_slot", None)
    if filled is not None:
        row["slot"] = filled.pk
    if a.state == AssignmentState.DECLINED:
        # Only when true: rows recorded before the key existed read the same.
        row["declined"] = True
    return row


def _slot_row(s: Slot) -> dict[str, Any]:
    return {
        "slot": s.pk,
        "role": _role_word(s.role),
        "call_at": s.call_at.isoformat(),
        "shift_minutes": s.shift_minutes,
        # A place someone left (declined, removed): whose it was.
        **({"place_of": s.vacated_by.name} if s.vacated_by else {}),
        **({"deactivated": True} if s.origin == SlotOrigin.DEACTIVATED else {}),
    }


# Overlaps listed per event; past this, one line says how many more (a roster pasted twice
# must not turn one save into a read of every shift on record).
OVERLAP_LIST_LIMIT = 10


def event_overlap_warnings(event: CrewEvent) -> list[str]:
    """Warnings for the event's active assignments whose shifts overlap another event's.

    Shifts are half-open [call_at, ends_at): back-to-back shifts do not overlap.
    Removed assignments and cancelled events never count.
    """
    if event.status == EventStatus.CANCELLED:
        return []
    mine = list(
        Assignment.objects.filter(event=event, removed_at__isnull=True)
        .select_related("member")
        .order_by("call_at", "pk")
    )
    if not mine:
        return []
    clash = Q()
    for a in mine:
        clash |= Q(member_id=a.member_id, call_at__lt=a.ends_at, ends_at__gt=a.call_at)
    others = (
        Assignment.objects.filter(clash, removed_at__isnull=True)
        .exclude(event=event)
        .exclude(event__status=EventStatus.CANCELLED)
    )
    rows = list(
        others.order_by("call_at", "pk").values_list(
            "member_id", "call_at", "ends_at", "event__title"
        )[: OVERLAP_LIST_LIMIT + 1]
    )
    total = others.count() if len(rows) > OVERLAP_LIST_LIMIT else len(rows)
    return _overlap_lines(mine, rows, total=total)


def _overlap_lines(mine: Sequence[Assignment], rows: Sequence[tuple], *, total: int) -> list[str]:
    """The warning lines: `rows` (member id, call, end, title) are the first of `total` others."""
    warnings = []
    for assignment in mine:
        for member_id, call_at, ends_at, title in rows:
            if member_id != assignment.member_id:
                continue
            if call_at < assignment.ends_at and assignment.call_at < ends_at:
                warnings.append(
                    f"{assignment.member.name} ({assignment.member.code}): shift "
                    f"{formatting.span_text(assignment.call_at, assignment.ends_at)} overlaps "
                    f"{title} (shift {formatting.span_text(call_at, ends_at)}), "
                    f"times in {formatting.zone_name()}"
                )
    if len(rows) > OVERLAP_LIST_LIMIT:
        del warnings[OVERLAP_LIST_LIMIT:]
        more = total - OVERLAP_LIST_LIMIT
        warnings.append(f"… and {more} more overlapping shift(s) of this crew.")
    return warnings


def events_overlap_warnings(
    rosters: Sequence[tuple[CrewEvent, Sequence[Assignment]]],
) -> list[list[str]]:
    """`event_overlap_warnings` of new events from their new assignments, in one query.

    As if each event had been saved alone, in this order: one never sees those after it.
    """
    shifts = [a for event, roster in rosters if not event.is_cancelled for a in roster]
    if not shifts:
        return [[] for _ in rosters]
    new = Assignment.objects.filter(
        pk__in=[a.pk for a in shifts],
        member_id=OuterRef("member_id"),
        call_at__lt=OuterRef("ends_at"),
        ends_at__gt=OuterRef("call_at"),
    )
    candidates = list(
        Assignment.objects.filter(
            Exists(new),
            # The bounds of them all, for the (member, call_at, ends_at) index.
            member_id__in={a.member_id for a in shifts},
            call_at__lt=max(a.ends_at for a in shifts),
            ends_at__gt=min(a.call_at for a in shifts),
            removed_at__isnull=True,
        )
        .exclude(event__status=EventStatus.CANCELLED)
        .values_list("pk", "member_id", "call_at", "ends_at", "event__title", "event_id")
    )
    position = {event.pk: index for index, (event, _) in enumerate(rosters)}
    by_member: dict[int, list[tuple]] = {}
    for row in candidates:
        by_member.setdefault(row[1], []).append(row)
    result = []
    for index, (event, roster) in enumerate(rosters):
        if event.is_cancelled or not roster:
            result.append([])
            continue
        mine = sorted(roster, key=lambda a: (a.call_at, a.pk))
        seen = {
            row
            for a in mine
            for row in by_member.get(a.member_id, ())
            if row[2] < a.ends_at and a.call_at < row[3] and position.get(row[5], -1) < index
        }
        result.append(overlap_lines(mine, [row[:5] for row in seen]))
    return result


def overlap_lines(mine: Sequence[Assignment], others: Iterable[tuple]) -> list[str]:
    """The warning lines of `mine` (by call time) against other events' overlapping shifts.

    `others`: (order, member id, call, end, event title), `order` the id: listed as
    `event_overlap_warnings` lists them, by call time, then id.
    """
    rows = [row[1:] for row in sorted(others, key=lambda row: (row[2], row[0]))]
    return _overlap_lines(mine, rows[: OVERLAP_LIST_LIMIT + 1], total=len(rows))


def booking_assignments(*, booking_id: int) -> list[Assignment]:
    """The active assignments of a booking's crew event, with the event and members."""
    return list(
        Assignment.objects.filter(event__booking_id=booking_id, removed_at__isnull=True)
        .select_related("event", "member")
        .order_by("call_at", "pk")
    )


def overlap_warnings(*, booking_id: int) -> list[str]:
    """Human-readable overlap warnings for the booking's crew event (empty when none)."""
    event = CrewEvent.objects.filter(booking_id=booking_id).first()
    if event is None:
        return []
    return event_overlap_warnings(event)


# --- The portal: a member sees their own assignments only ---


def member_for_user(user) -> CrewMember | None:
    """The active crew member behind a signed-in user, or None (staff, strangers)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return CrewMember.objects.filter(user_id=user.pk, active=True).first()


def assignment_owned(member: CrewMember, pk: int) -> Assignment | None:
    """One of the member's assignments, without the portal's details (for writes)."""
    return Assignment.objects.filter(member=member, pk=pk).first()


def assignment_with_member(pk: int) -> Assignment | None:
    """An assignment with its event and member (for links that carry their own token)."""
    return Assignment.objects.filter(pk=pk).select_related("event", "member").first()


def checklist_item_for(member: CrewMember, pk: int) -> ChecklistItem | None:
    return ChecklistItem.objects.filter(assignment__member=member, pk=pk).first()


def feed_member(token: str) -> CrewMember | None:
    """The member whose calendar feed secret is `token` (constant-time confirmed), or None."""
    member = CrewMember.objects.filter(feed_token=token, active=True).first()
    if member is None or not hmac.compare_digest(member.feed_token.encode(), token.encode()):
        return None
    return member


def feed_assignments(member: CrewMember) -> list[Assignment]:
    return list(
        Assignment.objects.filter(member=member)
        .select_related("event", "member")
        .order_by("call_at")
    )


def event_ticks(event: CrewEvent) -> list[ChecklistItem]:
    """The event's ticked live checklist items with their members, in the order ticked."""
    return list(
        ChecklistItem.objects.filter(
            assignment__event=event,
            assignment__removed_at__isnull=True,
            obsolete=False,
            done_at__isnull=False,
        )
        .select_related("assignment__member")
        .order_by("done_at", "pk")
    )


def event_progress(event: CrewEvent) -> dict[int, str]:
    """Assignment id → "done/total" of its live checklist items, in one query."""
    rows = (
        ChecklistItem.objects.filter(assignment__event=event, obsolete=False)
        .values("assignment_id")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(done_at__isnull=False)))
        .order_by()
    )
    return {row["assignment_id"]: f"{row['done']}/{row['total']}" for row in rows}
