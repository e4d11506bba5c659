"""The crew's own view: declined cards, fellow members' states, phones, feed, after answering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crew import dispatch
from crew.links import crew_answer_url
from crew.models import Assignment, ChecklistItem, CrewMember
from crew.services import NotAllowed, assignment_respond, checklist_item_tick, crew_notify
from tests.helpers import signed_in

NOW = datetime(2030, 5, 1, tzinfo=UTC)


@pytest.fixture
def phones(event):
    CrewMember.objects.filter(code="CAP_001").update(phone="+1 619 555 0111")
    CrewMember.objects.filter(code="CREW_002").update(phone="+1 619 555 0122")
    return event


def mine(event, code: str) -> Assignment:
    return Assignment.objects.select_related("member").get(event=event, member__code=code)


def test_a_declined_card_has_no_checklist_controls_and_refuses_ticks(phones):
    sam = mine(phones, "CREW_002")
    assignment_respond(assignment=sam, accepted=False, reason="Away", now=NOW)
    page = signed_in(sam.member).get(reverse("crew-assignment", args=[sam.pk])).content.decode()
    assert "Declined" in page and "Accept" in page  # they may still change their mind
    assert "Checklist" not in page and "/tick/" not in page
    item = ChecklistItem.objects.filter(assignment=sam).first()
    with pytest.raises(NotAllowed):
        checklist_item_tick(item=item, by=sam.member.user, done=True)
    response = signed_in(sam.member).post(
        reverse("crew-checklist-tick", args=[item.pk]), {"done": "1"}
    )
    assert response.status_code == 400
    assert ChecklistItem.objects.get(pk=item.pk).done_at is None


def test_fellow_members_show_their_state_and_decliners_are_left_out(phones):
    sam = mine(phones, "CREW_002")
    assignment_respond(assignment=mine(phones, "CAP_001"), accepted=True, now=NOW)
    assignment_respond(assignment=sam, accepted=False, now=NOW)
    dana = mine(phones, "CREW_001")
    page = signed_in(dana.member).get(reverse("crew-assignment", args=[dana.pk])).content.decode()
    assert "Marco (accepted)" in page
    assert "Sam" not in page
    # The captain's phone for crew on the charter, the office's on every card.
    assert 'href="tel:+1 619 555 0111"' in page
    assert "+1 619 555 0199" in page


def test_the_captain_sees_every_slots_state_open_ones_included(phones):
    dispatch.event_offering_set(event=phones, on=False)
    assignment_respond(assignment=mine(phones, "CREW_001"), accepted=True, now=NOW)
    assignment_respond(assignment=mine(phones, "CREW_002"), accepted=False, now=NOW)
    marco = mine(phones, "CAP_001")
    client = signed_in(marco.member)
    for url in (reverse("crew-assignment", args=[marco.pk]), reverse("crew-portal")):
        page = client.get(url).content.decode()
        assert 'Dana (Deckhand): <span class="state accepted">accepted</span>' in page
        assert "Deckhand: <strong>open</strong>" in page
        assert "Sam" not in page
    # A deckhand does not see the open slot.
    dana = mine(phones, "CREW_001")
    page = signed_in(dana.member).get(reverse("crew-portal")).content.decode()
    assert "<strong>open</strong>" not in page


def test_the_portal_query_count_holds_with_open_slots(phones):
    dispatch.event_offering_set(event=phones, on=False)
    assignment_respond(assignment=mine(phones, "CREW_002"), accepted=False, now=NOW)
    client = signed_in(mine(phones, "CAP_001").member)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("crew-portal")).status_code == 200
    assert len(captured) <= 7  # the captain's open slots are one query more than a deckhand's


def test_crew_emails_carry_the_office_and_captains_phone(phones):
    crew_notify(event_id=phones.pk, now=NOW)
    dana = next(m for m in mail.outbox if m.to == ["crew001@crew.example.com"])
    marco = next(m for m in mail.outbox if m.to == ["cap001@crew.example.com"])
    for text in (dana.body, dana.alternatives[0][0]):
        assert "+1 619 555 0111" in text and "+1 619 555 0199" in text
    assert "+1 619 555 0199" in marco.body and "+1 619 555 0111" not in marco.body


def test_the_portal_offers_a_webcal_subscription_and_a_copy_button(phones):
    member = mine(phones, "CREW_001").member
    page = signed_in(member).get(reverse("crew-portal")).content.decode()
    feed = reverse("crew-feed", args=[member.feed_token])
    assert f'href="webcal://127.0.0.1:8000{feed}"' in page
    assert f'value="http://127.0.0.1:8000{feed}"' in page
    assert 'id="feed-copy"' in page and "navigator.clipboard" in page


def test_after_a_one_tap_answer_the_page_links_on_to_the_portal(phones):
    dana = mine(phones, "CREW_001")
    path, query = crew_answer_url(dana).removeprefix("http://127.0.0.1:8000").split("?", 1)
    params = dict(p.split("=", 1) for p in query.split("&"))
    response = Client().post(path, {**params, "answer": "accept"})
    page = response.content.decode()
    assert "Your answer is recorded" in page
    assert "/crew/login/?t=" in page and "Open your crew page" in page
