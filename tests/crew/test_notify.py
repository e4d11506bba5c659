"""The crew stage: one email per member and version, changes named, cancellations once."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from crew.models import Assignment
from crew.services import PlannedAssignment, crew_notify
from tests.factories import WRITEUP_PLAN, charter
from tests.helpers import by_address, ics_of

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
# Three members told: per member 9 statements (savepoints included), and the list of them.
PINNED_NOTIFY_QUERIES = 28


def calendar_part_method(message) -> str | None:
    """The `method` parameter of the calendar part's Content-Type, as a mail client reads it."""
    (part,) = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    return part.get_param("method")


def test_each_assigned_member_gets_one_new_charter_email(event):
    assert crew_notify(event_id=event.pk, now=NOW) == 3
    assert sorted(m.to[0] for m in mail.outbox) == [
        "cap001@crew.example.com",
        "crew001@crew.example.com",
        "crew002@crew.example.com",
    ]
    (dana,) = by_address("crew001@crew.example.com")
    assert dana.subject.startswith("New charter Thu 30 May 2030, 9:00 AM PDT (America/Los_Angeles)")
    text = dana.body
    html = dana.alternatives[0][0]
    for body in (text, html):
        assert "8:00 AM PDT (America/Los_Angeles)" in body  # call time, zone named
        assert "Sheraton Hotel Dock" in body
        assert "walk past the pool to gate C" in body
        assert "https://maps.example.com/?q=Sheraton+Hotel+Dock" in body
        assert "Deckhand" in body and "5 h" in body
        assert "guest briefing required" in body
        assert "Marco" in body and "Sam" in body  # captain and fellow crew, first names
        assert "Reyes" not in body and "Ortiz" not in body
    assert "http://127.0.0.1:8000/crew/login/?t=" in text
    assigned = Assignment.objects.get(member__code="CREW_001")
    ics = ics_of(dana)
    assert "METHOD:REQUEST" in ics
    assert calendar_part_method(dana) == "REQUEST"
    assert f"UID:assignment-{assigned.pk}@jada" in ics
    assert f"SEQUENCE:{event.version}" in ics
    assert "STATUS:CONFIRMED" in ics
    assert assigned.notified_version == event.version and assigned.notified_at == NOW


def test_a_second_run_sends_nothing(event):
    assert crew_notify(event_id=event.pk, now=NOW) == 3
    assert crew_notify(event_id=event.pk, now=NOW) == 0
    assert len(mail.outbox) == 3


def test_a_change_sends_a_changed_email_naming_what_changed(event, dock):
    crew_notify(event_id=event.pk, now=NOW)
    mail.outbox.clear()
    moved = charter(dock, starts_at=datetime(2030, 5, 31, 17, 0, tzinfo=UTC))
    assert moved.version == event.version + 1
    assert crew_notify(event_id=event.pk, now=NOW) == 3
    (dana,) = by_address("crew001@crew.example.com")
    assert dana.subject.startswith("Changed: charter Fri 31 May 2030, 10:00 AM PDT")
    assert "Charter date and time: Fri 31 May 2030, 10:00 AM PDT (America/Los_Angeles)" in dana.body
    assert "(was Thu 30 May 2030, 9:00 AM PDT (America/Los_Angeles))" in dana.body
    assert "Call time: Fri 31 May 2030, 9:00 AM PDT" in dana.body
    assert "Dock:" in dana.body and "Dock: " not in dana.body.split("changed:")[1].split("\n\n")[0]
    ics = ics_of(dana)
    assert f"SEQUENCE:{moved.version}" in ics and "METHOD:REQUEST" in ics
    assert "DTSTART:20300531T160000Z" in ics
    assert crew_notify(event_id=event.pk, now=NOW) == 0


def test_a_new_map_link_is_news_to_crew(event, dock):
    crew_notify(event_id=event.pk, now=NOW)
    mail.outbox.clear()
    dock.map_url = "https://maps.example.com/?q=Gate+C"
    dock.save()
    moved = charter(dock)
    assert moved.version == event.version + 1
    assert crew_notify(event_id=event.pk, now=NOW) == 3
    (dana,) = by_address("crew001@crew.example.com")
    assert "Map: https://maps.example.com/?q=Gate+C" in dana.body


def test_a_guest_count_change_is_named(event, dock):
    crew_notify(event_id=event.pk, now=NOW)
    mail.outbox.clear()
    charter(dock, guest_count=6)
    assert crew_notify(event_id=event.pk, now=NOW) == 3
    (dana,) = by_address("crew001@crew.example.com")
    assert "- Guests: 6 (was 4)" in dana.body
    assert "Brief" not in dana.subject


def test_removing_a_member_sends_them_one_cancellation(event, dock):
    crew_notify(event_id=event.pk, now=NOW)
    mail.outbox.clear()
    charter(dock, plan=[p for p in WRITEUP_PLAN if p.member_code != "CREW_002"])
    assert crew_notify(event_id=event.pk, now=NOW) == 3
    (sam,) = by_address("crew002@crew.example.com")
    assert sam.subject.startswith("Cancelled:")
    assert "no longer needed" in sam.body
    assert "METHOD:CANCEL" in ics_of(sam) and "STATUS:CANCELLED" in ics_of(sam)
    # The others hear who is on the crew now.
    (dana,) = by_address("crew001@crew.example.com")
    assert "- Crew: Marco (Captain) (was Marco (Captain), Sam (Deckhand))" in dana.body
    mail.outbox.clear()
    assert crew_notify(event_id=event.pk, now=NOW) == 0


def test_a_member_removed_before_being_told_gets_nothing(event, dock):
    charter(dock, plan=[p for p in WRITEUP_PLAN if p.member_code != "CREW_002"])
    assert crew_notify(event_id=event.pk, now=NOW) == 2
    assert by_address("crew002@crew.example.com") == []


def test_re_adding_a_removed_member_sends_a_new_charter_email(event, dock):
    crew_notify(event_id=event.pk, now=NOW)
    charter(dock, plan=[p for p in WRITEUP_PLAN if p.member_code != "CREW_002"])
    crew_notify(event_id=event.pk, now=NOW)
    mail.outbox.clear()
    charter(dock)
    crew_notify(event_id=event.pk, now=NOW)
    (sam,) = by_address("crew002@crew.example.com")
    assert sam.subject.startswith("New charter")


def test_cancelling_the_charter_sends_every_member_one_cancellation(event, dock):
    crew_notify(event_id=event.pk, now=NOW)
    mail.outbox.clear()
    charter(dock, plan=None, status="cancelled")
    assert crew_notify(event_id=event.pk, now=NOW) == 3
    for message in mail.outbox:
        assert message.subject.startswith("Cancelled:")
        assert "is cancelled" in message.body
        assert "METHOD:CANCEL" in ics_of(message)
        assert calendar_part_method(message) == "CANCEL"
    assert crew_notify(event_id=event.pk, now=NOW) == 0


def test_a_change_that_does_not_concern_a_member_sends_them_nothing(event, dock):
    crew_notify(event_id=event.pk, now=NOW)
    mail.outbox.clear()
    plan = [PlannedAssignment("CAP_001", "captain", 360), *WRITEUP_PLAN[1:]]
    charter(dock, plan=plan)
    assert crew_notify(event_id=event.pk, now=NOW) == 1
    (marco,) = mail.outbox
    assert "- Shift: 6 h (was 5 h)" in marco.body
    assert set(Assignment.objects.values_list("notified_version", flat=True)) == {event.version + 1}


class FailFor(EmailBackend):
    """Delivers like locmem, but the SMTP server refuses one address."""

    refuse = "crew002@crew.example.com"

    def send_messages(self, messages):
        for message in messages:
            if self.refuse in message.to:
                raise smtplib.SMTPRecipientsRefused({self.refuse: (550, b"no")})
        return super().send_messages(messages)


def test_an_smtp_error_raises_and_a_retry_sends_only_what_is_missing(event):
    with override_settings(EMAIL_BACKEND="tests.crew.test_notify.FailFor"):
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            crew_notify(event_id=event.pk, now=NOW)
    assert len(mail.outbox) == 2
    told = Assignment.objects.filter(notified_version__gt=0).values_list("member__code", flat=True)
    assert sorted(told) == ["CAP_001", "CREW_001"]
    assert crew_notify(event_id=event.pk, now=NOW) == 1
    assert [m.to for m in mail.outbox[2:]] == [["crew002@crew.example.com"]]


def test_each_email_costs_the_same_few_queries(event):
    """Per member: the locked row with its event, member and user in one read, the crew once,
    the claim and the record; the crew is not read again for the email, nor the user apart,
    nor the event and member when the email is recorded."""
    with CaptureQueriesContext(connection) as captured:
        assert crew_notify(event_id=event.pk, now=NOW) == 3
    sql = [q["sql"] for q in captured.captured_queries]
    crew_reads = [s for s in sql if s.startswith("SELECT") and "FOR UPDATE" not in s]
    crew_reads = [s for s in crew_reads if 'FROM "crew_assignment"' in s and "NOT" in s]
    assert len(crew_reads) == 3  # one per member's email
    assert not [s for s in sql if s.startswith("SELECT") and 'FROM "auth_user"' in s]
    # The lock before the send reads the event, member and user with the row; the one after
    # it (recording what was sent) the row alone.
    reads = [s for s in sql if s.startswith("SELECT") and 'FROM "crew_assignment"' in s]
    locks = [s for s in reads if "NOT" not in s and '"crew_assignment"."id" =' in s]
    joined = [s for s in locks if "JOIN" in s]
    assert (len(locks), len(joined)) == (6, 3)
    assert len(sql) == PINNED_NOTIFY_QUERIES
