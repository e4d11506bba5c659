"""The portal as production runs it: sessions and rendered cards in Redis, at most 4 queries."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crew.links import crew_login_url
from crew.models import Assignment, AssignmentState, ChecklistItem
from crew.services import PlannedAssignment, member_links_revoke
from tests.factories import charter
from tests.workers import redis_url

CARD = "crew/_assignment.html"
PAST = "crew/_past.html"


@pytest.fixture
def shared_cache(settings):
    """The production settings for CACHE_URL: Redis cache, sessions read from it."""
    settings.CACHES = {
        "default": {
            "BACKEND": "jada.cache.RedisCache",
            "LOCATION": redis_url(),
            # A prefix of this test's own: nothing to flush, nothing seen from another test.
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    return cache


@pytest.fixture
def dana(roster):
    return roster["CREW_001"]


def signed_in(member, **kwargs) -> Client:
    """A client signed in the way crew sign in: the link's page, then its button (a POST)."""
    client = Client(**kwargs)
    page = client.get(crew_login_url(member)).content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert client.post(reverse("crew-login"), fields).status_code == 302
    return client


def rendered(response) -> set[str]:
    return {t.name for t in response.templates}


def make_assignments(dock, count: int, *, first: datetime, ref: str = "BS-C") -> None:
    for i in range(count):
        charter(
            dock,
            plan=[
                PlannedAssignment("CREW_001", "deckhand"),
                PlannedAssignment("CAP_001", "captain"),
            ],
            external_ref=f"{ref}{i}",
            starts_at=first + timedelta(days=i),
        )


def portal_queries(client: Client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("crew-portal"))
    assert response.status_code == 200
    return len(captured), response.content.decode().count('class="card"')


def test_the_portal_reads_at_most_4_queries_at_1_and_50_assignments(
    shared_cache, dock, roster, templates
):
    client = signed_in(roster["CREW_001"])
    make_assignments(dock, 1, first=datetime(2031, 1, 1, 16, tzinfo=UTC))
    queries_1, cards_1 = portal_queries(client)
    make_assignments(dock, 50, first=datetime(2031, 1, 1, 16, tzinfo=UTC))
    queries_50, cards_50 = portal_queries(client)
    assert (cards_1, cards_50) == (1, 50)
    # The session comes from the cache: user, member, assignments with crew, checklists.
    assert queries_1 == queries_50 <= 4


def test_cards_and_past_charters_render_once_then_come_from_the_cache(
    shared_cache, dock, roster, templates
):
    make_assignments(dock, 3, first=timezone.now() + timedelta(days=2))
    make_assignments(dock, 20, first=timezone.now() - timedelta(days=40), ref="BS-P")
    client = signed_in(roster["CREW_001"])
    first = client.get(reverse("crew-portal"))
    assert {CARD, PAST} <= rendered(first)
    second = client.get(reverse("crew-portal"))
    assert CARD not in rendered(second) and PAST not in rendered(second)
    html = second.content.decode()
    assert html.count('class="card"') == 3
    assert html.split("<h2>Past</h2>")[1].count("<li>") == 20
    # The same page as when rendered, but for the per-response CSRF tokens and CSP nonces.
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|nonce="[^"]+"')
    assert token.sub("", html) == token.sub("", first.content.decode())


def test_a_tick_a_new_shipmate_and_a_moved_charter_show_at_once(
    shared_cache, dock, roster, templates
):
    from tests.factories import make_member

    event = charter(dock, starts_at=timezone.now() + timedelta(days=5))
    client = signed_in(roster["CREW_001"])
    assert "Checklist 0/2" in client.get(reverse("crew-portal")).content.decode()
    mine = Assignment.objects.get(event=event, member__code="CREW_001")
    item = ChecklistItem.objects.get(assignment=mine, text="Secure fenders")
    client.post(reverse("crew-checklist-tick", args=[item.pk]), {"done": "1"})
    assert "Checklist 1/2" in client.get(reverse("crew-portal")).content.decode()
    make_member("CREW_003", "Lee Park", "crew003@crew.example.com", ["deckhand"])
    plan = [
        PlannedAssignment("CAP_001", "captain"),
        PlannedAssignment("CREW_001", "deckhand", 300),
        PlannedAssignment("CREW_002", "deckhand"),
        PlannedAssignment("CREW_003", "deckhand"),
    ]
    later = timezone.now() + timedelta(days=6)
    charter(dock, plan=plan, starts_at=later)
    html = client.get(reverse("crew-portal")).content.decode()
    assert "Lee (Deckhand)" in html
    assert f"{timezone.localtime(later):%a %-d %b %Y}" in html


def test_each_device_posts_with_its_own_csrf_token(shared_cache, event, dana):
    url = reverse("crew-portal")
    phone, laptop = (signed_in(dana, enforce_csrf_checks=True) for _ in range(2))
    for client in (phone, laptop):  # the laptop's page comes from the cache
        html = client.get(url).content.decode()
        action = re.search(r'<form method="post" action="(/crew/assignments/\d+/respond/)"', html)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        response = client.post(
            action.group(1), {"csrfmiddlewaretoken": token, "answer": "accept", "next": url}
        )
        assert response.status_code == 302
    assert Assignment.objects.get(event=event, member=dana).state == AssignmentState.ACCEPTED


def test_a_marker_in_the_charters_text_stays_text(shared_cache, dock, roster, templates):
    charter(dock, notes='Bring <!--csrf--> and "quotes"')
    client = signed_in(roster["CREW_001"])
    for _ in range(2):
        html = client.get(reverse("crew-portal")).content.decode()
        assert "Bring &lt;!--csrf--&gt; and &quot;quotes&quot;" in html


def test_a_revoked_member_is_signed_out(shared_cache, event, dana):
    client = signed_in(dana)
    session_key = client.cookies["sessionid"].value
    assert client.get(reverse("crew-portal")).status_code == 200
    member_links_revoke(member=dana)
    response = client.get(reverse("crew-portal"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("crew-login"))
    assert shared_cache.get(f"django.contrib.sessions.cached_db{session_key}") is None


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(shared_cache, event, dana):
    client = signed_in(dana)
    copy = Client()
    copy.cookies["sessionid"] = client.cookies["sessionid"].value
    assert copy.get(reverse("crew-portal")).status_code == 200
    client.post(reverse("crew-logout"))
    assert copy.get(reverse("crew-portal")).status_code == 302


def test_a_deactivated_member_sees_no_portal(shared_cache, event, dana):
    client = signed_in(dana)
    dana.active = False
    dana.save(update_fields=["active"])
    assert client.get(reverse("crew-portal")).status_code == 404


def test_the_portal_works_without_its_cache(settings, event, dana):
    # Redis gone (nothing listens on port 9): the cards are rendered, not served from it.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    client = Client()
    client.force_login(dana.user, backend="sesame.backends.ModelBackend")
    response = client.get(reverse("crew-portal"))
    assert response.status_code == 200
    assert "Brief 4 guests" in response.content.decode()
