"""Crew links and sessions end when they should: withdrawn shifts, moved mailboxes, old links."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import Dock
from crew.links import crew_answer_url, crew_login_url, login_user, valid_until_for
from crew.models import Assignment, AssignmentState, CrewMember
from crew.services import (
    PlannedAssignment,
    assignment_respond,
    crew_member_create,
    crew_member_save,
    reminders_send,
)
from tests.factories import charter

NO_DANA = (PlannedAssignment("CAP_001", "captain"), PlannedAssignment("CREW_002", "deckhand"))


def split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def signed_in_portal(client: Client, member: CrewMember) -> Client:
    path, params = split(crew_login_url(member))
    assert client.post(path, params).status_code == 302
    assert client.get(reverse("crew-portal")).status_code == 200
    return client


# --- An answer link for a shift the member was taken off ---


def test_an_answer_link_for_a_removed_shift_says_withdrawn_and_shows_nothing_later(
    client, dock, roster, templates
):
    event = charter(dock)
    dana = Assignment.objects.select_related("member", "event").get(member__code="CREW_001")
    path, params = split(crew_answer_url(dana))
    # Taken off, then the charter moves to another day and dock.
    charter(dock, plan=NO_DANA)
    marina = Dock.objects.create(name="Harbor Island West Marina", address="2040 Harbor Is Dr")
    charter(marina, plan=NO_DANA, starts_at=event.starts_at + timedelta(days=3, hours=2))

    response = client.get(path, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Shift withdrawn" in html and "was withdrawn" in html
    # The day she was called for; nothing of where or when the charter is now.
    assert "Thu 30 May" in html
    for later in ("Harbor Island", "2 Jun", "Sheraton", "Accept</button>", "Decline</button>"):
        assert later not in html
    answered = client.post(path, {**params, "answer": "accept"})
    assert answered.status_code == 409 and "Harbor Island" not in answered.content.decode()
    dana.refresh_from_db()
    assert dana.state == AssignmentState.PENDING


# --- The member's address and their active flag ---


def test_a_new_email_moves_the_user_and_revokes_links_and_sessions(client, dock, roster):
    dana = roster["CREW_001"]
    path, params = split(crew_login_url(dana))
    signed_in_portal(client, dana)

    crew_member_create(
        code="CREW_001", name="Dana Cole", email="dana.new@crew.example.com", roles=["deckhand"]
    )

    assert User.objects.get(pk=dana.user_id).email == "dana.new@crew.example.com"
    assert client.get(reverse("crew-portal")).status_code == 302  # signed out
    assert Client().post(path, params).status_code == 403  # the old mailbox's link is dead
    fresh = CrewMember.objects.get(pk=dana.pk)
    signed_in_portal(Client(), fresh)  # a link sent to the new address works


def test_the_admin_change_of_an_email_does_the_same(client, alice, roster):
    dana = roster["CREW_001"]
    path, params = split(crew_login_url(dana))
    client.force_login(alice)
    url = reverse("admin:crew_crewmember_change", args=[dana.pk])
    form = {
        "code": "CREW_001",
        "name": "Dana Cole",
        "email": "dana.new@crew.example.com",
        "phone": "",
        "roles": ["deckhand"],
        "active": "on",
    }
    assert client.post(url, form).status_code == 302
    assert User.objects.get(pk=dana.user_id).email == "dana.new@crew.example.com"
    assert Client().post(path, params).status_code == 403


def test_reactivating_a_member_revives_no_old_link_or_session(client, dock, roster, templates):
    event = charter(dock)
    dana = CrewMember.objects.get(code="CREW_001")
    login_path, login_params = split(crew_login_url(dana))
    assignment = Assignment.objects.select_related("member", "event").get(member=dana)
    answer_path, answer_params = split(crew_answer_url(assignment))
    signed_in_portal(client, dana)

    dana.active = False
    crew_member_save(member=dana)
    assert client.get(reverse("crew-portal")).status_code == 302
    dana.active = True
    crew_member_save(member=dana)

    assert client.get(reverse("crew-portal")).status_code == 302  # the old session stays ended
    assert Client().post(login_path, login_params).status_code == 403
    assert Client().get(answer_path, answer_params).status_code == 404
    # What is sent from now on works.
    signed_in_portal(Client(), CrewMember.objects.get(pk=dana.pk))
    assert event.pk


def test_the_admin_s_reactivation_revives_nothing_either(client, alice, roster):
    dana = roster["CREW_001"]
    path, params = split(crew_login_url(dana))
    client.force_login(alice)
    url = reverse("admin:crew_crewmember_change", args=[dana.pk])
    form = {
        "code": "CREW_001",
        "name": "Dana Cole",
        "email": dana.email,
        "phone": "",
        "roles": ["deckhand"],
    }
    assert client.post(url, form).status_code == 302  # "active" unticked
    assert client.post(url, {**form, "active": "on"}).status_code == 302
    assert CrewMember.objects.get(pk=dana.pk).active
    assert Client().post(path, params).status_code == 403


# --- How long links live ---


def test_links_for_a_charter_a_year_ahead_stop_after_crew_link_max_days(
    dock, roster, templates, settings
):
    settings.CREW_LINK_MAX_DAYS = 45
    now = timezone.now()
    far = charter(dock, external_ref="BS-FAR", starts_at=now + timedelta(days=365))
    assert valid_until_for(far, now=now) == now + timedelta(days=45)
    settings.CREW_LINK_MAX_DAYS = 10
    assert valid_until_for(far, now=now) == now + timedelta(days=10)
    # Near the charter, the link covers it and the few days after.
    near = far.starts_at - timedelta(days=2)
    assert valid_until_for(far, now=near) == far.ends_at + timedelta(days=3)


def test_a_link_older_than_the_ceiling_is_refused_whatever_it_says(dana_far, monkeypatch, settings):
    settings.CREW_LINK_MAX_DAYS = 45
    # Minted 46 days ago with an end date still to come (what links of a far charter said).
    real = time.time
    monkeypatch.setattr("sesame.tokens_v2.time", SimpleNamespace(time=lambda: real() - 46 * 86400))
    url = crew_login_url(dana_far, valid_until=timezone.now() + timedelta(days=200))
    monkeypatch.undo()
    _, params = split(url)
    assert login_user(params["t"], params["u"]) is None
    assert login_user(*split(crew_login_url(dana_far))[1].values()) is not None


@pytest.fixture
def dana_far(db, dock, roster, templates) -> CrewMember:
    return roster["CREW_001"]


def test_reminders_carry_fresh_links_that_cover_the_charter(dock, roster, templates, settings):
    settings.CREW_LINK_MAX_DAYS = 45
    told = timezone.now()
    far = charter(dock, external_ref="BS-FAR", starts_at=told + timedelta(days=200))
    Assignment.objects.update(created_at=told - timedelta(days=1))
    from crew.services import crew_notify

    crew_notify(event_id=far.pk, now=told)
    invitation = next(m for m in mail.outbox if m.to == ["crew001@crew.example.com"])
    first_until = int(re.search(r"[?&]u=(\d+)", invitation.body).group(1))
    assert first_until <= (told + timedelta(days=45)).timestamp()
    assert first_until < far.starts_at.timestamp()  # it would not last until the charter
    dana = Assignment.objects.get(member__code="CREW_001")
    assignment_respond(assignment=dana, accepted=True, now=told)
    mail.outbox.clear()

    assert reminders_send(now=far.starts_at - timedelta(hours=20)) == 3
    reminder = next(m for m in mail.outbox if m.to == ["crew001@crew.example.com"])
    link = re.search(r"http://127\.0\.0\.1:8000/crew/login/\?\S+", reminder.body).group(0)
    path, params = split(link)
    assert int(params["u"]) == int((far.ends_at + timedelta(days=3)).timestamp())
    assert Client().post(path, params).status_code == 302
