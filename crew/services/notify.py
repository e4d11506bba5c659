"""Crew notifications (the `crew_notify` stage): each member told once per change."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.core.mail import EmailMessage
from django.utils import timezone

from bookings.formatting import minutes_text, when_text
from crew import emails
from crew.models import Assignment, Role
from crew.services.sending import assignment_send_once

logger = logging.getLogger(__name__)

SNAPSHOT_LABELS = {
    "starts_at": "Charter date and time",
    "duration_minutes": "Charter length",
    "call_at": "Call time",
    "shift_minutes": "Shift",
    "role": "Role",
    "vessel": "Vessel",
    "dock": "Dock",
    "dock_address": "Dock address",
    "directions": "Directions",
    "map": "Map",
    "guest_count": "Guests",
    "notes": "Notes",
    "crew": "Crew",
}


def assignment_snapshot(assignment: Assignment, crew: Sequence[Assignment]) -> dict:
    """What the member is told about their assignment (JSON-safe)."""
    event = assignment.event
    return {
        "version": event.version,
        "starts_at": event.starts_at.isoformat(),
        "duration_minutes": event.duration_minutes,
        "call_at": assignment.call_at.isoformat(),
        "shift_minutes": assignment.shift_minutes,
        "role": assignment.role,
        "vessel": event.vessel_name,
        "dock": event.dock_name,
        "dock_address": event.dock_address,
        "directions": event.dock_directions,
        "map": event.dock_map_url,
        "guest_count": event.guest_count,
        "notes": event.notes,
        "crew": [f"{a.member.first_name} ({a.get_role_display()})" for a in crew],
        "cancelled": assignment.removed_at is not None or event.is_cancelled,
    }


def _shown(field: str, value: object) -> str:
    if value in (None, "", []):
        return "none"
    if field in ("starts_at", "call_at"):
        return when_text(datetime.fromisoformat(str(value)))
    if field in ("duration_minutes", "shift_minutes"):
        return minutes_text(int(value))  # type: ignore[arg-type]
    if field == "role":
        return str(Role(value).label) if value in Role.values else str(value)
    if field == "crew":
        return ", ".join(value)  # type: ignore[arg-type]
    return str(value)


def snapshot_changes(before: dict, after: dict) -> list[emails.Change]:
    """What changed between two snapshots, in words."""
    return [
        emails.Change(label, _shown(field, before.get(field)), _shown(field, after.get(field)))
        for field, label in SNAPSHOT_LABELS.items()
        if before.get(field) != after.get(field)
    ]


def _notice(assignment: Assignment, snapshot: dict) -> tuple[str | None, list[emails.Change]]:
    """Which email (if any) the assignment's member is owed now."""
    told = assignment.notified_snapshot or {}
    if snapshot["cancelled"]:
        if assignment.notified_version == 0 or told.get("cancelled"):
            return None, []  # never told about it, or already told it is off
        return emails.CANCELLED, []
    if assignment.notified_version == 0 or told.get("cancelled"):
        return emails.NEW, []
    if assignment.notified_version >= assignment.event.version:
        return None, []
    changes = snapshot_changes(told, snapshot)
    return (emails.CHANGED if changes else None), changes


def crew_notify(*, event_id: int, now: datetime | None = None) -> int:
    """Email every member what they have not been told yet about the event; returns emails sent.

    Safe to run twice: each assignment row is locked and compared with what its member was last
    told; "sending" is recorded before the SMTP call (made outside any transaction) and "told"
    right after it, so a retry resends nothing already sent, and a resend after a lost worker
    carries the same Message-ID. Mail errors propagate for the caller to retry.
    """
    now = now or timezone.now()
    sent = 0
    # An inactive member gets no email: their links no longer sign in, and the operator is
    # told to replace them (crew admin) when they are deactivated.
    ids = list(
        Assignment.objects.filter(event_id=event_id, member__active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def prepare(assignment: Assignment) -> tuple[EmailMessage, tuple[int, dict]] | None:
        crew = emails.crew_of(assignment)
        snapshot = assignment_snapshot(assignment, crew)
        kind, changes = _notice(assignment, snapshot)
        version = assignment.event.version
        if kind is None:
            if assignment.notified_version < version:
                # Recorded when nothing that concerns this member changed in a new version.
                assignment.notified_version = version
                assignment.notified_snapshot = snapshot
                assignment.save(update_fields=["notified_version", "notified_snapshot"])
            return None
        logger.info("crew %s email to assignment %s", kind, assignment.pk)
        # The crew read for the snapshot is the one the email names: one query, not two.
        message = emails.assignment_message(
            assignment, kind=kind, changes=changes, now=now, crew=crew
        )
        return message, (version, snapshot)

    def record(assignment: Assignment, told: tuple[int, dict]) -> list[str]:
        assignment.notified_version, assignment.notified_snapshot = told
        assignment.notified_at = now
        return ["notified_version", "notified_snapshot", "notified_at"]

    for pk in ids:
        sent += assignment_send_once(pk, prepare=prepare, record=record)
    return sent
