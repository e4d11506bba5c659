"""Reminders: the day before a charter, and to members who have not answered."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from crew import emails
from crew.models import Assignment, AssignmentState, EventStatus
from crew.services.sending import assignment_send_once
from crew.silence import is_quiet


def _reminder_send(pk: int, *, field: str, kind: str, now: datetime, also: str | None) -> bool:
    def prepare(assignment: Assignment) -> tuple[EmailMessage, None] | None:
        if getattr(assignment, field) is not None:
            return None  # another run got here first
        return emails.assignment_message(assignment, kind=kind, now=now), None

    def record(assignment: Assignment, _: None) -> list[str]:
        setattr(assignment, field, now)
        fields = [field]
        if also and assignment.state == AssignmentState.PENDING:
            # The day-before email asks for an answer too; one email is enough.
            setattr(assignment, also, getattr(assignment, also) or now)
            fields.append(also)
        return fields

    # "Sending" is recorded before the SMTP call, which runs outside any transaction.
    return assignment_send_once(pk, prepare=prepare, record=record)


def reminders_send(*, now: datetime | None = None) -> int:
    """Day-before and unanswered reminders that are due; returns emails sent.

    None for past or cancelled charters, none twice, none sooner than
    CREW_REMINDER_MIN_NOTICE_HOURS after the member was assigned and told.
    """
    now = now or timezone.now()
    min_notice = now - timedelta(hours=settings.CREW_REMINDER_MIN_NOTICE_HOURS)
    unanswered_after = now - timedelta(hours=settings.CREW_NUDGE_AFTER_HOURS)
    due = Assignment.objects.filter(
        removed_at__isnull=True,
        member__active=True,
        event__status=EventStatus.SCHEDULED,
        event__starts_at__gt=now,
        notified_version__gt=0,
        notified_at__lte=min_notice,
        created_at__lte=min_notice,
    ).order_by("pk")
    tomorrow = due.filter(
        event__starts_at__lte=now + timedelta(hours=24),
        reminded_day_before_at__isnull=True,
    ).exclude(state=AssignmentState.DECLINED)
    sent = 0
    for pk in list(tomorrow.values_list("pk", flat=True)):
        sent += _reminder_send(
            pk,
            field="reminded_day_before_at",
            kind=emails.TOMORROW,
            now=now,
            also="reminded_unanswered_at",
        )
    if is_quiet(now):
        return sent  # the nudge waits for the morning
    unanswered = due.filter(
        state=AssignmentState.PENDING,
        notified_at__lte=unanswered_after,
        reminded_unanswered_at__isnull=True,
    )
    for pk in list(unanswered.values_list("pk", flat=True)):
        sent += _reminder_send(
            pk, field="reminded_unanswered_at", kind=emails.UNANSWERED, now=now, also=None
        )
    return sent
