"""Reads of bookings. `OperationalBooking` is the only shape crew and guest code ever receive."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from bookings.models import Booking, Status


@dataclass(frozen=True)
class OperationalBooking:
    """A whitelist of operational fields: no money, no internal notes, no audit."""

    id: int
    source: str
    source_label: str
    external_ref: str
    guest_name: str
    guest_email: str
    guest_phone: str
    guest_count: int
    starts_at: datetime
    duration_minutes: int
    dock_name: str
    dock_address: str
    dock_directions: str
    dock_map_url: str
    status: str
    notes: str

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == Status.CANCELLED

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _project(booking: Booking) -> OperationalBooking:
    dock = booking.dock
    return OperationalBooking(
        id=booking.pk,
        source=booking.source,
        source_label=booking.get_source_display(),
        external_ref=booking.external_ref,
        guest_name=booking.guest_name,
        guest_email=booking.guest_email,
        guest_phone=booking.guest_phone,
        guest_count=booking.guest_count,
        starts_at=booking.starts_at,
        duration_minutes=booking.duration_minutes,
        dock_name=dock.name,
        dock_address=dock.address,
        dock_directions=dock.directions,
        dock_map_url=dock.map_url,
        status=booking.status,
        notes=booking.notes,
    )


def _operational_queryset():
    # `only` keeps the money table out of the query entirely, not merely out of the result.
    return Booking.objects.select_related("dock").only(
        "id",
        "source",
        "external_ref",
        "guest_name",
        "guest_email",
        "guest_phone",
        "guest_count",
        "starts_at",
        "duration_minutes",
        "status",
        "notes",
        "dock__name",
        "dock__address",
        "dock__directions",
        "dock__map_url",
    )


def booking_operational(booking_id: int) -> OperationalBooking:
    """The operational projection of one booking (raises Booking.DoesNotExist)."""
    return _project(_operational_queryset().get(pk=booking_id))


def bookings_operational(booking_ids: Iterable[int]) -> dict[int, OperationalBooking]:
    """Projections of several bookings in one query, keyed by id."""
    return {b.pk: _project(b) for b in _operational_queryset().filter(pk__in=list(booking_ids))}
