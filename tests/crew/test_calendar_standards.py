"""What calendar clients read in crew invitations: RSVP while unanswered, cancellations in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from crew.models import Assignment
from crew.services import assignment_respond, crew_notify
from tests.factories import WRITEUP_PLAN, charter
from tests.helpers import by_address, ics_of

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def attendee_of(ics: str):
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    return event["attendee"], event


def test_an_unanswered_invitation_asks_for_an_answer_and_an_answered_one_does_not(event, dock):
    crew_notify(event_id=event.pk, now=NOW)
    attendee, _ = attendee_of(ics_of(by_address("crew001@crew.example.com")[0]))
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "TRUE"

    dana = Assignment.objects.get(event=event, member__code="CREW_001")
    assignment_respond(assignment=dana, accepted=True, now=NOW)
    mail.outbox.clear()
    charter(dock, guest_count=6)
    crew_notify(event_id=event.pk, now=NOW)

    attendee, _ = attendee_of(ics_of(by_address("crew001@crew.example.com")[0]))
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert "RSVP" not in attendee.params


def test_a_cancellation_carries_the_shift_the_member_was_invited_for(event, dock, client):
    crew_notify(event_id=event.pk, now=NOW)
    sam = Assignment.objects.get(event=event, member__code="CREW_002")
    invited_start, invited_end = sam.call_at, sam.shift_ends_at
    mail.outbox.clear()

    # One change moves the charter two hours and takes Sam off it.
    charter(
        dock,
        plan=[p for p in WRITEUP_PLAN if p.member_code != "CREW_002"],
        starts_at=datetime(2030, 5, 30, 18, 0, tzinfo=UTC),
    )
    crew_notify(event_id=event.pk, now=NOW)

    [message] = by_address("crew002@crew.example.com")
    ics = ics_of(message)
    assert "METHOD:CANCEL" in ics
    _, cancelled = attendee_of(ics)
    assert cancelled.decoded("dtstart") == invited_start
    assert cancelled.decoded("dtend") == invited_end
    assert "RSVP" not in cancelled["attendee"].params
    # The others move with the charter; Sam's feed keeps the shift Sam was told of.
    dana = Assignment.objects.get(event=event, member__code="CREW_001")
    assert dana.call_at == datetime(2030, 5, 30, 18, 0, tzinfo=UTC) - timedelta(hours=1)
    client.force_login(sam.member.user)
    feed = client.get(reverse("crew-feed", args=[sam.member.feed_token])).content
    [in_feed] = Calendar.from_ical(feed).walk("VEVENT")
    assert in_feed.decoded("dtstart") == invited_start
