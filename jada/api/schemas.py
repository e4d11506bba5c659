"""The intake API's request and response, declared once as pydantic models.

`BookingRequest` validates `POST /api/bookings` (`intake_validate`), `Booking` shapes the
response of both endpoints (`booking_json`), and `/api/openapi.json` is generated from both
(`jada.api.openapi`), so the document and the server cannot disagree.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, WithJsonSchema

from bookings.models import Source, Status
from crew.models import AssignmentState, Role
from jada.api.types import (
    CENT,
    Amount,
    CalendarDate,
    Choice,
    ClockTime,
    Hours,
    Instant,
    Integer,
    Text,
)
from jada.models import StageState

MAX_CREW = 20
MAX_GUESTS = 150
HOURS = "Hours, more than 0 and at most 24, a whole number of minutes (2.5 = 2 h 30 min)."
NUMBER_PATTERN = r"^[0-9]+(\.[0-9]+)?$"

ErrorMap = dict[str, list[str]]

# Pydantic's own error types (structure, not values) → the API's messages.
STRUCTURE_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown field.",
    "model_type": "Expected an object.",
    "model_attributes_type": "Expected an object.",
    "dict_type": "Expected an object.",
    "list_type": "Expected a list.",
    "too_long": "At most {max_length} entries.",
}


class Strict(BaseModel):
    """Unknown fields are errors; validated requests do not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class GuestRequest(Strict):
    name: Annotated[str, Text(max_length=200, description="The lead guest's name.")]
    email: Annotated[
        str,
        Text(
            max_length=254,
            blank=True,
            email=True,
            description="Where the guest page is emailed; empty or left out for none.",
        ),
    ] = ""
    phone: Annotated[
        str, Text(max_length=40, blank=True, description="The guest's phone number.")
    ] = ""
    count: Annotated[int, Integer(minimum=1, maximum=MAX_GUESTS, description="Guests.")]


class CrewAssignmentRequest(Strict):
    crew_id: Annotated[
        str,
        Text(
            max_length=20,
            blank=True,
            description="Roster id such as CREW_001. Left out (or empty): an open slot of the "
            "role, offered to the eligible crew; the first to take it holds it.",
        ),
    ] = ""
    role: Annotated[str, Choice(values=tuple(Role.values))]
    duration_hours: Annotated[
        Decimal | None,
        Hours(description=f"Shift length. {HOURS} Left out: the charter plus an hour either side."),
    ] = None


def _booking_request_schema(schema: dict[str, Any]) -> None:
    """What one field's declaration cannot say: the two ways to give the start."""
    start = ("starts_at", "charter_date", "start_time")
    one_of = [
        {"required": ["starts_at"], "not": {"anyOf": [{"required": [k]} for k in start[1:]]}},
        {"required": list(start[1:]), "not": {"required": ["starts_at"]}},
    ]
    schema["oneOf"] = one_of
    schema["description"] = (
        "A charter booking, upserted on (source, external_ref). The start is either `starts_at` "
        "(ISO 8601 with an offset) or `charter_date` with `start_time` in the operator's time "
        "zone. Amounts are JSON numbers or decimal strings with at most 2 decimal places; they "
        "are never handled as floats. Optional fields are left out, never null. A POST "
        "replaces the booking: left-out optional fields take their defaults, except the crew, "
        "which stays as it is unless `captain_id` or `crew_assignments` is given. The body is "
        f"at most {settings.API_MAX_BODY_BYTES // 1024} KB."
    )
    schema["example"] = EXAMPLE


class BookingRequest(Strict):
    model_config = ConfigDict(json_schema_extra=_booking_request_schema)

    source: Annotated[str, Choice(values=tuple(Source.values))]
    external_ref: Annotated[
        str, Text(max_length=100, nfc=True, description="The marketplace's booking id.")
    ]
    event_type: Annotated[str, Choice(values=("booking",))] = "booking"
    charter_date: Annotated[
        date | None, CalendarDate(description="YYYY-MM-DD, 2000 to 2099, with start_time.")
    ] = None
    start_time: Annotated[
        time | None, ClockTime(description="HH:MM in the operator's time zone, with charter_date.")
    ] = None
    starts_at: Annotated[
        datetime | None,
        Instant(description="ISO 8601 with a UTC offset or Z, instead of charter_date/start_time."),
    ] = None
    duration_hours: Annotated[Decimal, Hours(description=f"Charter length. {HOURS}")]
    gross_revenue: Annotated[Decimal, Amount(description="What the guest paid.")]
    crew_cost: Annotated[Decimal, Amount(description="Crew wages for the charter.")]
    captain_cost: Annotated[Decimal, Amount(description="The captain's fee.")]
    port_fee_percent: Annotated[
        Decimal, Amount(maximum=Decimal(100), description="Port or marketplace fee, 0 to 100.")
    ]
    # Net may be negative (a loss); it is only compared with the computed one.
    net_revenue: Annotated[
        Decimal | None,
        Amount(
            minimum=None,
            maximum=Decimal("99999999999.99"),
            description="Optional check: must equal gross - crew - captain - fee (fee half-up "
            "to the cent), to the cent.",
        ),
    ] = None
    guest: GuestRequest
    location: Annotated[str, Text(max_length=120, description="A dock's name, as known here.")]
    vessel: Annotated[
        str,
        Text(
            max_length=20,
            blank=True,
            description="A vessel's code (e.g. JADA); left out: the booking's own, or the "
            "default vessel for a new one.",
        ),
    ] = ""
    captain_id: Annotated[
        str,
        Text(max_length=20, blank=True, description="Roster id of the captain; empty: none."),
    ] = ""
    crew_assignments: list[CrewAssignmentRequest] = Field(
        default_factory=list,
        max_length=MAX_CREW,
        description="The crew besides the captain; each id at most once.",
    )
    notes: Annotated[str, Text(max_length=4000, blank=True, description="Crew-visible notes.")] = ""
    status: Annotated[str, Choice(values=tuple(Status.values))] = Status.CONFIRMED.value


# The write-up's Boatsetter charter (docs/writeup.md): the schema's example, and the one payload
# the tests and the benchmarks derive theirs from.
EXAMPLE = {
    "event_type": "booking",
    "source": "boatsetter",
    "external_ref": "BS-2030-0530",
    "charter_date": "2030-05-30",
    "start_time": "09:00",
    "duration_hours": 3,
    "gross_revenue": 840.75,
    "crew_cost": 250.00,
    "captain_cost": 150.00,
    "port_fee_percent": 18,
    "net_revenue": 289.41,
    "guest": {
        "name": "Jordan Avery",
        "email": "jordan@guest.example.com",
        "phone": "+1 555 0100",
        "count": 4,
    },
    "location": "Sheraton Hotel Dock",
    "captain_id": "CAP_001",
    "crew_assignments": [
        {"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5},
        {"crew_id": "CREW_002", "role": "deckhand", "duration_hours": 5},
    ],
    "notes": "Boatsetter charter, guest briefing required",
    "status": "confirmed",
}

# --- The response ------------------------------------------------------------------------------

Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value.quantize(CENT)), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}),
]
HoursText = Annotated[str, Field(pattern=NUMBER_PATTERN, examples=["2.5"])]
Moment = Annotated[datetime, Field(description="UTC, with a Z.")]


class Guest(Strict):
    name: str
    email: str
    phone: str
    count: int


class CrewAssignment(Strict):
    crew_id: str
    role: Annotated[str, Choice(values=tuple(Role.values))]
    duration_hours: HoursText
    call_at: Moment
    state: Annotated[str, Choice(values=tuple(AssignmentState.values))]


class GuestPage(Strict):
    session_id: str
    path: Annotated[str, Field(examples=["/g/XHQGMDH12345"])]
    url: Annotated[str, Field(json_schema_extra={"format": "uri"})]


class Booking(Strict):
    id: Annotated[int, Field(ge=1)]
    event_type: Annotated[str, Choice(values=("booking",))]
    source: Annotated[str, Choice(values=tuple(Source.values))]
    external_ref: str
    status: Annotated[str, Choice(values=tuple(Status.values))]
    starts_at: Moment
    starts_at_local: Annotated[
        datetime, Field(description="The same instant in the operator's zone (time_zone).")
    ]
    time_zone: Annotated[str, Field(examples=["America/Los_Angeles"])]
    charter_date: date
    start_time: Annotated[str, Field(pattern=r"^[0-2][0-9]:[0-5][0-9]$")]
    duration_hours: HoursText
    duration_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    gross_revenue: Money | None
    crew_cost: Money | None
    captain_cost: Money | None
    port_fee_percent: Money | None
    port_fee: Money | None
    net_revenue: Money | None
    currency: Annotated[str | None, Field(examples=["USD"])]
    guest: Guest
    location: str
    vessel: Annotated[str, Field(examples=["JADA"], description="The vessel's code.")]
    captain_id: str | None
    crew_assignments: list[CrewAssignment]
    notes: str
    guest_page: GuestPage | None
    pipeline: Annotated[
        dict[str, Annotated[str, Choice(values=tuple(StageState.values))]],
        Field(description="Stage name → state of the latest pipeline run."),
    ]
    warnings: Annotated[
        list[str],
        Field(description="Readable sentences (crew shift overlaps and the like); never block."),
    ]
    created_at: Moment
    updated_at: Moment


class Errors(Strict):
    errors: Annotated[
        ErrorMap, Field(description='Field name (dotted for nested: "guest.email") → messages.')
    ]


def error_map(error: ValidationError) -> ErrorMap:
    """Pydantic's errors as the API reports them: dotted field name → messages."""
    errors: ErrorMap = {}
    for item in error.errors(include_url=False):
        key = ".".join(str(part) for part in item["loc"]) or "body"
        kind = item["type"]
        if kind == "jada":
            message = item["msg"]
        elif not item["loc"]:
            message = "Expected a JSON object."
        elif kind != "missing" and item.get("input", ...) is None:
            message = "May not be null."
        elif kind in STRUCTURE_MESSAGES:
            message = STRUCTURE_MESSAGES[kind].format(**item.get("ctx", {}))
        else:
            message = item["msg"]
        errors.setdefault(key, []).append(message)
    return errors
