"""Reads of the crew's side that need care: visibility, prefetching, overlaps."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max

from crew.models import Assignment, CrewEvent, EventStatus


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
