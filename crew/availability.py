"""Days crew cannot work: marked in the portal, skipped by offers, warned about when assigned."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from bookings.formatting import local
from crew.dispatch import shift_days
from crew.models import Assignment, CrewEvent, CrewMember, Unavailability


class PastDay(ValueError):
    """A day that has already begun cannot be marked."""


def unavailability_add(*, member: CrewMember, day: date, today: date) -> Unavailability:
    """Mark `day` (operator's zone) as one the member cannot work; marking it twice is fine."""
    if day < today:
        raise PastDay("Choose today or a later day.")
    try:
        with transaction.atomic():
            return Unavailability.objects.create(member=member, day=day)
    except IntegrityError:
        return Unavailability.objects.get(member=member, day=day)


def unavailability_remove(*, member: CrewMember, pk: int) -> bool:
    """Un-mark one of the member's days; False when it is not theirs (or gone already)."""
    deleted, _ = Unavailability.objects.filter(member=member, pk=pk).delete()
    return bool(deleted)


def days_for(member: CrewMember, *, today: date) -> list[Unavailability]:
    """The member's marked days from today on (past days drop away)."""
    return list(Unavailability.objects.filter(member=member, day__gte=today).order_by("day"))


def event_availability_warnings(event: CrewEvent) -> list[str]:
    """One line per active assignment whose member marked a day of their shift unavailable."""
    if event.is_cancelled:
        return []
    mine = list(
        Assignment.objects.filter(event=event, removed_at__isnull=True).select_related("member")
    )
    return assignments_availability_warnings(event, mine)


def assignments_availability_warnings(event: CrewEvent, mine: list[Assignment]) -> list[str]:
    """`event_availability_warnings` from the event's active assignments in hand."""
    if event.is_cancelled or not mine:
        return []
    wanted = {a.pk: set(shift_days(a.call_at, a.ends_at)) for a in mine}
    every_day = set().union(*wanted.values())
    away = set(
        Unavailability.objects.filter(
            member_id__in=[a.member_id for a in mine], day__in=every_day
        ).values_list("member_id", "day")
    )
    warnings = []
    for a in mine:
        for day in sorted(wanted[a.pk]):
            if (a.member_id, day) in away:
                warnings.append(
                    f"{a.member.name} ({a.member.code}) marked {day:%a %-d %b %Y} as a day they "
                    f"cannot work (shift from {local(a.call_at):%H:%M %Z})."
                )
    return warnings


def availability_warnings(*, booking_id: int) -> list[str]:
    """The availability warnings of a booking's crew event (empty when it has none)."""
    event = CrewEvent.objects.filter(booking_id=booking_id).first()
    return event_availability_warnings(event) if event is not None else []
