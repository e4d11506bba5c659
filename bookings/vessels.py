"""Vessels: the default one, and one confirmed charter per vessel at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from bookings.formatting import local
from bookings.intervals import Intervals
from bookings.models import Booking, Status, Vessel
from bookings.selectors import vessel_overlap

EN_DASH = "\u2013"
# The name of the exclusion constraint of migration 0006 (PostgreSQL only).
NO_OVERLAP_CONSTRAINT = "booking_vessel_no_overlap"


class BookingConflict(Exception):
    """Another confirmed booking has the vessel then; `errors` is the API's 409 body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.errors = {"starts_at": [message]}


def vessel_default() -> Vessel:
    """The vessel of a booking that names none.

    The one marked default in the admin, else `DEFAULT_VESSEL`, else the only active one. With
    no vessel at all (a database from before vessels), `DEFAULT_VESSEL` is created; several and
    no default is a ValidationError on `vessel` naming the codes.
    """
    active = list(Vessel.objects.filter(active=True).order_by("-is_default", "code"))
    if active and active[0].is_default:
        return active[0]
    by_code = {vessel.code: vessel for vessel in active}
    if settings.DEFAULT_VESSEL in by_code:
        return by_code[settings.DEFAULT_VESSEL]
    if len(active) == 1:
        return active[0]
    if not active and settings.DEFAULT_VESSEL and not Vessel.objects.exists():
        code = settings.DEFAULT_VESSEL
        # Capacity 150 is the bound guest counts always had; the operator sets the real one.
        vessel, _ = Vessel.objects.get_or_create(
            code=code, defaults={"name": code.title(), "guest_name": code.title(), "capacity": 150}
        )
        return vessel
    codes = ", ".join(by_code) or "none is active"
    raise ValidationError(
        {"vessel": [f"Several vessels and no default: name the vessel, one of {codes}."]}
    )


def blocked_until(*, starts_at: datetime, duration_minutes: int, vessel: Vessel) -> datetime:
    """Where the vessel is free again: the end of the charter plus its turnaround."""
    return starts_at + timedelta(minutes=duration_minutes + vessel.turnaround_minutes)


def conflict_message(*, vessel: Vessel, other: Booking) -> str:
    """ "Jada is booked 09:00-12:00 PST for BS-1 (turnaround 30 min)" (an en dash), local time."""
    start, end = local(other.starts_at), local(other.ends_at)
    day = "" if start.date() == end.date() else f"{end:%a %d %b} "
    return (
        f"{vessel.name} is booked {start:%H:%M}{EN_DASH}{day}{end:%H:%M} {start:%Z} for "
        f"{other.external_ref} (turnaround {vessel.turnaround_minutes} min)"
    )


def booking_conflict(
    *,
    vessel: Vessel,
    starts_at: datetime,
    duration_minutes: int,
    status: str,
    exclude_pk: int | None,
) -> str | None:
    """Why this time cannot be booked on `vessel` (another confirmed booking), or None."""
    if status != Status.CONFIRMED:
        return None
    until = blocked_until(starts_at=starts_at, duration_minutes=duration_minutes, vessel=vessel)
    other = vessel_overlap(
        vessel_id=vessel.pk, starts_at=starts_at, blocked_until=until, exclude_pk=exclude_pk
    )
    return None if other is None else conflict_message(vessel=vessel, other=other)


def _conflict_of(booking: Booking) -> str | None:
    return booking_conflict(
        vessel=booking.vessel,
        starts_at=booking.starts_at,
        duration_minutes=booking.duration_minutes,
        status=booking.status,
        exclude_pk=booking.pk,
    )


def booking_save_checked(booking: Booking, *, force_insert: bool = False) -> None:
    """Save, with the vessel free at that time: checked here, held by PostgreSQL's constraint."""
    message = _conflict_of(booking)
    if message and booking._state.adding and _same_booking_exists(booking):
        # Created by a request sent at the same moment since this one looked: retry as an update.
        raise IntegrityError("the booking was created concurrently")
    if message:
        raise BookingConflict(message)
    if connection.vendor != "postgresql":
        # Elsewhere there is no constraint to lose a race on: the check above is the rule.
        booking.save(force_insert=force_insert)
        return
    try:
        # A savepoint: after losing the race the transaction can still read who won.
        with transaction.atomic():
            booking.save(force_insert=force_insert)
    except IntegrityError as e:
        if NO_OVERLAP_CONSTRAINT not in str(e):
            raise
        if booking._state.adding and _same_booking_exists(booking):
            # The rival is this very booking, created by a request sent at the same moment:
            # the caller retries and updates it, as when the unique constraint stops it.
            raise
        message = _conflict_of(booking)
        raise BookingConflict(message or f"{booking.vessel.name} is booked then.") from e


def _same_booking_exists(booking: Booking) -> bool:
    """Whether another request has just created the booking with this source and reference."""
    return (
        Booking.objects.filter(source=booking.source, external_ref=booking.external_ref)
        .exclude(pk=booking.pk)
        .exists()
    )


def turnaround_clash(*, vessel: Vessel, minutes: int) -> str | None:
    """Which two confirmed charters a new turnaround would make overlap, if any."""
    rows = (
        Booking.objects.filter(vessel=vessel, status=Status.CONFIRMED)
        .order_by("starts_at", "pk")
        .values_list("external_ref", "starts_at", "duration_minutes")
    )
    previous: tuple[str, datetime] | None = None
    for ref, start, duration in rows:
        if previous is not None and start < previous[1]:
            return f"With {minutes} min, {previous[0]} and {ref} would overlap: move one first."
        previous = (ref, start + timedelta(minutes=duration + minutes))
    return None


def vessel_save(*, vessel: Vessel) -> Vessel:
    """Save a vessel; its bookings' blocked time follows a changed turnaround."""
    with transaction.atomic():
        vessel.save()
        stale = []
        for booking in Booking.objects.select_for_update().filter(vessel=vessel):
            until = blocked_until(
                starts_at=booking.starts_at,
                duration_minutes=booking.duration_minutes,
                vessel=vessel,
            )
            if booking.blocked_until != until:
                booking.blocked_until = until
                stale.append(booking)
        Booking.objects.bulk_update(stale, ["blocked_until"], batch_size=500)
    return vessel


class BookedTimes:
    """Confirmed bookings' times by vessel, read from the table once and added to in hand.

    Answers what `booking_conflict` answers for many new bookings, each also against the ones
    accepted before it, without a read per booking.
    """

    def __init__(self) -> None:
        self._times = Intervals()
        self._read: set[int] = set()

    def read(self, bookings: Sequence[Booking]) -> None:
        """Add the table's confirmed bookings around these (one read for all)."""
        confirmed = [b for b in bookings if b.status == Status.CONFIRMED]
        if not confirmed:
            return
        on_file = Booking.objects.filter(
            vessel_id__in={b.vessel_id for b in confirmed},
            status=Status.CONFIRMED,
            starts_at__lt=max(b.blocked_until for b in confirmed),
            blocked_until__gt=min(b.starts_at for b in confirmed),
        ).only("id", "vessel_id", "external_ref", "starts_at", "duration_minutes", "blocked_until")
        for other in on_file:
            if other.pk not in self._read:
                self._read.add(other.pk)
                self._times.add(other.vessel_id, other.starts_at, other.blocked_until, other)

    def conflict(self, booking: Booking) -> str | None:
        """Why the new `booking` cannot be, as `booking_conflict` says it; else it is taken."""
        if booking.status != Status.CONFIRMED:
            return None
        others = self._times.overlapping(
            booking.vessel_id, booking.starts_at, booking.blocked_until
        )
        if others:
            # The first by start, as `vessel_overlap` names it.
            other = min(others, key=lambda b: b.starts_at)
            return conflict_message(vessel=booking.vessel, other=other)
        self._times.add(booking.vessel_id, booking.starts_at, booking.blocked_until, booking)
        return None
