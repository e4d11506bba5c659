"""A charter that moves or grows: what happens to its crew's answers, ticks and shifts."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core import mail

from crew.models import Assignment, AssignmentState, ChecklistItem
from crew.services import assignment_respond, checklist_item_tick, crew_notify
from tests.factories import charter

NOW = datetime(2030, 5, 1, tzinfo=UTC)


def answered_and_ticked(event, roster) -> None:
    for assignment in Assignment.objects.filter(event=event).select_related("member"):
        # Ticked while still answering: a declined assignment takes no more ticks.
        item = assignment.checklist_items.first()
        checklist_item_tick(item=item, by=assignment.member.user, done=True)
        assignment_respond(assignment=assignment, accepted=assignment.member.code != "CREW_002")


def test_a_later_time_the_same_day_keeps_answers_and_ticks(event, dock, roster):
    answered_and_ticked(event, roster)
    charter(dock, starts_at=datetime(2030, 5, 30, 18, 0, tzinfo=UTC))  # 11:00 instead of 09:00
    states = dict(Assignment.objects.values_list("member__code", "state"))
    assert states == {"CAP_001": "accepted", "CREW_001": "accepted", "CREW_002": "declined"}
    assert ChecklistItem.objects.filter(done_at__isnull=False).count() == 3


def test_another_day_asks_everyone_again_and_clears_the_ticks(event, dock, roster):
    crew_notify(event_id=event.pk, now=NOW)
    answered_and_ticked(event, roster)
    mail.outbox.clear()
    charter(dock, starts_at=datetime(2030, 6, 6, 16, 0, tzinfo=UTC))  # a week later
    for assignment in Assignment.objects.all():
        assert assignment.state == AssignmentState.PENDING
        assert assignment.responded_at is None and assignment.decline_reason == ""
    assert not ChecklistItem.objects.filter(done_at__isnull=False).exists()
    # Each member hears of the new date and is asked to answer for it.
    assert crew_notify(event_id=event.pk, now=NOW) == 3
    (dana,) = [m for m in mail.outbox if m.to == ["crew001@crew.example.com"]]
    assert "Thu 6 Jun 2030" in dana.subject
    assert "/crew/answer/" in dana.body


def test_a_longer_charter_lengthens_every_shift(event, dock):
    before = dict(Assignment.objects.values_list("member__code", "shift_minutes"))
    crew_notify(event_id=event.pk, now=NOW)
    mail.outbox.clear()
    charter(dock, plan=None, duration_minutes=360)
    after = dict(Assignment.objects.values_list("member__code", "shift_minutes"))
    assert after == {code: minutes + 180 for code, minutes in before.items()}
    for assignment in Assignment.objects.all():
        assert assignment.ends_at >= assignment.event.ends_at
    crew_notify(event_id=event.pk, now=NOW)
    (dana,) = [m for m in mail.outbox if m.to == ["crew001@crew.example.com"]]
    assert "Shift: 8 h (was 5 h)" in dana.body


def test_a_member_taken_off_sees_nothing_of_the_charter_s_later_changes(event, dock, roster):
    from django.test import Client
    from django.urls import reverse

    from tests.factories import WRITEUP_PLAN

    sam = Assignment.objects.get(event=event, member__code="CREW_002")
    called = sam.call_at
    without_sam = [p for p in WRITEUP_PLAN if p.member_code != "CREW_002"]
    charter(dock, plan=without_sam)
    # Afterwards the charter moves a week and gets new notes.
    charter(
        dock,
        plan=without_sam,
        starts_at=datetime(2030, 6, 6, 16, 0, tzinfo=UTC),
        notes="Bring the spare anchor line",
    )
    client = Client()
    client.force_login(roster["CREW_002"].user)
    page = client.get(reverse("crew-assignment", args=[sam.pk])).content.decode()
    assert "You are no longer on this charter" in page
    for later in ("spare anchor line", "Jun 2030", "Marco", "Dana"):
        assert later not in page, later
    feed = client.get(reverse("crew-feed", args=[roster["CREW_002"].feed_token])).content.decode()
    assert "spare anchor line" not in feed and "STATUS:CANCELLED" in feed
    sam.refresh_from_db()
    assert sam.call_at == called  # not moved with the charter

    # Back on the charter: today's call time, an hour before boarding.
    charter(dock, plan=WRITEUP_PLAN, starts_at=datetime(2030, 6, 6, 16, 0, tzinfo=UTC))
    sam.refresh_from_db()
    assert sam.removed_at is None
    assert sam.call_at == datetime(2030, 6, 6, 15, 0, tzinfo=UTC)
