"""The portal: a member's own assignments, answers and checklists; nobody else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crew.links import crew_answer_url
from crew.models import Assignment, AssignmentState, ChecklistItem
from crew.services import PlannedAssignment
from tests.factories import charter
from tests.helpers import signed_in


@pytest.fixture
def dana(roster):
    return roster["CREW_001"]


def mine(event, code: str) -> Assignment:
    return Assignment.objects.get(event=event, member__code=code)


def test_strangers_are_sent_to_the_sign_in_page(client, db):
    response = client.get(reverse("crew-portal"))
    assert response.status_code == 302
    assert response["Location"].startswith("/crew/login/?next=")
    page = client.get(response["Location"])
    assert b"Email me a new link" in page.content


def test_staff_who_are_not_crew_get_404(alice, event):
    client = Client()
    client.force_login(alice)
    assert client.get(reverse("crew-portal")).status_code == 404
    assert (
        client.get(reverse("crew-assignment", args=[mine(event, "CREW_001").pk])).status_code == 404
    )


def test_the_portal_shows_the_members_charter_in_full(event, dana):
    response = signed_in(dana).get(reverse("crew-portal"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="viewport"' in html and "noindex" in html
    for expected in (
        "Hi Dana",
        "Thu 30 May 2030, 8:00 AM PDT (America/Los_Angeles)",  # call time, zone named
        "5 h",  # shift
        "3 h, 4 guests",  # charter duration
        "Deckhand",
        "Sheraton Hotel Dock",
        "walk past the pool to gate C",
        "Marco",  # captain
        "Sam (Deckhand)",  # fellow crew
        "guest briefing required",
        "Brief 4 guests",
        "Secure fenders",
        "Accept",
        "Decline",
        "Times are in America/Los_Angeles",
    ):
        assert expected in html, expected
    assert "Check fuel" not in html  # the captain's item
    assert "Reyes" not in html and "Ortiz" not in html


def test_upcoming_and_past_are_separated(event, dana, dock):
    old = charter(
        dock,
        plan=[PlannedAssignment("CREW_001", "deckhand")],
        external_ref="BS-OLD",
        starts_at=timezone.now() - timedelta(days=3),
    )
    html = signed_in(dana).get(reverse("crew-portal")).content.decode()
    upcoming, past = html.split("<h2>Past</h2>")
    assert f"/crew/assignments/{mine(event, 'CREW_001').pk}/" in upcoming
    assert f"/crew/assignments/{mine(old, 'CREW_001').pk}/" in past
    # No answer buttons on past charters.
    assert "Accept" not in past


def test_accept_and_decline_with_a_reason(event, dana):
    client = signed_in(dana)
    assignment = mine(event, "CREW_001")
    url = reverse("crew-respond", args=[assignment.pk])
    response = client.post(url, {"answer": "decline", "reason": "Out of town"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.DECLINED
    assert assignment.decline_reason == "Out of town"
    assert assignment.responded_at is not None
    client.post(url, {"answer": "accept", "next": reverse("crew-portal")})
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.ACCEPTED and assignment.decline_reason == ""


def test_answers_need_post_and_csrf(event, dana):
    url = reverse("crew-respond", args=[mine(event, "CREW_001").pk])
    client = Client(enforce_csrf_checks=True)
    client.force_login(dana.user, backend="sesame.backends.ModelBackend")
    assert client.get(url).status_code == 405
    assert client.post(url, {"answer": "accept"}).status_code == 403
    assert mine(event, "CREW_001").state == AssignmentState.PENDING


def test_ticking_records_who_and_when(event, dana):
    client = signed_in(dana)
    item = ChecklistItem.objects.get(assignment=mine(event, "CREW_001"), text="Secure fenders")
    url = reverse("crew-checklist-tick", args=[item.pk])
    assert client.post(url, {"done": "1"}).status_code == 302
    item.refresh_from_db()
    assert item.done_by == dana.user and item.done_at is not None
    html = client.get(reverse("crew-portal")).content.decode()
    assert "Checklist 1/2" in html
    client.post(url, {"done": "0"})
    item.refresh_from_db()
    assert item.done_at is None and item.done_by is None


def test_cancelled_charters_take_no_answers_or_ticks(event, dana, dock):
    charter(dock, plan=None, status="cancelled")
    client = signed_in(dana)
    assignment = mine(event, "CREW_001")
    html = client.get(reverse("crew-assignment", args=[assignment.pk])).content.decode()
    assert "Charter cancelled" in html and "Accept" not in html
    assert (
        client.post(reverse("crew-respond", args=[assignment.pk]), {"answer": "accept"}).status_code
        == 400
    )
    item = assignment.checklist_items.first()
    assert (
        client.post(reverse("crew-checklist-tick", args=[item.pk]), {"done": "1"}).status_code
        == 400
    )


def crew_urls(event, code: str) -> list[tuple[str, str, dict]]:
    """Every crew URL that names an object of `code`'s, with the method and data to use."""
    assignment = mine(event, code)
    item = assignment.checklist_items.first()
    return [
        ("get", reverse("crew-assignment", args=[assignment.pk]), {}),
        ("post", reverse("crew-respond", args=[assignment.pk]), {"answer": "accept"}),
        ("post", reverse("crew-checklist-tick", args=[item.pk]), {"done": "1"}),
        ("post", reverse("crew-checklist-tick", args=[item.pk]), {"done": "0"}),
        # Last: a declined assignment takes no ticks.
        ("post", reverse("crew-respond", args=[assignment.pk]), {"answer": "decline"}),
    ]


def test_every_crew_url_answers_404_for_another_members_objects(event, dana, roster):
    sam = signed_in(roster["CREW_002"])
    urls = crew_urls(event, "CREW_001")
    from crew import urls as crew_urlconf

    named = {p.name for p in crew_urlconf.urlpatterns}
    # Object URLs are covered here; the rest name no object (feed and offers: secrets, see
    # test_feed and test_dispatch).
    by_object = {"crew-assignment", "crew-respond", "crew-checklist-tick", "crew-answer"}
    assert by_object <= named
    assert named - by_object == {
        "crew-portal",
        "crew-login",
        "crew-link-request",
        "crew-logout",
        "crew-feed",
        "crew-offer",
        # The member's own days only (see test_availability).
        "crew-availability",
        "crew-availability-remove",
    }
    for method, url, data in urls:
        assert getattr(sam, method)(url, data).status_code == 404, url
    # The answer link is keyed by its own token, never by the session: Sam's token for his own
    # assignment does not open Dana's (the friendly "link no longer works" page instead).
    sams = Assignment.objects.select_related("member", "event").get(
        event=event, member__code="CREW_002"
    )
    _, query = crew_answer_url(sams).split("?", 1)
    danas = reverse("crew-answer", args=[mine(event, "CREW_001").pk])
    assert sam.get(f"{danas}?{query}").status_code == 404
    token = dict(p.split("=", 1) for p in query.split("&"))
    assert sam.post(danas, {**token, "answer": "accept"}).status_code == 404
    assignment = mine(event, "CREW_001")
    assert assignment.state == AssignmentState.PENDING
    assert not assignment.checklist_items.filter(done_at__isnull=False).exists()
    # And the portal does not list it.
    html = sam.get(reverse("crew-portal")).content.decode()
    assert f"/crew/assignments/{assignment.pk}/" not in html
    # Sam's own URLs work (the walk would have caught a blanket 404).
    for method, url, data in crew_urls(event, "CREW_002"):
        assert getattr(sam, method)(url, data).status_code in (200, 302), url


def make_assignments(dock, count: int) -> None:
    base = datetime(2031, 1, 1, 16, 0, tzinfo=UTC)
    for i in range(count):
        charter(
            dock,
            plan=[
                PlannedAssignment("CREW_001", "deckhand"),
                PlannedAssignment("CAP_001", "captain"),
            ],
            external_ref=f"BS-Q{i}",
            starts_at=base + timedelta(days=i),
        )


def portal_queries(member) -> int:
    client = signed_in(member)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("crew-portal"))
    assert response.status_code == 200
    return len(captured), response.content.decode().count('class="card"')


def test_the_portal_query_count_is_the_same_at_1_and_50_assignments(dock, roster, templates):
    make_assignments(dock, 1)
    queries_1, cards_1 = portal_queries(roster["CREW_001"])
    make_assignments(dock, 50)  # the first one again plus 49 more
    queries_50, cards_50 = portal_queries(roster["CREW_001"])
    assert (cards_1, cards_50) == (1, 50)
    assert queries_1 == queries_50 <= 6


def test_the_assignment_page_query_count_is_fixed(event, dana):
    client = signed_in(dana)
    url = reverse("crew-assignment", args=[mine(event, "CREW_001").pk])
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert len(captured) <= 6


def test_signing_out(event, dana):
    client = signed_in(dana)
    assert client.post(reverse("crew-logout")).status_code == 302
    assert client.get(reverse("crew-portal")).status_code == 302
