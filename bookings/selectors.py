"""Reads of bookings. `OperationalBooking` is the only shape crew and guest code ever receive."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncMonth

from bookings.models import (
    MAX_DURATION_MINUTES,
    Booking,
    Dock,
    Financials,
    Source,
    Status,
    Vessel,
)


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
    vessel_code: str
    vessel_name: str  # what crew call the boat
    vessel_guest_name: str  # what the guest page calls it

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == Status.CANCELLED


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
        vessel_code=booking.vessel.code,
        vessel_name=booking.vessel.name,
        vessel_guest_name=booking.vessel.guest_name,
    )


def booking_projection(booking: Booking) -> OperationalBooking:
    """The operational projection of a booking in hand (with its dock), without a read."""
    return _project(booking)


def _operational_queryset():
    # `only` keeps the money table out of the query entirely, not merely out of the result.
    return Booking.objects.select_related("dock", "vessel").only(
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
        "vessel__code",
        "vessel__name",
        "vessel__guest_name",
    )


def booking_operational(booking_id: int) -> OperationalBooking:
    """The operational projection of one booking (raises Booking.DoesNotExist)."""
    return _project(_operational_queryset().get(pk=booking_id))


def bookings_operational(booking_ids: Iterable[int]) -> dict[int, OperationalBooking]:
    """Projections of several bookings in one query, keyed by id."""
    return {b.pk: _project(b) for b in _operational_queryset().filter(pk__in=list(booking_ids))}


def vessel_overlap(
    *, vessel_id: int, starts_at: datetime, blocked_until: datetime, exclude_pk: int | None
) -> Booking | None:
    """The first confirmed booking of the vessel whose time, turnaround included, overlaps."""
    return (
        Booking.objects.filter(
            vessel_id=vessel_id,
            status=Status.CONFIRMED,
            starts_at__lt=blocked_until,
            blocked_until__gt=starts_at,
        )
        .exclude(pk=exclude_pk)
        .order_by("starts_at")
        .first()
    )


def bookings_ended_between(*, after: datetime, until: datetime) -> dict[int, datetime]:
    """Confirmed bookings whose charter ended in (after, until]: id → end, earliest first.

    A charter lasts at most MAX_DURATION_MINUTES, so its start is in (after - that, until]:
    an indexed range, however long the history.
    """
    longest = timedelta(minutes=MAX_DURATION_MINUTES)
    rows = (
        Booking.objects.filter(
            status=Status.CONFIRMED, starts_at__gt=after - longest, starts_at__lte=until
        )
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "duration_minutes")
    )
    ended = ((pk, starts_at + timedelta(minutes=minutes)) for pk, starts_at, minutes in rows)
    return dict(
        sorted(((pk, end) for pk, end in ended if after < end <= until), key=lambda r: r[1])
    )


def booking_next_id() -> int:
    """The id the next booking saved will get, unless another is saved first (no write)."""
    table = Booking._meta.db_table
    if connection.vendor == "postgresql":
        query = (
            "SELECT COALESCE(last_value + increment_by, start_value) FROM pg_sequences "
            "WHERE format('%%I.%%I', schemaname, sequencename) = pg_get_serial_sequence(%s, 'id')"
        )
    elif connection.vendor == "sqlite":
        # Ids are AUTOINCREMENT there: never reused, counted in sqlite_sequence.
        query = "SELECT seq + 1 FROM sqlite_sequence WHERE name = %s"
    else:
        return (Booking.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    with connection.cursor() as cursor:
        cursor.execute(query, [table])
        row = cursor.fetchone()
    return row[0] if row and row[0] is not None else 1


def vessels_active() -> list[Vessel]:
    return list(Vessel.objects.filter(active=True).order_by("code"))


# --- Operator reads (admin changelist, calendar, revenue). Never handed to crew or guests. ---


def parse_month(value: str | None) -> tuple[int, int] | None:
    """ "2030-05" → (2030, 5); anything else → None."""
    if not value:
        return None
    try:
        year, month = (int(part) for part in value.split("-"))
    except ValueError:
        return None
    if not (1 <= month <= 12 and 1 <= year <= 9998):
        return None
    return year, month


def month_start(year: int, month: int, zone: ZoneInfo) -> datetime:
    """Local midnight of the first of the month, as an aware datetime."""
    return datetime(year, month, 1, tzinfo=zone)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def bookings_starting_between(
    start: datetime, end: datetime, *, with_financials: bool, vessel_id: int | None = None
) -> list[Booking]:
    """Bookings starting in [start, end) with their dock, and their money only when asked.

    Without `with_financials` the money table is not even joined.
    """
    queryset = Booking.objects.filter(starts_at__gte=start, starts_at__lt=end).order_by(
        "starts_at", "pk"
    )
    if vessel_id is not None:
        queryset = queryset.filter(vessel_id=vessel_id)
    if with_financials:
        return list(queryset.select_related("dock", "vessel", "financials"))
    return list(
        queryset.select_related("dock", "vessel").only(
            "id",
            "source",
            "external_ref",
            "guest_name",
            "guest_count",
            "starts_at",
            "duration_minutes",
            "status",
            "dock__name",
            "vessel__name",
        )
    )


def dock_upcoming_booking_ids(*, dock: Dock, since: datetime) -> list[int]:
    """Confirmed bookings at `dock` starting from `since`, earliest first."""
    return list(
        Booking.objects.filter(dock=dock, status=Status.CONFIRMED, starts_at__gte=since)
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class RevenueRow:
    label: str
    key: str
    bookings: int
    gross: Decimal
    crew_cost: Decimal
    captain_cost: Decimal
    fee: Decimal
    net: Decimal


def _revenue_rows(rows: Iterable[dict], label, key) -> list[RevenueRow]:
    zero = Decimal("0.00")
    return [
        RevenueRow(
            label=label(row),
            key=key(row),
            bookings=row["bookings"],
            gross=row["gross"] if row["gross"] is not None else zero,
            crew_cost=row["crew_cost"] if row["crew_cost"] is not None else zero,
            captain_cost=row["captain_cost"] if row["captain_cost"] is not None else zero,
            fee=row["fee"] if row["fee"] is not None else zero,
            net=row["net"] if row["net"] is not None else zero,
        )
        for row in rows
    ]


def _confirmed_financials(start: datetime, end: datetime):
    # Cancelled charters are left out of revenue: the operator records any kept deposit by
    # keeping the booking confirmed or entering it separately.
    return Financials.objects.filter(
        booking__starts_at__gte=start, booking__starts_at__lt=end, booking__status=Status.CONFIRMED
    )


_SUMS = {
    "bookings": Count("pk"),
    "gross": Sum("gross_revenue"),
    "crew_cost": Sum("crew_cost"),
    "captain_cost": Sum("captain_cost"),
    "fee": Sum("fee"),
    "net": Sum("net_revenue"),
}


def revenue_by_source(start: datetime, end: datetime) -> list[RevenueRow]:
    """Gross, fees and net per source of confirmed charters starting in [start, end)."""
    labels = dict(Source.choices)
    rows = (
        _confirmed_financials(start, end)
        .values("booking__source")
        .annotate(**_SUMS)
        .order_by("booking__source")
    )
    return _revenue_rows(
        rows,
        label=lambda r: str(labels.get(r["booking__source"], r["booking__source"])),
        key=lambda r: r["booking__source"],
    )


def revenue_by_month(start: datetime, end: datetime, zone: ZoneInfo) -> list[RevenueRow]:
    """Gross, fees and net per month (in `zone`) of confirmed charters starting in [start, end)."""
    rows = (
        _confirmed_financials(start, end)
        .annotate(month=TruncMonth("booking__starts_at", tzinfo=zone))
        .values("month")
        .annotate(**_SUMS)
        .order_by("month")
    )
    return _revenue_rows(
        rows,
        label=lambda r: f"{r['month']:%B %Y}",
        key=lambda r: f"{r['month']:%Y-%m}",
    )


def revenue_total(start: datetime, end: datetime) -> RevenueRow:
    row = _confirmed_financials(start, end).aggregate(**_SUMS)
    return _revenue_rows([row], label=lambda r: "Total", key=lambda r: "total")[0]
