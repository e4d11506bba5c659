"""Days crew cannot work: marked in the portal, skipped by offers, warned about when assigned."""

from __future__ import annotations

from collections.abc import Sequence
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
    return events_availability_warnings([(event, mine)])[0]


def events_availability_warnings(
    rosters: Sequence[tuple[CrewEvent, Sequence[Assignment]]],
) -> list[list[str]]:
    """`event_availability_warnings` of several events from their assignments, in one read."""
    # By identity: the assignments of a plan are not saved, so they have no id yet.
    wanted = {
        id(a): set(shift_days(a.call_at, a.ends_at))
        for event, mine in rosters
        if not event.is_cancelled
        for a in mine
    }
    if not wanted:
        return [[] for _ in rosters]
    members = {a.member_id for _, mine in rosters for a in mine}
    away = set(
        Unavailability.objects.filter(
            member_id__in=members, day__in=set().union(*wanted.values())
        ).values_list("member_id", "day")
    )
    result = []
    for event, mine in rosters:
        warnings = []
        for a in mine if not event.is_cancelled else ():
            for day in sorted(wanted[id(a)]):
                if (a.member_id, day) in away:
                    warnings.append(
                        f"{a.member.name} ({a.member.code}) marked {day:%a %-d %b %Y} as a day "
                        f"they cannot work (shift from {local(a.call_at):%H:%M %Z})."
                    )
        result.append(warnings)
    return result


def availability_warnings(*, booking_id: int) -> list[str]:
    """The availability warnings of a booking's crew event (empty when it has none)."""
    event = CrewEvent.objects.filter(booking_id=booking_id).first()
    return event_availability_warnings(event) if event is not None else []
