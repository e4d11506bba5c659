"""Writes to the operator's record. Every path that saves a booking comes through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from bookings.holds import booking_holds_reconcile, bookings_holds_reconcile
from bookings.models import AuditEntry, Booking, Dock, Financials, Status, Vessel
from bookings.money import CENT
from bookings.vessels import blocked_until, booking_save_checked, vessel_default

# Fields whose change the crew or the guests must hear about; the rest are operator-only.
OPERATIONAL_FIELDS = (
    "guest_name",
    "guest_email",
    "guest_phone",
    "guest_count",
    "starts_at",
    "duration_minutes",
    "dock",
    "vessel",
    "status",
    "notes",
)
# What decides when the vessel is busy.
TIME_FIELDS = frozenset({"starts_at", "duration_minutes", "vessel", "status"})
MONEY_INPUTS = ("gross_revenue", "crew_cost", "captain_cost", "fee_percent")
MONEY_FIELDS = (*MONEY_INPUTS, "fee", "net_revenue")
AUDITED_FIELDS = (*OPERATIONAL_FIELDS, *MONEY_FIELDS)


@dataclass(frozen=True)
class BookingData:
    """A validated booking as every intake (API, CSV, admin, demo) hands it over."""

    source: str
    external_ref: str
    guest_name: str
    guest_count: int
    starts_at: datetime
    duration_minutes: int
    dock: Dock
    gross_revenue: Decimal
    crew_cost: Decimal
    captain_cost: Decimal
    fee_percent: Decimal
    guest_email: str = ""
    guest_phone: str = ""
    status: str = Status.CONFIRMED
    notes: str = ""
    internal_notes: str | None = None  # None: leave as it is
    vessel: Vessel | None = None  # None: the booking's own, or the default vessel when new


@dataclass(frozen=True)
class UpsertResult:
    booking: Booking
    created: bool
    # Operational field names that changed (what crew and guests may need to hear about).
    changed: frozenset[str] = field(default_factory=frozenset)
    money_changed: bool = False
    # A new booking's "created" entry; unsaved when the caller adds the first crew to it
    # (`crew_follows`, then `bookings.audit.created_entries_save`).
    created_entry: AuditEntry | None = None


def _names(ids: list[Any], booking: Booking, field: str) -> list[Any]:
    """The operator reads dock and vessel names, not ids: the booking's own costs no query."""
    own = getattr(booking, field)
    known = {own.pk: own.name}
    missing = [v for v in ids if v is not None and v not in known]
    if missing:
        model = {"dock": Dock, "vessel": Vessel}[field]
        known |= {pk: row.name for pk, row in model.objects.in_bulk(missing).items()}
    return [known.get(v, v) for v in ids]


def _audit_value(value: Any) -> Any:
    if isinstance(value, Decimal | datetime):
        return str(value)
    return value


def audit_log(
    *,
    booking: Booking,
    before: dict[str, Any],
    after: dict[str, Any],
    by: AbstractBaseUser | None,
    via: str,
    action: str,
    by_name: str = "",
) -> AuditEntry | None:
    """Record operational and money changes; nothing is recorded when nothing audited changed."""
    entry = _audit_entry(
        booking=booking, before=before, after=after, by=by, via=via, action=action, by_name=by_name
    )
    if entry is not None:
        entry.save()
    return entry


def _audit_entry(
    *,
    booking: Booking,
    before: dict[str, Any],
    after: dict[str, Any],
    by: AbstractBaseUser | None,
    via: str,
    action: str,
    by_name: str = "",
) -> AuditEntry | None:
    changes = {
        name: [_audit_value(before.get(name)), _audit_value(after.get(name))]
        for name in (*AUDITED_FIELDS, *(n for n in after if n not in AUDITED_FIELDS))
        if before.get(name) != after.get(name)
        and not (before.get(name) is None and after.get(name) == "")
    }
    if not changes:
        return None
    for name in ("dock", "vessel"):
        if name in changes:
            changes[name] = _names(changes[name], booking, name)
    return AuditEntry(
        booking=booking,
        actor=by if by is not None and by.is_authenticated else None,
        via=via,
        by_name=by_name[:200],
        action=action,
        changes=changes,
        touches_money=any(name in MONEY_FIELDS for name in changes),
    )


def _as_stored(value: Decimal) -> Decimal:
    """An amount in the shape the database gives back (`100` → `100.00`, `-0` → `0.00`).

    So the audit's "after" equals the next change's "before". An amount with more places than
    cents is left alone for validation to refuse.
    """
    try:
        cents = value.quantize(CENT) + 0  # adding zero drops the sign of a negative zero
    except InvalidOperation:  # too many digits to hold: validation refuses it
        return value
    return cents if cents == value else value


def _snapshot(booking: Booking | None, financials: Financials | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if booking is not None:
        values.update({name: getattr(booking, name) for name in OPERATIONAL_FIELDS})
        values["dock"] = booking.dock_id
        values["vessel"] = booking.vessel_id
    if financials is not None:
        values.update({name: getattr(financials, name) for name in MONEY_FIELDS})
    return values


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[frozenset[str], bool]:
    """The operational fields that differ, and whether any amount does."""
    changed = frozenset(name for name in OPERATIONAL_FIELDS if before.get(name) != after.get(name))
    return changed, any(before.get(n) != after.get(n) for n in MONEY_FIELDS)


def booking_changes(before: Booking, after: Booking) -> tuple[frozenset[str], bool]:
    """What `booking_upsert` would find changed from `before` to `after` (both with money)."""
    return _changes(_snapshot(before, before.financials), _snapshot(after, after.financials))


def booking_lock(**lookup: Any) -> tuple[Booking | None, Financials | None]:
    """Lock a booking and then its Financials, each read after its lock is held.

    Call inside a transaction. One statement joining the two would lock only the booking
    (PostgreSQL refuses FOR UPDATE on the nullable side of the outer join) and, after waiting
    for that lock, still hand back the Financials of the statement's older snapshot: a
    concurrent money change would be compared against stale values and lost.
    """
    booking = Booking.objects.select_for_update().filter(**lookup).first()
    if booking is None:
        return None, None
    # A fresh statement after the booking's lock: it sees what the previous holder committed.
    financials = Financials.objects.select_for_update().filter(booking=booking).first()
    if financials is None:
        financials = Financials(booking=booking)
    booking.financials = financials
    return booking, financials


def booking_upsert(
    *,
    data: BookingData,
    by: AbstractBaseUser | None = None,
    via: str,
    by_name: str = "",
    crew_follows: bool = False,
) -> UpsertResult:
    """Create or update the booking keyed on (source, external_ref) with its Financials.

    Locks the row so concurrent identical requests serialise; the unique constraint catches
    the race where both try to create. `crew_follows`: a new booking's "created" entry is left
    unsaved in the result, for the caller to write with the crew it then gives the charter.
    """
    with transaction.atomic():
        booking, financials = booking_lock(source=data.source, external_ref=data.external_ref)
        if booking is None:
            # One insert per table, as for many (`bookings_insert_new`).
            booking, financials = _new_booking(data)
            booking_save_checked(booking, force_insert=True)
            financials.booking = booking
            financials.save(force_insert=True)
            entry = _created_entry(booking, financials, by=by, via=via, by_name=by_name)
            if entry is not None and not crew_follows:
                entry.save(force_insert=True)
            # Holds never block a write; an overlap with one is recorded and the operators told.
            booking_holds_reconcile(booking=booking)
            return UpsertResult(
                booking=booking,
                created=True,
                changed=frozenset(OPERATIONAL_FIELDS),
                money_changed=True,
                created_entry=entry,
            )
        before = _snapshot(booking, financials)

        notes_changed = data.internal_notes not in (None, booking.internal_notes)
        _set_operational(booking, data, vessel=data.vessel or booking.vessel)
        if data.internal_notes is not None:
            booking.internal_notes = data.internal_notes
        for name in MONEY_INPUTS:
            setattr(financials, name, _as_stored(getattr(data, name)))
        financials.recompute()

        after = _snapshot(booking, financials)
        changed, money_changed = _changes(before, after)

        if changed or notes_changed or money_changed:
            # The vessel was just read from the database: no need to look it up again.
            booking.full_clean(exclude=["vessel"], validate_unique=False)
            booking_save_checked(booking)
        if money_changed:
            financials.booking = booking
            financials.full_clean(exclude=["booking"])
            financials.save()
        if changed & TIME_FIELDS:
            booking_holds_reconcile(booking=booking)
        audit_log(
            booking=booking,
            before=before,
            after=after,
            by=by,
            via=via,
            by_name=by_name,
            action="changed",
        )
        return UpsertResult(
            booking=booking, created=False, changed=changed, money_changed=money_changed
        )


def bookings_build_new(items: Sequence[BookingData]) -> list[Booking | ValidationError]:
    """New bookings (not saved) with their money, each checked as `booking_upsert` checks one.

    One the model refuses comes back as its ValidationError, in its place. The vessel's time is
    the caller's to check (against the table and the bookings before it), before
    `bookings_insert_new` writes them.
    """
    results: list[Booking | ValidationError] = []
    default: Vessel | ValidationError | None = None
    if not all(data.vessel for data in items):
        try:
            default = vessel_default()  # once for the lot
        except ValidationError as e:
            default = e
    for data in items:
        try:
            if isinstance(default, ValidationError) and data.vessel is None:
                raise default
            booking, _ = _new_booking(data, default=default)
        except ValidationError as e:
            results.append(e)
            continue
        results.append(booking)
    return results


def bookings_insert_new(
    *,
    bookings: Sequence[Booking],
    by: AbstractBaseUser | None = None,
    via: str,
    by_name: str = "",
    crew_follows: bool = False,
) -> list[AuditEntry]:
    """Write bookings built by `bookings_build_new`, with money and audit, in three inserts.

    The caller has looked the keys and the vessels' times up; the unique constraint (and the
    exclusion constraint on PostgreSQL) still stops a concurrent write (IntegrityError).
    Returns the "created" entries; with `crew_follows` they are not saved: the caller writes
    them with the crew it then gives the charters (`bookings.audit.created_entries_save`).
    """
    if not bookings:
        return []
    with transaction.atomic(savepoint=False):
        Booking.objects.bulk_create(bookings)
        for booking in bookings:
            booking.financials.booking = booking
        Financials.objects.bulk_create([booking.financials for booking in bookings])
        entries = [
            _created_entry(b, b.financials, by=by, via=via, by_name=by_name) for b in bookings
        ]
        created = [entry for entry in entries if entry is not None]
        if not crew_follows:
            AuditEntry.objects.bulk_create(created)
        bookings_holds_reconcile(bookings=bookings)
    return created


def _new_booking(data: BookingData, *, default: Vessel | None = None) -> tuple[Booking, Financials]:
    """A new booking and its money, checked as a save would check them (raises ValidationError).

    The dock is the caller's own row and the key is new (the unique constraint stops a race):
    neither needs a read to check.
    """
    booking = Booking(source=data.source, external_ref=data.external_ref)
    _set_operational(booking, data, vessel=data.vessel or default or vessel_default())
    if data.internal_notes is not None:
        booking.internal_notes = data.internal_notes
    financials = Financials(booking=booking)
    for name in MONEY_INPUTS:
        setattr(financials, name, _as_stored(getattr(data, name)))
    financials.recompute()
    booking.full_clean(
        exclude=["dock", "vessel"], validate_unique=False, validate_constraints=False
    )
    financials.full_clean(exclude=["booking"])
    booking.financials = financials
    return booking, financials


def _set_operational(booking: Booking, data: BookingData, *, vessel: Vessel) -> None:
    """The operational fields, the vessel and when the vessel is free again."""
    for name in OPERATIONAL_FIELDS:
        setattr(booking, name, vessel if name == "vessel" else getattr(data, name))
    booking.blocked_until = blocked_until(
        starts_at=booking.starts_at, duration_minutes=booking.duration_minutes, vessel=vessel
    )


def _created_entry(
    booking: Booking, financials: Financials, *, by: AbstractBaseUser | None, via: str, by_name: str
) -> AuditEntry | None:
    return _audit_entry(
        booking=booking,
        before={},
        after=_snapshot(booking, financials),
        by=by,
        via=via,
        by_name=by_name,
        action="created",
    )
