"""Answer links in emails: scoped to one assignment; GET shows buttons, only POST records."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from sesame.utils import get_token

from crew.links import crew_answer_url, login_scope
from crew.models import Assignment, AssignmentState
from crew.services import crew_notify
from tests.factories import charter


def split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.fixture
def dana(event) -> Assignment:
    return Assignment.objects.select_related("member", "event").get(
        event=event, member__code="CREW_001"
    )


def test_the_new_charter_email_carries_an_answer_link(event, dana):
    crew_notify(event_id=event.pk)
    message = next(m for m in mail.outbox if m.to == [dana.member.email])
    link = re.search(r"http://127\.0\.0\.1:8000/crew/answer/\d+/\?\S+", message.body).group(0)
    assert f"/crew/answer/{dana.pk}/" in link
    assert "Accept or decline in one tap" in message.alternatives[0][0]


def test_get_shows_buttons_and_records_nothing(client, dana):
    path, params = split(crew_answer_url(dana))
    response = client.get(path, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert ">Accept</button>" in html and ">Decline</button>" in html
    assert "8:00 AM PDT (America/Los_Angeles)" in html
    dana.refresh_from_db()
    assert dana.state == AssignmentState.PENDING
    assert "_auth_user_id" not in client.session


def test_post_records_the_answer_without_signing_in(client, dana):
    path, params = split(crew_answer_url(dana))
    response = client.post(path, {**params, "answer": "decline", "reason": "Sick"})
    assert response.status_code == 200
    assert b"Your answer is recorded" in response.content
    dana.refresh_from_db()
    assert (dana.state, dana.decline_reason) == (AssignmentState.DECLINED, "Sick")
    assert "_auth_user_id" not in client.session


def test_post_needs_csrf(dana):
    path, params = split(crew_answer_url(dana))
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(path, {**params, "answer": "accept"}).status_code == 403
    dana.refresh_from_db()
    assert dana.state == AssignmentState.PENDING


def test_a_link_for_one_assignment_does_not_answer_another(client, dana, event):
    sam = Assignment.objects.get(event=event, member__code="CREW_002")
    _, params = split(crew_answer_url(dana))
    response = client.post(reverse("crew-answer", args=[sam.pk]), {**params, "answer": "accept"})
    assert response.status_code == 404
    assert b"Email me a new link" in response.content
    sam.refresh_from_db()
    assert sam.state == AssignmentState.PENDING


def test_expired_tampered_and_login_tokens_are_refused(client, dana):
    path, params = split(crew_answer_url(dana))
    late = crew_answer_url(dana, valid_until=timezone.now() - timedelta(seconds=1))
    assert client.post(path, {**split(late)[1], "answer": "accept"}).status_code == 404
    moved = {**params, "u": str(int(params["u"]) + 3600)}
    assert client.post(path, {**moved, "answer": "accept"}).status_code == 404
    login_token = get_token(dana.member.user, scope=login_scope(int(params["u"])))
    refused = client.post(path, {**params, "t": login_token, "answer": "accept"})
    assert refused.status_code == 404
    assert b"Email me a new link" in refused.content
    dana.refresh_from_db()
    assert dana.state == AssignmentState.PENDING


def test_a_cancelled_charter_takes_no_answer(client, dana, dock):
    path, params = split(crew_answer_url(dana))
    charter(dock, plan=None, status="cancelled")
    response = client.post(path, {**params, "answer": "accept"})
    assert response.status_code == 400
    dana.refresh_from_db()
    assert dana.state == AssignmentState.PENDING


def test_cancellation_emails_carry_no_answer_link(event, dock):
    crew_notify(event_id=event.pk)
    mail.outbox.clear()
    charter(dock, plan=None, status="cancelled")
    crew_notify(event_id=event.pk)
    assert mail.outbox and all("/crew/answer/" not in m.body for m in mail.outbox)


@pytest.mark.parametrize("until", ["\u00b2", "9" * 5000, "-5", "1e9", " 123"])
def test_a_malformed_expiry_is_the_friendly_page_not_a_500(client, dana, until):
    path, params = split(crew_answer_url(dana))
    assert client.get(path, {**params, "u": until}).status_code == 404
    login = client.get(reverse("crew-login"), {"t": params["t"], "u": until})
    assert login.status_code == 403 and b"Email me a new link" in login.content
