"""The OpenAPI 3 description of the intake API, served at /api/openapi.json.

Limits come from the validation forms, so the document and the server cannot drift apart; a
test validates real responses against it and schemathesis fuzzes the server with it. The
request schema is never stricter than the server: whatever it rejects, the server rejects too.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings

from bookings.models import Source, Status
from crew.models import AssignmentState, Role
from jada.api.forms import (
    FIRST_DATE,
    LAST_DATE,
    MAX_AMOUNT,
    MAX_CREW,
    MAX_HOURS,
    MAX_NUMBER_TEXT,
    BookingForm,
    CrewAssignmentForm,
    GuestForm,
)
from jada.models import StageState

NUMBER_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
SIGNED_NUMBER_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DATETIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
MONEY_OUT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


def _max_length(form: type, name: str) -> int:
    return form.base_fields[name].max_length


def _decimal(
    description: str, *, maximum: float, minimum: float | None = 0, exclusive: bool = False
) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "number", "maximum": maximum}
    if minimum is not None:
        number["minimum"] = minimum
        if exclusive:
            number["exclusiveMinimum"] = True
    text = {
        "type": "string",
        "pattern": NUMBER_PATTERN if minimum is not None else SIGNED_NUMBER_PATTERN,
        "maxLength": MAX_NUMBER_TEXT,
    }
    return {"description": description, "anyOf": [number, text]}


def _text(form: type, name: str, description: str, *, min_length: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string",
        "maxLength": _max_length(form, name),
        "description": description,
    }
    if min_length:
        schema["minLength"] = min_length
    return schema


AMOUNT = float(MAX_AMOUNT)
HOURS_TEXT = "Hours, more than 0 and at most 24, a whole number of minutes (2.5 = 2 h 30 min)."

GUEST_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "count"],
    "properties": {
        "name": _text(GuestForm, "name", "The lead guest's name.", min_length=1),
        "email": {
            "description": "Where the guest page is emailed; empty or left out for none.",
            "anyOf": [
                {"type": "string", "format": "email", "maxLength": _max_length(GuestForm, "email")},
                {"type": "string", "maxLength": 0},
            ],
        },
        "phone": _text(GuestForm, "phone", "The guest's phone number."),
        "count": {"type": "integer", "minimum": 1, "maximum": 150, "description": "Guests."},
    },
}

CREW_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["crew_id", "role"],
    "properties": {
        "crew_id": _text(
            CrewAssignmentForm, "crew_id", "Roster id such as CREW_001.", min_length=1
        ),
        "role": {"type": "string", "enum": list(Role.values)},
        "duration_hours": _decimal(
            f"Shift length. {HOURS_TEXT} Left out: the charter plus an hour either side.",
            maximum=float(MAX_HOURS),
            exclusive=True,
        ),
    },
}

BOOKING_REQUEST = {
    "type": "object",
    "description": (
        "A charter booking, upserted on (source, external_ref). The start is either `starts_at` "
        "(ISO 8601 with an offset) or `charter_date` with `start_time` in the operator's time "
        "zone. Amounts are JSON numbers or decimal strings with at most 2 decimal places; they "
        f"are never handled as floats. Optional fields are left out, never null. A POST "
        "replaces the booking: left-out optional fields take their defaults, except the crew, "
        "which stays as it is unless `captain_id` or `crew_assignments` is given. The body is "
        f"at most {settings.API_MAX_BODY_BYTES // 1024} KB."
    ),
    "additionalProperties": False,
    "required": [
        "source",
        "external_ref",
        "duration_hours",
        "gross_revenue",
        "crew_cost",
        "captain_cost",
        "port_fee_percent",
        "guest",
        "location",
    ],
    "oneOf": [{"required": ["starts_at"]}, {"required": ["charter_date", "start_time"]}],
    "properties": {
        "source": {"type": "string", "enum": list(Source.values)},
        "external_ref": _text(
            BookingForm, "external_ref", "The marketplace's booking id.", min_length=1
        ),
        "event_type": {"type": "string", "enum": ["booking"]},
        "charter_date": {
            "type": "string",
            "format": "date",
            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": f"YYYY-MM-DD, {FIRST_DATE} to {LAST_DATE}, with start_time.",
            "example": "2030-05-30",
        },
        "start_time": {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
            "description": "HH:MM in the operator's time zone, with charter_date.",
            "example": "09:00",
        },
        "starts_at": {
            "type": "string",
            "pattern": DATETIME_PATTERN,
            "description": "ISO 8601 with a UTC offset or Z, instead of charter_date/start_time.",
            "example": "2030-05-30T09:00:00-07:00",
        },
        "duration_hours": _decimal(
            f"Charter length. {HOURS_TEXT}", maximum=float(MAX_HOURS), exclusive=True
        ),
        "gross_revenue": _decimal("What the guest paid.", maximum=AMOUNT),
        "crew_cost": _decimal("Crew wages for the charter.", maximum=AMOUNT),
        "captain_cost": _decimal("The captain's fee.", maximum=AMOUNT),
        "port_fee_percent": _decimal("Port or marketplace fee, 0 to 100.", maximum=100),
        "net_revenue": _decimal(
            "Optional check: must equal gross - crew - captain - fee (fee half-up to the "
            "cent), to the cent.",
            minimum=None,
            maximum=99999999999.99,
        ),
        "guest": GUEST_REQUEST,
        "location": _text(BookingForm, "location", "A dock's name, as known here.", min_length=1),
        "captain_id": _text(BookingForm, "captain_id", "Roster id of the captain; empty: none."),
        "crew_assignments": {
            "type": "array",
            "maxItems": MAX_CREW,
            "items": CREW_REQUEST,
            "description": "The crew besides the captain; each id at most once.",
        },
        "notes": _text(BookingForm, "notes", "Crew-visible notes."),
        "status": {"type": "string", "enum": list(Status.values), "default": "confirmed"},
    },
    "example": {
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
        "guest": {"name": "Jordan Avery", "email": "jordan@example.com", "count": 4},
        "location": "Sheraton Hotel Dock",
        "captain_id": "CAP_001",
        "crew_assignments": [
            {"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5},
            {"crew_id": "CREW_002", "role": "deckhand", "duration_hours": 5},
        ],
        "notes": "Boatsetter charter, guest briefing required",
    },
}

MONEY_OUT = {"type": "string", "pattern": MONEY_OUT_PATTERN, "nullable": True}
TEXT_OUT = {"type": "string"}
BOOKING_RESPONSE = {
    "type": "object",
    "required": [
        "id",
        "event_type",
        "source",
        "external_ref",
        "status",
        "starts_at",
        "starts_at_local",
        "time_zone",
        "charter_date",
        "start_time",
        "duration_hours",
        "duration_minutes",
        "gross_revenue",
        "crew_cost",
        "captain_cost",
        "port_fee_percent",
        "port_fee",
        "net_revenue",
        "currency",
        "guest",
        "location",
        "captain_id",
        "crew_assignments",
        "notes",
        "guest_page",
        "pipeline",
        "warnings",
        "created_at",
        "updated_at",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "event_type": {"type": "string", "enum": ["booking"]},
        "source": {"type": "string", "enum": list(Source.values)},
        "external_ref": TEXT_OUT,
        "status": {"type": "string", "enum": list(Status.values)},
        "starts_at": {"type": "string", "format": "date-time", "description": "UTC."},
        "starts_at_local": {
            "type": "string",
            "format": "date-time",
            "description": "The same instant in the operator's zone (named in time_zone).",
        },
        "time_zone": {"type": "string", "example": "America/Los_Angeles"},
        "charter_date": {"type": "string", "format": "date"},
        "start_time": {"type": "string", "pattern": r"^[0-2][0-9]:[0-5][0-9]$"},
        "duration_hours": {"type": "string", "pattern": NUMBER_PATTERN},
        "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 24 * 60},
        "gross_revenue": MONEY_OUT,
        "crew_cost": MONEY_OUT,
        "captain_cost": MONEY_OUT,
        "port_fee_percent": MONEY_OUT,
        "port_fee": MONEY_OUT,
        "net_revenue": MONEY_OUT,
        "currency": {"type": "string", "nullable": True, "example": "USD"},
        "guest": {
            "type": "object",
            "required": ["name", "email", "phone", "count"],
            "additionalProperties": False,
            "properties": {
                "name": TEXT_OUT,
                "email": TEXT_OUT,
                "phone": TEXT_OUT,
                "count": {"type": "integer"},
            },
        },
        "location": TEXT_OUT,
        "captain_id": {"type": "string", "nullable": True},
        "crew_assignments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["crew_id", "role", "duration_hours", "call_at", "state"],
                "additionalProperties": False,
                "properties": {
                    "crew_id": TEXT_OUT,
                    "role": {"type": "string", "enum": list(Role.values)},
                    "duration_hours": {"type": "string", "pattern": NUMBER_PATTERN},
                    "call_at": {"type": "string", "format": "date-time"},
                    "state": {"type": "string", "enum": list(AssignmentState.values)},
                },
            },
        },
        "notes": TEXT_OUT,
        "guest_page": {
            "type": "object",
            "nullable": True,
            "required": ["session_id", "path", "url"],
            "additionalProperties": False,
            "properties": {
                "session_id": TEXT_OUT,
                "path": {"type": "string", "example": "/g/XHQGMDH12345"},
                "url": {"type": "string", "format": "uri"},
            },
        },
        "pipeline": {
            "type": "object",
            "description": "Stage name → state of the latest pipeline run.",
            "additionalProperties": {"type": "string", "enum": list(StageState.values)},
        },
        "warnings": {
            "type": "array",
            "items": TEXT_OUT,
            "description": "Crew shift overlaps; they never block the booking.",
        },
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

ERRORS = {
    "type": "object",
    "required": ["errors"],
    "additionalProperties": False,
    "properties": {
        "errors": {
            "type": "object",
            "description": 'Field name (dotted for nested: "guest.email") → messages.',
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    },
}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


UNAUTHORIZED = _json("Errors", "No valid, unrevoked X-Dashboard-Token.")

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "JADA intake API",
        "version": "1.0.0",
        "description": (
            "Bookings in, from marketplaces and the dashboard. Every booking saved here runs "
            "the pipeline: crew event and checklists, crew notifications, the guest page."
        ),
    },
    "paths": {
        "/api/bookings": {
            "post": {
                "operationId": "bookingUpsert",
                "summary": "Create or update a booking, keyed on (source, external_ref)",
                "security": [{"DashboardToken": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/BookingRequest"}
                        }
                    },
                },
                "responses": {
                    "201": _json("Booking", "Created: the booking, its guest page and pipeline."),
                    "200": _json("Booking", "It existed: changes applied (or none to apply)."),
                    "400": _json("Errors", "Invalid: nothing was written."),
                    "401": UNAUTHORIZED,
                },
            }
        },
        "/api/bookings/{id}": {
            "get": {
                "operationId": "bookingRead",
                "summary": "A booking with its current pipeline state",
                "security": [{"DashboardToken": []}],
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
                "responses": {
                    "200": _json("Booking", "The booking."),
                    "401": UNAUTHORIZED,
                    "404": _json("Errors", "No booking with this id."),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "DashboardToken": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Dashboard-Token",
                "description": "A token from `manage.py create_api_token NAME`.",
            }
        },
        "schemas": {
            "BookingRequest": BOOKING_REQUEST,
            "GuestRequest": GUEST_REQUEST,
            "CrewAssignmentRequest": CREW_REQUEST,
            "Booking": BOOKING_RESPONSE,
            "Errors": ERRORS,
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """A copy of the document (callers may add `servers` without touching the original)."""
    return copy.deepcopy(DOCUMENT)
