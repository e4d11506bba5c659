"""Magic links: scoped sesame tokens, a confirm page on GET, sign-in only on POST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from sesame.utils import get_token

from crew.links import crew_answer_url, crew_login_url, valid_until_for
from crew.services import member_links_revoke
from tests.factories import charter


def params_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def dana(roster):
    return roster["CREW_001"]


def test_the_link_is_absolute_from_site_url(dana, settings):
    settings.SITE_URL = "https://crew.sailjada.com"
    url = crew_login_url(dana, next_path="/crew/assignments/7/")
    assert url.startswith("https://crew.sailjada.com/crew/login/?t=")
    assert params_of(url)["next"] == "/crew/assignments/7/"


def test_get_shows_a_button_and_does_not_sign_in(client, dana):
    url = crew_login_url(dana)
    response = client.get(url)
    assert response.status_code == 200
    assert b'type="submit">Sign in</button>' in response.content
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "_auth_user_id" not in client.session
    # Opening it twice (a mail scanner, then the member) changes nothing.
    assert client.get(url).status_code == 200


def test_pages_opened_from_a_link_send_no_referer(client, dana, event):
    # The confirm page's URL holds the token; its POST must not repeat it in a Referer.
    for url in (crew_login_url(dana), crew_answer_url(event.assignments.first())):
        path = url.removeprefix(settings.SITE_URL)
        response = client.get(path)
        assert response.status_code == 200
        assert response["Referrer-Policy"] == "no-referrer"
        assert b'type="submit"' in response.content


def test_post_signs_in_and_goes_to_next(client, dana):
    url = crew_login_url(dana, next_path="/crew/assignments/7/")
    response = client.post(reverse("crew-login"), params_of(url))
    assert response.status_code == 302
    assert response["Location"] == "/crew/assignments/7/"
    assert client.session["_auth_user_id"] == str(dana.user.pk)
    assert client.session["_auth_user_backend"] == "sesame.backends.ModelBackend"


def test_the_link_keeps_working_after_use(client, dana):
    data = params_of(crew_login_url(dana))
    assert client.post(reverse("crew-login"), data).status_code == 302
    client.logout()
    assert client.post(reverse("crew-login"), data).status_code == 302


def test_post_needs_the_csrf_token(dana):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("crew-login"), params_of(crew_login_url(dana))).status_code == 403
    assert "_auth_user_id" not in strict.session


def test_next_outside_the_portal_is_ignored(client, dana):
    data = params_of(crew_login_url(dana))
    data["next"] = "https://evil.example.com/crew/"
    response = client.post(reverse("crew-login"), data)
    assert response["Location"] == reverse("crew-portal")


def invalid(response) -> bool:
    return (
        response.status_code == 403
        and b"This link no longer works" in response.content
        and b'action="/crew/login/new-link/"' in response.content
    )


def test_an_expired_token_gets_the_friendly_page(client, dana):
    with override_settings(CREW_LINK_MAX_AGE=-10):
        data = params_of(crew_login_url(dana))
    assert invalid(client.get(reverse("crew-login"), data))
    assert invalid(client.post(reverse("crew-login"), data))
    assert "_auth_user_id" not in client.session


def test_a_link_past_its_end_date_no_longer_works(client, dana):
    url = crew_login_url(dana, valid_until=timezone.now() - timedelta(seconds=1))
    assert invalid(client.post(reverse("crew-login"), params_of(url)))


def test_a_changed_end_date_breaks_the_signature(client, dana):
    data = params_of(crew_login_url(dana, valid_until=timezone.now() + timedelta(days=1)))
    data["u"] = str(int(data["u"]) + 86400 * 30)
    assert invalid(client.post(reverse("crew-login"), data))


def test_a_tampered_token_gets_the_friendly_page(client, dana):
    data = params_of(crew_login_url(dana))
    data["t"] = data["t"][:-2] + ("AA" if not data["t"].endswith("AA") else "BB")
    assert invalid(client.post(reverse("crew-login"), data))


def test_tokens_of_another_scope_are_refused(client, dana):
    data = params_of(crew_login_url(dana))
    for scope in ("", "assignment:1", f"crew-login:{int(data['u']) + 1}"):
        data["t"] = get_token(dana.user, scope=scope)
        assert invalid(client.post(reverse("crew-login"), data)), scope


def test_revoking_links_invalidates_them(client, dana):
    data = params_of(crew_login_url(dana))
    member_links_revoke(member=dana)
    assert invalid(client.post(reverse("crew-login"), data))


def test_links_of_inactive_members_and_non_crew_users_are_refused(client, dana, bob):
    data = params_of(crew_login_url(dana))
    dana.active = False
    dana.save()
    assert invalid(client.post(reverse("crew-login"), data))
    data["t"] = get_token(bob, scope=f"crew-login:{data['u']}")
    assert invalid(client.post(reverse("crew-login"), data))
    assert User.objects.get(pk=bob.pk).last_login is None


def test_without_a_token_the_page_explains_how_to_get_one(client):
    response = client.get(reverse("crew-login"))
    assert response.status_code == 200
    assert b"Email me a new link" in response.content


def test_email_links_last_past_the_charter_up_to_their_ceiling(event, settings):
    now = datetime(2030, 5, 20, tzinfo=UTC)
    assert valid_until_for(event, now=now) == event.ends_at + timedelta(days=3)
    # Booked three months ahead: the link lasts CREW_LINK_MAX_DAYS (the reminders bring new
    # ones). CREW_LINK_MAX_AGE is the lifetime of links asked for by email.
    settings.CREW_LINK_MAX_AGE = 3600
    early = event.starts_at - timedelta(days=90)
    assert valid_until_for(event, now=early) == early + timedelta(days=45)
    assert valid_until_for(None, now=early) == early + timedelta(hours=1)
    # A charter about to start still gets a link that works for a while.
    late = event.ends_at + timedelta(days=10)
    assert valid_until_for(event, now=late) == late + timedelta(days=2)


def test_a_link_for_a_charter_months_ahead_works_today(client, dock, roster, templates, settings):
    settings.CREW_LINK_MAX_AGE = 3600
    far = charter(dock, external_ref="BS-FAR", starts_at=timezone.now() + timedelta(days=90))
    assignment = far.assignments.select_related("member", "event").first()
    url = crew_answer_url(assignment)
    until = int(params_of(url)["u"])
    assert until >= (timezone.now() + timedelta(days=45)).timestamp() - 60
    path = url.split("?", 1)[0].removeprefix(settings.SITE_URL)
    response = client.post(path, {**params_of(url), "answer": "accept"})
    assert response.status_code == 200
    assignment.refresh_from_db()
    assert assignment.state == "accepted"
