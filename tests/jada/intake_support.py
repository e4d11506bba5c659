"""Shared by the intake tests: the write-up's booking as JSON, row counts, an API client."""

from __future__ import annotations

import csv
import io
import json
import secrets
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError

from bookings.models import AuditEntry, Booking, Financials
from crew.models import Assignment, ChecklistItem, CrewEvent
from guests.models import GuestPage
from jada.models import ApiToken, PipelineRun, StageRun, hash_token
from tests.factories import write_up as write_up  # the intake tests import it from here

COUNTED = (
    Booking,
    Financials,
    AuditEntry,
    CrewEvent,
    Assignment,
    ChecklistItem,
    GuestPage,
    PipelineRun,
    StageRun,
    ApiToken,
)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def new_token(name: str = "dashboard", *, revoked: bool = False) -> str:
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(name=name, token_hash=hash_token(token), revoked=revoked)
    return token


def post(client, body: Any, *, token: str | None, raw: bool = False):
    """POST to /api/bookings; `raw` sends `body` (str or bytes) exactly as given."""
    headers = {"X-Dashboard-Token": token} if token is not None else {}
    data = body if raw else json.dumps(body)
    return client.post("/api/bookings", data=data, content_type="application/json", headers=headers)


HEADER = [
    "source",
    "external_ref",
    "charter_date",
    "start_time",
    "duration_hours",
    "gross_revenue",
    "crew_cost",
    "captain_cost",
    "port_fee_percent",
    "net_revenue",
    "guest_name",
    "guest_email",
    "guest_phone",
    "guest_count",
    "location",
    "captain_id",
    "crew",
    "notes",
    "status",
]


def row(**overrides: str) -> dict[str, str]:
    values = {
        "source": "boatsetter",
        "external_ref": "BS-1",
        "charter_date": "2030-05-30",
        "start_time": "09:00",
        "duration_hours": "3",
        "gross_revenue": "840.75",
        "crew_cost": "250.00",
        "captain_cost": "150.00",
        "port_fee_percent": "18",
        "net_revenue": "289.41",
        "guest_name": "Jordan Avery",
        "guest_email": "jordan@guest.example.com",
        "guest_phone": "+1 555 0100",
        "guest_count": "4",
        "location": "Sheraton Hotel Dock",
        "captain_id": "CAP_001",
        "crew": "CREW_001:deckhand:5;CREW_002:deckhand:5",
        "notes": "Boatsetter charter, guest briefing required",
        "status": "confirmed",
    }
    values.update(overrides)
    return values


def run(*args: str) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_bookings", *args, stdout=out, stderr=err)
    except CommandError as e:
        return out.getvalue(), err.getvalue(), e
    return out.getvalue(), err.getvalue(), None


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
