"""Silence: one nudge after CREW_NUDGE_AFTER_HOURS, never at night; one alert per gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings

from crew.models import Assignment, CrewAlert
from crew.services import assignment_respond, crew_notify, reminders_send
from crew.silence import alerts_send, is_quiet

START = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)  # 09:00 PDT
TOLD = START - timedelta(days=5)  # 09:00 PDT on the 25th


@pytest.fixture
def told(event):
    Assignment.objects.update(created_at=TOLD - timedelta(days=2))
    crew_notify(event_id=event.pk, now=TOLD)
    mail.outbox.clear()
    return event


def test_quiet_hours_are_the_operators_night():
    assert not is_quiet(datetime(2030, 5, 27, 3, 59, tzinfo=UTC))  # 20:59 PDT
    assert is_quiet(datetime(2030, 5, 27, 4, 0, tzinfo=UTC))  # 21:00 PDT
    assert is_quiet(datetime(2030, 5, 27, 14, 59, tzinfo=UTC))  # 07:59 PDT
    assert not is_quiet(datetime(2030, 5, 27, 15, 0, tzinfo=UTC))  # 08:00 PDT


def test_the_nudge_waits_for_the_morning(told):
    night = TOLD + timedelta(hours=36)  # 21:00 PDT on the 26th
    assert reminders_send(now=night) == 0
    assert reminders_send(now=night + timedelta(hours=10, minutes=59)) == 0  # 07:59
    morning = night + timedelta(hours=11)  # 08:00 PDT
    assert reminders_send(now=morning) == 3
    assert {m.subject.split(":")[0] for m in mail.outbox} == {"Please answer"}
    assert reminders_send(now=morning + timedelta(hours=5)) == 0


def test_the_nudge_follows_the_setting(told):
    with override_settings(CREW_NUDGE_AFTER_HOURS=48):
        assert reminders_send(now=TOLD + timedelta(hours=25)) == 0
        assert reminders_send(now=TOLD + timedelta(hours=48)) == 3


def test_one_alert_per_charter_and_condition_naming_who_has_not_answered(
    told, django_capture_on_commit_callbacks
):
    assert alerts_send(now=START - timedelta(hours=49)) == 0
    now = START - timedelta(hours=47)
    assert alerts_send(now=now) == 2
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects[0].startswith("Crew alert, no accepted captain: Boatsetter BS-2024-0530")
    assert subjects[1].startswith("Crew alert, unanswered invitation:")
    unanswered = next(m for m in mail.outbox if "unanswered" in m.subject)
    for who in ("Marco Reyes (CAP_001)", "Dana Cole (CREW_001)", "Sam Ortiz (CREW_002)"):
        assert f"Not answered: {who}" in unanswered.body
    assert unanswered.to == settings.OPERATOR_EMAILS
    assert "PDT (America/Los_Angeles)" in unanswered.body
    mail.outbox.clear()
    assert alerts_send(now=now + timedelta(hours=1)) == 0
    sam = Assignment.objects.get(member__code="CREW_002")
    with django_capture_on_commit_callbacks(execute=True):
        assignment_respond(assignment=sam, accepted=False, now=now)
    mail.outbox.clear()
    assert alerts_send(now=now + timedelta(hours=2)) == 1
    [alert] = mail.outbox
    assert "open slot" in alert.subject and "Open deckhand slot" in alert.body
    assert CrewAlert.objects.count() == 3


def test_a_fully_crewed_charter_gets_no_alert(told):
    for assignment in Assignment.objects.all():
        assignment_respond(assignment=assignment, accepted=True, now=TOLD)
    assert alerts_send(now=START - timedelta(hours=2)) == 0


def test_beat_runs_the_alerts():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"crew.tasks.send_alerts", "crew.tasks.send_reminders"} <= tasks
