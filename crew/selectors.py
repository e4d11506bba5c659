"""Reads of the crew's side that need care: visibility, prefetching, overlaps."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Prefetch, Q

from crew.models import Assignment, ChecklistItem, CrewEvent, CrewMember, EventStatus, Role


def operator_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE_NAME)


def event_id_for_booking(booking_id: int) -> int | None:
    """The crew event id of a booking, or None when it has none yet."""
    return CrewEvent.objects.filter(booking_id=booking_id).values_list("pk", flat=True).first()


def _span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    start, end = start.astimezone(zone), end.astimezone(zone)
    if start.date() == end.date():
        return f"{start:%a %d %b %Y %H:%M} to {end:%H:%M}"
    return f"{start:%a %d %b %Y %H:%M} to {end:%a %d %b %H:%M}"


def event_overlap_warnings(event: CrewEvent) -> list[str]:
    """Warnings for the event's active assignments whose shifts overlap another event's.

    Shifts are half-open [call_at, call_at + shift): back-to-back shifts do not overlap.
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
    # Bound the candidates by the longest shift on record, so the database does the narrowing.
    longest = Assignment.objects.aggregate(longest=Max("shift_minutes"))["longest"] or 0
    earliest = min(a.call_at for a in mine) - timedelta(minutes=longest)
    latest = max(a.shift_ends_at for a in mine)
    others = list(
        Assignment.objects.filter(
            member__in=[a.member_id for a in mine],
            removed_at__isnull=True,
            call_at__lt=latest,
            call_at__gt=earliest,
        )
        .exclude(event=event)
        .exclude(event__status=EventStatus.CANCELLED)
        .select_related("event")
        .order_by("call_at", "pk")
    )
    zone = operator_zone()
    warnings = []
    for assignment in mine:
        for other in others:
            if other.member_id != assignment.member_id:
                continue
            overlaps = (
                other.call_at < assignment.shift_ends_at
                and assignment.call_at < other.shift_ends_at
            )
            if overlaps:
                warnings.append(
                    f"{assignment.member.name} ({assignment.member.code}): shift "
                    f"{_span(assignment.call_at, assignment.shift_ends_at, zone)} overlaps "
                    f"{other.event.title} (shift "
                    f"{_span(other.call_at, other.shift_ends_at, zone)})"
                )
    return warnings


def overlap_warnings(*, booking_id: int) -> list[str]:
    """Human-readable overlap warnings for the booking's crew event (empty when none)."""
    event = CrewEvent.objects.filter(booking_id=booking_id).first()
    if event is None:
        return []
    return event_overlap_warnings(event)


# --- The portal: a member sees their own assignments only ---

# Past charters shown in the portal (older ones stay in the calendar feed).
PAST_WINDOW = timedelta(days=90)


def member_for_user(user) -> CrewMember | None:
    """The active crew member behind a signed-in user, or None (staff, strangers)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return CrewMember.objects.filter(user_id=user.pk, active=True).first()


def _with_details(queryset):
    """Assignments with everything a portal card shows, in a fixed number of queries."""
    return queryset.select_related("event", "member").prefetch_related(
        Prefetch(
            "checklist_items",
            queryset=ChecklistItem.objects.filter(obsolete=False).order_by("position", "pk"),
            to_attr="visible_items",
        ),
        Prefetch(
            "event__assignments",
            queryset=Assignment.objects.filter(removed_at__isnull=True)
            .select_related("member")
            .order_by("call_at", "pk"),
            to_attr="active_crew",
        ),
    )


def _annotate(assignment: Assignment) -> Assignment:
    """Captain and shipmates' first names, and checklist progress, from prefetched rows."""
    others = [a for a in assignment.event.active_crew if a.pk != assignment.pk]
    captain = next((a.member.first_name for a in others if a.role == Role.CAPTAIN), None)
    assignment.captain_name = (
        assignment.member.first_name if assignment.role == Role.CAPTAIN else captain
    )
    assignment.shipmates = [
        f"{a.member.first_name} ({a.get_role_display()})" for a in others if a.role != Role.CAPTAIN
    ]
    items = assignment.visible_items
    assignment.progress = f"{sum(1 for i in items if i.is_done)}/{len(items)}"
    assignment.open = assignment.removed_at is None and not assignment.event.is_cancelled
    return assignment


@dataclass(frozen=True)
class Portal:
    member: CrewMember
    upcoming: list[Assignment]
    past: list[Assignment]


def portal_for(member: CrewMember, *, now: datetime) -> Portal:
    """The member's current assignments: upcoming first by call time, then recent past."""
    rows = _with_details(
        Assignment.objects.filter(
            member=member, removed_at__isnull=True, call_at__gte=now - PAST_WINDOW
        ).order_by("call_at", "pk")
    )
    upcoming, past = [], []
    for assignment in rows:
        _annotate(assignment)
        (upcoming if assignment.shift_ends_at >= now else past).append(assignment)
    past.reverse()
    return Portal(member=member, upcoming=upcoming, past=past)


def assignment_for(member: CrewMember, pk: int) -> Assignment | None:
    """One of the member's assignments (removed ones included), or None if not theirs."""
    found = _with_details(Assignment.objects.filter(member=member, pk=pk)).first()
    return _annotate(found) if found is not None else None


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


def event_progress(event: CrewEvent) -> dict[int, str]:
    """Assignment id → "done/total" of its live checklist items, in one query."""
    rows = (
        ChecklistItem.objects.filter(assignment__event=event, obsolete=False)
        .values("assignment_id")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(done_at__isnull=False)))
        .order_by()
    )
    return {row["assignment_id"]: f"{row['done']}/{row['total']}" for row in rows}
