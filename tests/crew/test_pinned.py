"""Small guarantees of the crew side, each pinned so that breaking it fails here."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from django.core import mail
from django.urls import reverse
from django.utils import timezone
from sesame.utils import get_token

from crew.links import answer_scope, crew_answer_url, crew_login_url
from crew.models import Assignment, AssignmentState, ChecklistItem, CrewMember
from crew.services import PlannedAssignment, crew_notify
from tests.factories import charter


def split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_a_token_minted_for_one_member_never_answers_another_members_assignment(client, event):
    dana = Assignment.objects.select_related("member").get(event=event, member__code="CREW_001")
    sam = Assignment.objects.select_related("member").get(event=event, member__code="CREW_002")
    until = int((timezone.now() + timedelta(days=5)).timestamp())
    # Sam's own user, signed for the scope of Dana's assignment: the scope alone must not do.
    forged = get_token(sam.member.user, scope=answer_scope(dana.pk, until))
    path = reverse("crew-answer", args=[dana.pk])

    assert client.get(path, {"t": forged, "u": until}).status_code == 404
    response = client.post(path, {"t": forged, "u": until, "answer": "decline"})

    assert response.status_code == 404
    dana.refresh_from_db()
    assert (dana.state, dana.responded_at) == (AssignmentState.PENDING, None)
    # The same scope signed for Dana answers: the refusal is about the member, not the form.
    genuine = get_token(dana.member.user, scope=answer_scope(dana.pk, until))
    assert client.post(path, {"t": genuine, "u": until, "answer": "accept"}).status_code == 200


def test_a_get_of_an_answer_link_carrying_an_answer_records_nothing(client, event):
    dana = Assignment.objects.get(event=event, member__code="CREW_001")
    path, params = split(crew_answer_url(dana))

    for answer in ("accept", "decline"):
        response = client.get(path, {**params, "answer": answer, "reason": "Sick"})
        assert response.status_code == 200

    dana.refresh_from_db()
    assert (dana.state, dana.responded_at, dana.decline_reason) == (
        AssignmentState.PENDING,
        None,
        "",
    )


def test_ticking_an_item_that_no_longer_applies_is_refused_and_changes_nothing(
    client, event, dock, roster
):
    marco = roster["CAP_001"]
    fuel = ChecklistItem.objects.get(assignment__member=marco, text="Check fuel")
    # Marco becomes a deckhand: the captain's "Check fuel" no longer applies to him.
    charter(
        dock,
        plan=[
            PlannedAssignment("CAP_001", "deckhand"),
            PlannedAssignment("CREW_001", "deckhand", 300),
            PlannedAssignment("CREW_002", "captain"),
        ],
    )
    fuel.refresh_from_db()
    assert fuel.obsolete
    client.force_login(marco.user)

    response = client.post(reverse("crew-checklist-tick", args=[fuel.pk]), {"done": "1"})

    assert response.status_code == 400
    assert b"no longer applies" in response.content
    fuel.refresh_from_db()
    assert (fuel.done_at, fuel.done_by) == (None, None)


def test_a_deactivated_members_calendar_feed_is_a_404(client, event, roster):
    sam = roster["CREW_002"]
    url = reverse("crew-feed", args=[sam.feed_token])
    assert client.get(url).status_code == 200

    CrewMember.objects.filter(pk=sam.pk).update(active=False)

    response = client.get(url)
    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.content


def test_sign_in_links_for_a_charter_years_ahead_respect_their_ceiling(
    client, dock, roster, templates, settings, monkeypatch
):
    settings.CREW_LINK_MAX_DAYS = 45
    now = timezone.now()
    far = charter(dock, external_ref="BS-FAR", starts_at=now + timedelta(days=3 * 365))
    crew_notify(event_id=far.pk)
    links = re.findall(
        r"http://127\.0\.0\.1:8000/crew/(?:login|answer/\d+)/\?\S+", mail.outbox[0].body
    )
    assert links
    for link in links:
        assert int(split(link)[1]["u"]) <= (now + timedelta(days=45, minutes=1)).timestamp()

    # An email sent before the ceiling existed named an expiry years ahead; what counts is how
    # long ago it was sent.
    dana = roster["CREW_001"]
    years_ahead = now + timedelta(days=3 * 365)

    def sent_days_ago(days: int) -> dict[str, str]:
        real = time.time
        with monkeypatch.context() as m:
            m.setattr(time, "time", lambda: real() - days * 86400)
            return split(crew_login_url(dana, valid_until=years_ahead))[1]

    refused = client.post(reverse("crew-login"), sent_days_ago(46))
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    accepted = client.post(reverse("crew-login"), sent_days_ago(44))
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(dana.user.pk)
