"""The API's JSON for one booking: the request's fields as stored, money, guest page, pipeline.

The document goes through `jada.api.schemas.Booking`, so it is what /api/openapi.json says.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bookings import formatting
from bookings.holds import hold_warnings
from bookings.models import Booking
from crew.availability import availability_warnings
from crew.models import Assignment, Role
from crew.selectors import overlap_warnings
from guests.models import GuestPage
from jada import pipeline
from jada.api.schemas import Booking as BookingDocument

HOURS_PLACES = Decimal("0.0001")
# Response name → Financials field (the write-up's calendar names on the left).
MONEY_FIELDS = {
    "gross_revenue": "gross_revenue",
    "crew_cost": "crew_cost",
    "captain_cost": "captain_cost",
    "port_fee_percent": "fee_percent",
    "port_fee": "fee",
    "net_revenue": "net_revenue",
}


def hours(minutes: int) -> str:
    """180 → "3", 150 → "2.5": the shortest exact-enough spelling of a duration in hours."""
    text = f"{(Decimal(minutes) / 60).quantize(HOURS_PLACES):f}"
    return text.rstrip("0").rstrip(".")


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def booking_json(booking_id: int, *, warnings: list[str] | None = None) -> dict[str, Any]:
    """The response document of a booking (raises Booking.DoesNotExist)."""
    booking = Booking.objects.select_related("dock", "vessel", "financials").get(pk=booking_id)
    # Every intake creates Financials with the booking; None only guards a hand-made row.
    financials = getattr(booking, "financials", None)
    local = formatting.local(booking.starts_at)
    page = GuestPage.objects.filter(booking_id=booking.pk).first()
    assignments = list(
        Assignment.objects.filter(event__booking_id=booking.pk, removed_at__isnull=True)
        .select_related("member")
        .order_by("call_at", "pk")
    )
    captain = next((a for a in assignments if a.role == Role.CAPTAIN), None)
    if warnings is None:
        warnings = [
            *overlap_warnings(booking_id=booking.pk),
            *availability_warnings(booking_id=booking.pk),
            *hold_warnings(booking.pk),
        ]
    document = {
        "id": booking.pk,
        "event_type": "booking",
        "source": booking.source,
        "external_ref": booking.external_ref,
        "status": booking.status,
        "starts_at": utc(booking.starts_at),
        "starts_at_local": local,
        "time_zone": formatting.zone_name(),
        "charter_date": local.date(),
        "start_time": f"{local:%H:%M}",
        "duration_hours": hours(booking.duration_minutes),
        "duration_minutes": booking.duration_minutes,
        **{name: getattr(financials, field, None) for name, field in MONEY_FIELDS.items()},
        "currency": getattr(financials, "currency", None),
        "guest": {
            "name": booking.guest_name,
            "email": booking.guest_email,
            "phone": booking.guest_phone,
            "count": booking.guest_count,
        },
        "location": booking.dock.name,
        "vessel": booking.vessel.code,
        "captain_id": captain.member.code if captain is not None else None,
        "crew_assignments": [
            {
                "crew_id": a.member.code,
                "role": a.role,
                "duration_hours": hours(a.shift_minutes),
                "call_at": utc(a.call_at),
                "state": a.state,
            }
            for a in assignments
            if a is not captain
        ],
        "notes": booking.notes,
        "guest_page": (
            {"session_id": page.session_id, "path": page.path, "url": page.url}
            if page is not None
            else None
        ),
        "pipeline": pipeline.stage_states(booking.pk),
        "warnings": list(warnings),
        "created_at": utc(booking.created_at),
        "updated_at": utc(booking.updated_at),
    }
    return BookingDocument.model_validate(document).model_dump(mode="json")
