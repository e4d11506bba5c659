"""Reminders: unanswered and day-before, once each, never for the past, never too soon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from crew.models import Assignment, AssignmentState
from crew.services import assignment_respond, crew_notify, reminders_send
from crew.tasks import send_reminders
from tests.factories import charter

START = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
TOLD = START - timedelta(days=5)


@pytest.fixture
def told(event):
    """The write-up's charter, its crew told five days ahead and assigned a week ahead."""
    Assignment.objects.update(created_at=TOLD - timedelta(days=2))
    crew_notify(event_id=event.pk, now=TOLD)
    mail.outbox.clear()
    return event


def subjects() -> list[tuple[str, str]]:
    return sorted((m.to[0].split("@")[0], m.subject.split(":")[0]) for m in mail.outbox)


def test_nothing_is_due_right_after_notification(told):
    assert reminders_send(now=TOLD + timedelta(hours=1)) == 0


def test_unanswered_members_are_reminded_once(told):
    dana = Assignment.objects.get(member__code="CREW_001")
    assignment_respond(assignment=dana, accepted=True, now=TOLD + timedelta(hours=2))
    now = TOLD + timedelta(hours=24)
    assert reminders_send(now=now) == 2
    assert subjects() == [("cap001", "Please answer"), ("crew002", "Please answer")]
    assert "accept or decline" in mail.outbox[0].body
    assert "/crew/login/?t=" in mail.outbox[0].body
    assert reminders_send(now=now + timedelta(hours=1)) == 0
    assert reminders_send(now=now + timedelta(days=2)) == 0


def test_everyone_assigned_gets_a_day_before_reminder_once(told):
    dana = Assignment.objects.get(member__code="CREW_001")
    sam = Assignment.objects.get(member__code="CREW_002")
    assignment_respond(assignment=dana, accepted=True, now=TOLD)
    assignment_respond(assignment=sam, accepted=False, now=TOLD)
    Assignment.objects.update(reminded_unanswered_at=TOLD)
    now = START - timedelta(hours=20)
    assert reminders_send(now=now) == 2
    # Declined members are not reminded; the captain has not answered and is asked to.
    assert subjects() == [("cap001", "Tomorrow"), ("crew001", "Tomorrow")]
    captain = next(m for m in mail.outbox if m.to == ["cap001@crew.example.com"])
    assert "You haven't answered yet" in captain.body
    assert "METHOD:REQUEST" in captain.attachments[0][1]
    assert reminders_send(now=now + timedelta(hours=1)) == 0


def test_a_pending_member_gets_one_email_when_both_reminders_are_due(told):
    assert reminders_send(now=START - timedelta(hours=20)) == 3
    assert {s for _, s in subjects()} == {"Tomorrow"}
    assert reminders_send(now=START - timedelta(hours=19)) == 0


def test_no_day_before_reminder_for_a_last_minute_booking(event, dock):
    now = START - timedelta(hours=10)
    Assignment.objects.update(created_at=now - timedelta(hours=1))
    crew_notify(event_id=event.pk, now=now - timedelta(hours=1))
    mail.outbox.clear()
    assert reminders_send(now=now) == 0


def test_no_reminder_before_the_member_was_told(event):
    Assignment.objects.update(created_at=TOLD)
    assert reminders_send(now=START - timedelta(hours=20)) == 0


def test_no_reminders_for_past_or_cancelled_charters(told, dock):
    assert reminders_send(now=START + timedelta(minutes=1)) == 0
    charter(dock, plan=None, status="cancelled")
    assert reminders_send(now=START - timedelta(hours=20)) == 0


def test_removed_members_are_not_reminded(told, dock):
    from tests.factories import WRITEUP_PLAN

    charter(dock, plan=[p for p in WRITEUP_PLAN if p.member_code != "CREW_002"])
    assert reminders_send(now=START - timedelta(hours=20)) == 2
    assert "crew002" not in {to for to, _ in subjects()}


def test_deactivated_members_get_no_more_email(told, dock, roster):
    sam = roster["CREW_002"]
    sam.active = False
    sam.save()
    assert reminders_send(now=START - timedelta(hours=20)) == 2
    charter(dock, starts_at=START + timedelta(hours=1))  # a change the others are told of
    crew_notify(event_id=told.pk, now=TOLD)
    assert "crew002" not in {to for to, _ in subjects()}
    assert {to for to, _ in subjects()} == {"cap001", "crew001"}


def test_the_beat_task_calls_the_service(told, settings):
    assert send_reminders.name == "crew.tasks.send_reminders"
    assert "crew.tasks.send_reminders" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    # Real time is years before the charter: nothing is due.
    assert send_reminders.apply().get(disable_sync_subtasks=False) == 0
    assert Assignment.objects.filter(state=AssignmentState.PENDING).count() == 3


def test_a_moved_charter_gets_a_new_day_before_reminder(told, dock):
    assert reminders_send(now=START - timedelta(hours=20)) == 3
    mail.outbox.clear()
    moved = START + timedelta(days=2)
    charter(dock, plan=None, starts_at=moved)
    crew_notify(event_id=told.pk, now=START - timedelta(hours=19))
    mail.outbox.clear()
    assert reminders_send(now=moved - timedelta(hours=20)) == 3
    assert {s for _, s in subjects()} == {"Tomorrow"}
