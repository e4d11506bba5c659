"""Silence handled: quiet hours for nudges, and operator alerts for charters close at hand."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from bookings.formatting import local, when_text
from crew import once, operator_emails
from crew.models import (
    AlertCondition,
    Assignment,
    AssignmentState,
    CrewAlert,
    CrewEvent,
    EventStatus,
    Role,
    Slot,
)

logger = logging.getLogger(__name__)

# No nudge at night in the operator's zone: from 21:00 until 08:00.
QUIET_FROM, QUIET_UNTIL = 21, 8


def is_quiet(now: datetime) -> bool:
    """Whether `now` falls in the operator's quiet hours (no reminders go out then)."""
    hour = local(now).hour
    return hour >= QUIET_FROM or hour < QUIET_UNTIL


def _who(assignment: Assignment) -> str:
    return f"{assignment.member.name} ({assignment.member.code})"


def event_gaps(event: CrewEvent) -> dict[str, list[str]]:
    """Condition → lines naming who or what, for each gap the charter's crew still has.

    Expects `live` (active assignments with members) and `open_slots` prefetched.
    """
    live = [a for a in event.live if a.member.active]
    pending = [a for a in live if a.state == AssignmentState.PENDING]
    not_answered = [
        f"Not answered: {_who(a)}, {a.get_role_display()}"
        + (f", invited {when_text(a.notified_at)}" if a.notified_at else "")
        for a in pending
    ]
    gaps: dict[str, list[str]] = {}
    captains = [a for a in live if a.role == Role.CAPTAIN]
    if not any(a.state == AssignmentState.ACCEPTED for a in captains):
        if captains:
            lines = [f"Captain {_who(a)}: {a.get_state_display().lower()}" for a in captains]
        else:
            lines = ["No captain is assigned."]
        gaps[AlertCondition.NO_CAPTAIN] = lines + not_answered
    if event.open_slots:
        gaps[AlertCondition.OPEN_SLOT] = [
            f"Open {s.get_role_display().lower()} slot, call {when_text(s.call_at)}"
            for s in event.open_slots
        ] + not_answered
    if pending:
        gaps[AlertCondition.UNANSWERED] = not_answered
    return gaps


def charters_within(*, now: datetime) -> list[CrewEvent]:
    """Scheduled charters starting within CREW_ALERT_WITHIN_HOURS, with crew and open slots."""
    until = now + timedelta(hours=settings.CREW_ALERT_WITHIN_HOURS)
    return list(
        CrewEvent.objects.filter(status=EventStatus.SCHEDULED, starts_at__gt=now)
        .filter(starts_at__lte=until)
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.filter(removed_at__isnull=True)
                .select_related("member")
                .order_by("call_at", "pk"),
                to_attr="live",
            ),
            Prefetch(
                "slots",
                queryset=Slot.objects.filter(filled_at__isnull=True, withdrawn_at__isnull=True),
                to_attr="open_slots",
            ),
        )
        .order_by("starts_at")
    )


def alerts_send(*, now: datetime | None = None) -> int:
    """One operator alert per charter and condition, for charters close at hand; how many went."""
    now = now or timezone.now()
    labels = dict(AlertCondition.choices)
    sent = 0
    for event in charters_within(now=now):
        for condition, details in event_gaps(event).items():
            alert, _ = CrewAlert.objects.get_or_create(
                event=event, condition=condition, defaults={"created_at": now}
            )
            mine = CrewAlert.objects.filter(pk=alert.pk)
            if not once.claim(mine, "sent_at", now):
                continue  # told already
            message = operator_emails.alert_message(
                event, condition=condition, label=str(labels[condition]), details=details
            )
            try:
                message.send()
            except Exception:
                once.unclaim(mine, "sent_at", now)
                raise
            logger.info("crew alert %s for event %s", condition, event.pk)
            sent += 1
    return sent
