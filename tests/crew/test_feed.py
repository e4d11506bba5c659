"""The personal calendar feed: secret, revocable, every assignment, cancellations marked."""

from __future__ import annotations

from django.core import mail
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from crew.models import Assignment, AssignmentState, CrewMember
from crew.services import crew_notify, member_feed_token_regenerate
from tests.factories import WRITEUP_PLAN, charter


def feed(member: CrewMember):
    return Client().get(reverse("crew-feed", args=[member.feed_token]))


def events_of(response) -> list:
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def accept(code: str) -> None:
    Assignment.objects.filter(member__code=code).update(state=AssignmentState.ACCEPTED)


def test_the_feed_lists_the_members_assignments(event, roster):
    accept("CREW_001")
    response = feed(roster["CREW_001"])
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    (vevent,) = events_of(response)
    assignment = Assignment.objects.get(event=event, member__code="CREW_001")
    assert str(vevent["UID"]) == f"assignment-{assignment.pk}@jada"
    assert int(vevent["SEQUENCE"]) == event.version
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert vevent.decoded("DTSTART") == assignment.call_at
    assert b"METHOD" not in response.content


def test_uids_are_stable_and_sequence_rises_with_the_version(event, roster, dock):
    before = events_of(feed(roster["CREW_001"]))[0]
    charter(dock, guest_count=7)
    after = events_of(feed(roster["CREW_001"]))[0]
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1


def test_cancelled_and_removed_assignments_are_marked_cancelled(event, roster, dock):
    accept("CREW_001")
    charter(dock, plan=[p for p in WRITEUP_PLAN if p.member_code != "CREW_002"])
    (removed,) = events_of(feed(roster["CREW_002"]))
    assert str(removed["STATUS"]) == "CANCELLED"
    assert str(events_of(feed(roster["CREW_001"]))[0]["STATUS"]) == "CONFIRMED"
    charter(dock, plan=None, status="cancelled")
    assert str(events_of(feed(roster["CREW_001"]))[0]["STATUS"]) == "CANCELLED"


def test_a_wrong_token_is_404(event, roster):
    token = roster["CREW_001"].feed_token
    client = Client()
    # Change the last character to one it is not (a token may itself end in "x").
    wrong = token[:-1] + ("y" if token.endswith("x") else "x")
    assert client.get(reverse("crew-feed", args=[wrong])).status_code == 404
    assert client.get(reverse("crew-feed", args=["nope"])).status_code == 404


def test_regenerating_the_token_revokes_the_old_url(event, roster):
    member = roster["CREW_001"]
    old = reverse("crew-feed", args=[member.feed_token])
    member_feed_token_regenerate(member=member)
    assert Client().get(old).status_code == 404
    assert feed(member).status_code == 200


def test_the_feed_and_the_attachment_agree_on_uid_and_sequence(event, roster):
    crew_notify(event_id=event.pk)
    attached = next(m for m in mail.outbox if m.to == ["crew001@crew.example.com"])
    (vevent,) = Calendar.from_ical(attached.attachments[0][1]).walk("VEVENT")
    (fed,) = events_of(feed(roster["CREW_001"]))
    assert vevent["UID"] == fed["UID"] and vevent["SEQUENCE"] == fed["SEQUENCE"]


def test_awaiting_is_tentative_and_declined_is_cancelled(event, roster):
    def status(code: str) -> str:
        return str(events_of(feed(roster[code]))[0]["STATUS"])

    assert status("CREW_001") == "TENTATIVE"
    Assignment.objects.filter(member__code="CREW_001").update(state=AssignmentState.DECLINED)
    assert status("CREW_001") == "CANCELLED"
    accept("CREW_001")
    assert status("CREW_001") == "CONFIRMED"
