"""Dispatch in a real browser at 390 px: a deckhand declines, the spare takes the shift, and the
captain's card shows the new crew."""

from __future__ import annotations

import re
import time

import pytest

from crew.models import Assignment
from jada.models import ApiToken, hash_token
from tests.e2e.browser import (
    TOKEN,
    axe_violations,
    payload,
    post_booking,
    screenshot,
    wait_for_pipeline,
)
from tests.factories import make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def email_to(pipeline_worker, address: str, pattern: str, *, timeout: float = 60) -> str:
    """The first link matching `pattern` in an email to `address` (waits for the worker)."""
    deadline = time.monotonic() + timeout
    while True:
        for to, body in pipeline_worker.emails():
            found = re.search(pattern, body) if to == address else None
            if found:
                return found.group(0)
        assert time.monotonic() < deadline, f"no {pattern!r} email to {address}"
        time.sleep(0.2)


def clean(page, what: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe on the {what}: {violations}"


def test_a_decline_is_offered_taken_and_the_captain_sees_the_new_crew(
    live_server, pipeline_worker, phone, browser, desktop, dock, roster, templates, alice
):
    base = live_server.url
    alex = make_member("CREW_003", "Alex Kim", "crew003@crew.example.com", ["deckhand"])
    ApiToken.objects.create(name="e2e", token_hash=hash_token(TOKEN))
    crew = [
        {"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5},
        {"crew_id": "CREW_002", "role": "deckhand", "duration_hours": 5},
    ]
    created = post_booking(desktop.request, base, payload(crew_assignments=crew))
    wait_for_pipeline(desktop.request, base, created["id"])

    # 1. Sam declines from the email's one-tap link, with a reason.
    sam = roster["CREW_002"]
    answer = email_to(pipeline_worker, sam.email, r"https?://\S+/crew/answer/\S+")
    page = phone.new_page()
    page.goto(answer)
    clean(page, "answer page")
    page.fill("#reason", "Family dinner that evening")
    page.get_by_role("button", name="Decline").click()
    page.wait_for_load_state()
    assert "Your answer is recorded" in page.inner_text("body")
    assert page.get_by_role("link", name="Open your crew page").count() == 1
    clean(page, "answer recorded page")
    screenshot(page, "dispatch-01-declined")

    # 2. The operators hear of it; Alex, the free deckhand, gets the offer.
    email_to(pipeline_worker, "operator@sailjada.com", r"Sam Ortiz \(CREW_002\) declined")
    offer = email_to(pipeline_worker, alex.email, r"https?://\S+/crew/offers/\S+")
    # bypass_csp: the portal's policy would refuse axe's injected script.
    taker = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, bypass_csp=True
    )
    try:
        page = taker.new_page()
        page.goto(offer)
        assert "Take this shift" in page.inner_text("body")
        clean(page, "offer page")
        screenshot(page, "dispatch-02-offer")
        page.get_by_role("button", name="Take this shift").click()
        page.wait_for_load_state()
        assert "It's yours" in page.inner_text("body")
        clean(page, "offer taken page")
        screenshot(page, "dispatch-03-taken")
        page.get_by_role("link", name="Open your crew page").click()
        page.get_by_role("button").first.click()  # the sign-in link's confirm button
        page.wait_for_load_state()
        assert "Accepted" in page.inner_text("body")
        clean(page, "taker's card")
        screenshot(page, "dispatch-04-taker-card")
    finally:
        taker.close()
    email_to(pipeline_worker, "operator@sailjada.com", r"Alex Kim \(CREW_003\) took")
    assert Assignment.objects.get(member=alex).state == "accepted"

    # 3. The captain's card: Alex accepted, Sam left out, no open slot any more.
    login = email_to(pipeline_worker, roster["CAP_001"].email, r"https?://\S+/crew/login/\?\S+")
    captain = phone.new_page()
    captain.goto(login)
    captain.get_by_role("button").first.click()
    captain.wait_for_load_state()
    captain.goto(f"{base}/crew/")
    text = captain.inner_text("body")
    assert re.search(r"Alex \(Deckhand\):\s*accepted", text), text
    assert "Sam" not in text and "Deckhand: open" not in text
    clean(captain, "captain's portal")
    screenshot(captain, "dispatch-05-captain-card")

    # 4. The operator, at 1280 px: the month and the crew event page read the crew by state.
    admin = desktop.new_page()
    admin.goto(f"{base}/admin/login/?next=/admin/")
    admin.fill("#id_username", "alice")
    admin.fill("#id_password", "pw-alice")
    admin.get_by_role("button", name=re.compile("log in", re.IGNORECASE)).click()
    admin.wait_for_load_state()
    admin.goto(f"{base}/admin/bookings/booking/calendar/?month=2030-05")
    fill = admin.locator(".crew.gap").first
    assert fill.inner_text() == "1 ✓ · 2 awaiting · 1 declined · no accepted captain"
    assert fill.evaluate("e => getComputedStyle(e).fontWeight") in ("600", "700")
    screenshot(admin, "dispatch-06-admin-calendar")
    event_id = Assignment.objects.get(member=alex).event_id
    admin.goto(f"{base}/admin/crew/crewevent/{event_id}/change/")
    text = admin.inner_text("body")
    assert "Family dinner that evening" in text and "Offer open slots to the crew" in text
    screenshot(admin, "dispatch-07-admin-crew-event")
