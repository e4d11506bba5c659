"""Intake: one booking from the API, a CSV row or the demo, validated, saved and piped.

`booking_intake` is the one service every non-admin intake calls. It validates the JSON shape
(README, "What it offers") field by field, then saves it with `jada.services.booking_save`: in
one transaction the booking and, when something crew or guests care about changed, the
pipeline's database stages (the rest queued on commit). Nothing is written when anything is
wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from pydantic import TypeAdapter
from pydantic import ValidationError as SchemaError

from bookings import formatting
from bookings.holds import hold_warnings
from bookings.models import Booking, Dock, Vessel
from bookings.money import settle
from bookings.services import BookingData
from bookings.vessels import BookingConflict
from crew.availability import assignments_availability_warnings, availability_warnings
from crew.models import Role
from crew.selectors import booking_assignments, events_overlap_warnings, overlap_warnings
from crew.services import PlannedAssignment
from jada.api.schemas import BookingRequest, CrewAssignmentRequest, error_map
from jada.api.types import CENT
from jada.lookups import codes_unknown, dock_named
from jada.models import PipelineRun
from jada.services import BookingSaved, booking_save

Errors = dict[str, list[str]]

# Model field → payload field, for errors the ledger's own validation might still raise.
MODEL_TO_PAYLOAD = {
    "guest_name": "guest.name",
    "guest_email": "guest.email",
    "guest_phone": "guest.phone",
    "guest_count": "guest.count",
    "duration_minutes": "duration_hours",
    "dock": "location",
    "fee_percent": "port_fee_percent",
    "__all__": "body",
}
# Concurrent identical requests: the loser of the insert race retries as an update.
SAVE_ATTEMPTS = 3


class IntakeRejected(Exception):
    """The payload is invalid; `errors` maps dotted field names to messages."""

    status = 400

    def __init__(self, errors: Errors) -> None:
        super().__init__(errors)
        self.errors = errors


class IntakeConflict(IntakeRejected):
    """The booking cannot exist beside another one (the API's 409); nothing was written."""

    status = 409


@dataclass(frozen=True)
class ValidIntake:
    data: BookingData
    # None: the payload named no crew, so the booking's assignments stay as they are.
    plan: tuple[PlannedAssignment, ...] | None


@dataclass(frozen=True)
class IntakeResult:
    booking: Booking
    created: bool
    changed: frozenset[str] = frozenset()  # operational booking fields
    money_changed: bool = False
    crew_changed: bool = False
    run: PipelineRun | None = None
    warnings: list[str] = field(default_factory=list)
    expected_id: int | None = None  # a dry run's new booking: the id it would get

    @property
    def outcome(self) -> str:
        if self.created:
            return "created"
        if self.changed or self.money_changed or self.crew_changed:
            return "updated"
        return "unchanged"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        # Parsers disagree on which of two equal keys wins; refusing is the only safe reading.
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise IntakeRejected({"body": [f"Malformed JSON: the key {twice!r} appears twice."]})
    return obj


def load_json(raw: bytes | str) -> Any:
    """Parse a request body; numbers with a fraction become Decimal, never float."""
    try:
        return json.loads(
            raw, parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_object
        )
    except RecursionError as e:
        raise IntakeRejected({"body": ["Malformed JSON: nested too deeply."]}) from e
    except json.JSONDecodeError as e:
        raise IntakeRejected({"body": [f"Malformed JSON: {e}"]}) from e
    except UnicodeDecodeError as e:
        raise IntakeRejected({"body": ["Malformed JSON: the body is not UTF-8 text."]}) from e
    except ValueError as e:
        # NaN/Infinity, or an integer with thousands of digits.
        message = str(e) if "JSON allows" in str(e) else "a number has too many digits"
        raise IntakeRejected({"body": [f"Malformed JSON: {message}."]}) from e


def _add(errors: Errors, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _starts_at(payload: Mapping, clean: Mapping, errors: Errors) -> datetime | None:
    """`starts_at` with an offset, or `charter_date` + `start_time` in the operator's zone."""
    given = {k for k in ("starts_at", "charter_date", "start_time") if k in payload}
    if "starts_at" in given:
        for key in sorted(given - {"starts_at"}):
            _add(errors, key, "Give either starts_at or charter_date with start_time, not both.")
        moment = clean.get("starts_at")
        return moment.astimezone(UTC) if moment is not None and given == {"starts_at"} else None
    if not given:
        _add(errors, "starts_at", "Give starts_at, or charter_date with start_time.")
        return None
    if "charter_date" not in given:
        _add(errors, "charter_date", "This field is required with start_time.")
    if "start_time" not in given:
        _add(errors, "start_time", "This field is required with charter_date.")
    day, clock = clean.get("charter_date"), clean.get("start_time")
    if day is None or clock is None:
        return None
    zone = formatting.zone()
    naive = datetime.combine(day, clock)
    moment = naive.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        _add(
            errors,
            "start_time",
            f"{clock:%H:%M} does not exist on {day} in {zone.key} (the clocks go forward).",
        )
        return None
    if moment.utcoffset() != moment.replace(fold=1).utcoffset():
        _add(
            errors,
            "start_time",
            f"{clock:%H:%M} happens twice on {day} in {zone.key} (the clocks go back): "
            "send starts_at with its UTC offset instead.",
        )
        return None
    return moment.astimezone(UTC)


def _dock(name: str | None, errors: Errors) -> Dock | None:
    if not name:
        return None
    dock = dock_named(name)
    if dock is None:
        known = ", ".join(Dock.objects.values_list("name", flat=True)[:10]) or "none yet"
        _add(errors, "location", f"No dock named {name!r} (known docks: {known}).")
    return dock


def _vessel(code: str | None, errors: Errors) -> Vessel | None:
    """The named vessel; None (nothing named) leaves the choice to the service's default."""
    if not code:
        return None
    vessel = Vessel.objects.filter(code__iexact=code.strip(), active=True).first()
    if vessel is None:
        known = ", ".join(Vessel.objects.filter(active=True).values_list("code", flat=True))
        _add(errors, "vessel", f"No active vessel {code!r} (vessels: {known or 'none yet'}).")
    return vessel


def _crew_plan(
    payload: Mapping, clean: Mapping, errors: Errors
) -> tuple[PlannedAssignment, ...] | None:
    if "captain_id" not in payload and "crew_assignments" not in payload:
        return None
    # (error key, roster code, role, shift minutes or None)
    wanted: list[tuple[str, str, str, int | None]] = []
    if clean.get("captain_id"):
        wanted.append(("captain_id", clean["captain_id"], Role.CAPTAIN, None))
    entry: CrewAssignmentRequest
    open_slots: list[PlannedAssignment] = []
    for index, entry in enumerate(clean.get("crew_assignments") or ()):
        hours = entry.duration_hours
        minutes = int(hours * 60) if hours is not None else None
        if not entry.crew_id:
            # No member: an open slot of the role, offered to the crew.
            open_slots.append(PlannedAssignment("", entry.role, minutes))
            continue
        key = f"crew_assignments.{index}.crew_id"
        wanted.append((key, entry.crew_id, entry.role, minutes))
    seen: set[str] = set()
    for key, code, _, _ in wanted:
        if code in seen:
            _add(errors, key, f"{code} is listed more than once.")
        seen.add(code)
    unknown = set(codes_unknown(sorted(seen)))
    for key, code, _, _ in wanted:
        if code in unknown:
            _add(errors, key, f"Unknown or inactive crew id {code}.")
    return (
        *(
            PlannedAssignment(member_code=code, role=role, shift_minutes=minutes)
            for _, code, role, minutes in wanted
        ),
        *open_slots,
        # The body lists its crew: its open slots are all there are (maybe none).
        *((PlannedAssignment("", ""),) if "crew_assignments" in payload else ()),
    )


def _amounts(clean: Mapping, errors: Errors) -> dict[str, Decimal]:
    """The money inputs to the cent (BookingData names), and the declared net checked."""
    names = {
        "gross_revenue": "gross_revenue",
        "crew_cost": "crew_cost",
        "captain_cost": "captain_cost",
        "fee_percent": "port_fee_percent",
    }
    if any(clean.get(field) is None for field in names.values()):
        return {}  # the missing or invalid amount is reported already
    # Range-checked by the schema, so quantizing cannot overflow.
    amounts = {name: clean[field].quantize(CENT) for name, field in names.items()}
    settlement = settle(**amounts)
    declared = clean.get("net_revenue")
    if declared is not None and declared != settlement.net_revenue:
        _add(
            errors,
            "net_revenue",
            f"Does not agree with the computed net revenue {settlement.net_revenue} "
            f"(gross - crew cost - captain cost - fee {settlement.fee}).",
        )
    return amounts


# Each top-level field on its own, to check what is valid when something else is not.
FIELD_ADAPTERS = {
    name: TypeAdapter(info.rebuild_annotation())
    for name, info in BookingRequest.model_fields.items()
}


def _passed(payload: dict, errors: Errors) -> dict[str, Any]:
    """The top-level fields of an invalid payload that are valid on their own, validated."""
    failed = {key.split(".")[0] for key in errors}
    return {
        name: FIELD_ADAPTERS[name].validate_python(value)
        for name, value in payload.items()
        if name in FIELD_ADAPTERS and name not in failed
    }


def intake_validate(payload: Any) -> ValidIntake:
    """Check a payload field by field (raises IntakeRejected with every problem found)."""
    if not isinstance(payload, dict):
        raise IntakeRejected({"body": ["Expected a JSON object."]})
    errors: Errors = {}
    request: BookingRequest | None = None
    try:
        request = BookingRequest.model_validate(payload)
        clean: dict[str, Any] = dict(request)
    except SchemaError as e:
        errors = error_map(e)
        # The checks below still run on what is valid, so every problem is reported at once.
        clean = _passed(payload, errors)

    starts_at = _starts_at(payload, clean, errors)
    dock = _dock(clean.get("location"), errors)
    vessel = _vessel(clean.get("vessel"), errors)
    plan = _crew_plan(payload, clean, errors)
    amounts = _amounts(clean, errors)

    if errors or request is None:
        raise IntakeRejected(errors)
    guest = request.guest
    data = BookingData(
        source=request.source,
        external_ref=request.external_ref,
        guest_name=guest.name,
        guest_email=guest.email,
        guest_phone=guest.phone,
        guest_count=guest.count,
        starts_at=starts_at,
        duration_minutes=int(request.duration_hours * 60),
        dock=dock,
        vessel=vessel,
        **amounts,
        status=request.status,
        notes=request.notes,
    )
    return ValidIntake(data=data, plan=plan)


def model_errors(error: ValidationError) -> Errors:
    if not hasattr(error, "error_dict"):
        return {"body": [str(m) for m in error.messages]}
    return {
        MODEL_TO_PAYLOAD.get(name, name): [str(m) for m in messages]
        for name, messages in error.message_dict.items()
    }


def intake_result(saved: BookingSaved, warnings: list[str]) -> IntakeResult:
    return IntakeResult(
        booking=saved.booking,
        created=saved.created,
        changed=saved.changed,
        money_changed=saved.money_changed,
        crew_changed=saved.crew_changed,
        run=saved.run,
        # The save's own (a past charter, a loss) first, then those about crew.
        warnings=[*saved.warnings, *saved.money_warnings, *warnings],
    )


def _save(
    valid: ValidIntake, *, by: AbstractBaseUser | None, via: str, by_name: str
) -> IntakeResult:
    try:
        # One transaction (booking_save's); the warnings are read once it is over.
        saved = booking_save(data=valid.data, plan=valid.plan, by=by, via=via, by_name=by_name)
    except ValidationError as e:
        raise IntakeRejected(model_errors(e)) from e
    except BookingConflict as e:
        raise IntakeConflict(e.errors) from e
    return intake_result(saved, [*_warnings(saved), *hold_warnings(saved.booking.pk)])


def _warnings(saved: BookingSaved) -> list[str]:
    """Overlap and availability warnings of the booking's crew (a new one's in three reads)."""
    if not saved.created:
        return [
            *overlap_warnings(booking_id=saved.booking.pk),
            *availability_warnings(booking_id=saved.booking.pk),
        ]
    mine = booking_assignments(booking_id=saved.booking.pk)
    if not mine:
        return []
    event = mine[0].event
    return [
        *events_overlap_warnings([(event, mine)])[0],
        *assignments_availability_warnings(event, mine),
    ]


def intake_save(
    valid: ValidIntake, *, by: AbstractBaseUser | None = None, via: str, by_name: str = ""
) -> IntakeResult:
    """Upsert a validated payload's booking, all or nothing (raises IntakeRejected)."""
    for attempt in range(SAVE_ATTEMPTS):
        try:
            return _save(valid, by=by, via=via, by_name=by_name)
        except IntegrityError:
            # Two requests raced to create the same booking and the unique constraint stopped
            # one; it lost nothing (its transaction rolled back) and now finds the row.
            if attempt == SAVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def booking_intake(
    *, payload: Any, by: AbstractBaseUser | None = None, via: str, by_name: str = ""
) -> IntakeResult:
    """Validate `payload` and upsert its booking on (source, external_ref), all or nothing.

    Raises IntakeRejected with field-by-field errors; nothing is written then. The same data
    twice changes nothing and starts no pipeline run.
    """
    return intake_save(intake_validate(payload), by=by, via=via, by_name=by_name)
