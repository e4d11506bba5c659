"""The whole story in a real browser: API → crew email → portal → admin → guest page → cancel."""

from __future__ import annotations

import re

import pytest

from crew.models import CrewEvent
from guests.models import GuestPage
from jada.models import ApiToken, hash_token
from tests.e2e.browser import (
    PHONE,
    TOKEN,
    axe_violations,
    payload,
    post_booking,
    screenshot,
    wait_for_pipeline,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_serious_violations(page, what: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe on the {what}: {violations}"


def test_a_charter_from_intake_to_cancellation(
    live_server,
    settings,
    pipeline_worker,
    browser,
    phone,
    desktop,
    dock,
    roster,
    templates,
    alice,
):
    base = live_server.url
    ApiToken.objects.create(name="e2e", token_hash=hash_token(TOKEN))
    api = desktop.request

    # 1. The marketplace posts the booking; the stages run (on the real worker in CI).
    created = post_booking(api, base, payload())
    booking_id = created["id"]
    stages = wait_for_pipeline(api, base, booking_id)
    assert set(stages.values()) <= {"succeeded", "skipped"}, stages

    # 2. The captain's email carries a magic link; opening it shows a page with a button.
    [body] = [text for to, text in pipeline_worker.emails() if to == roster["CAP_001"].email]
    link = re.search(r"https?://\S+/crew/login/\?\S+", body).group(0)
    assert link.startswith(base)
    page = phone.new_page()
    page.goto(link)
    assert page.title()
    no_serious_violations(page, "link confirmation page")
    assert not page.context.cookies() or "sessionid" not in {
        c["name"] for c in page.context.cookies()
    }
    page.get_by_role("button").first.click()
    page.wait_for_load_state()

    # 3. The portal shows the charter at 9:00 AM in the named zone.
    assert page.url.startswith(f"{base}/crew/")
    body = page.inner_text("body")
    assert "Sheraton Hotel Dock" in body
    assert re.search(r"9:00\s*(AM|a\.m\.)", body), body
    assert re.search(r"PDT|America/Los_Angeles|Los Angeles", body), body
    no_serious_violations(page, "crew portal")
    screenshot(page, "crew-portal-phone")

    # 4. Accept, then tick "Brief 4 guests".
    page.get_by_role("button", name=re.compile("accept", re.IGNORECASE)).first.click()
    page.wait_for_load_state()
    assert re.search(r"accepted", page.inner_text("body"), re.IGNORECASE)
    page.get_by_role("button", name=re.compile(r"Brief 4 guests\W+ done", re.IGNORECASE)).click()
    page.wait_for_load_state()
    undo = page.get_by_role("button", name=re.compile(r"Brief 4 guests\W+ not done", re.I))
    assert undo.count() == 1, page.inner_text("body")
    screenshot(page, "crew-assignment-phone")
    no_serious_violations(page, "crew page after the tick")

    # 5. The operator's admin shows the acceptance and the tick on the crew event page.
    admin = desktop.new_page()
    admin.goto(f"{base}/admin/login/?next=/admin/")
    admin.fill("#id_username", "alice")
    admin.fill("#id_password", "pw-alice")
    admin.get_by_role("button", name=re.compile("log in", re.IGNORECASE)).click()
    admin.wait_for_load_state()
    event = CrewEvent.objects.get(booking_id=booking_id)
    admin.goto(f"{base}/admin/crew/crewevent/{event.pk}/change/")
    event_text = admin.inner_text("body")
    assert "Marco Reyes" in event_text or "CAP_001" in event_text, event_text
    assert re.search(r"accepted", event_text, re.IGNORECASE), event_text
    # The captain's row: accepted, and one of the captain's checklist items ticked.
    captain_row = admin.locator("tr", has_text="Marco Reyes").first.inner_text()
    assert re.search(r"accepted", captain_row, re.IGNORECASE), captain_row
    assert re.search(r"\b1\s*/\s*[2-9]\b", captain_row), captain_row
    screenshot(admin, "admin-crew-event")

    # 6. The guest page, on a phone.
    guest_page = GuestPage.objects.get(booking_id=booking_id)
    assert created["guest_page"]["session_id"] == guest_page.session_id
    guest = phone.new_page()
    guest.goto(f"{base}/g/{guest_page.session_id}")
    guest_text = guest.inner_text("body")
    assert "Jordan" in guest_text and "Sheraton Hotel Dock" in guest_text
    assert not re.search(r"cancel+ed", guest_text, re.IGNORECASE)
    no_serious_violations(guest, "guest page")

    # As a guest's phone sees it: the page's own Content-Security-Policy in force (the contexts
    # above bypass it so axe can run), its inline styles applied, nothing refused.
    strict = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    try:
        as_guest = strict.new_page()
        console: list[str] = []
        as_guest.on("console", lambda message: console.append(message.text))
        as_guest.goto(f"{base}/g/{guest_page.session_id}")
        background = as_guest.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(244, 241, 234)", background  # #f4f1ea from the inline CSS
        assert not [line for line in console if "Refused" in line], console
        screenshot(as_guest, "guest-page-phone")
    finally:
        strict.close()

    # 7. The marketplace cancels; the guest page says so.
    post_booking(api, base, payload(status="cancelled"))
    wait_for_pipeline(api, base, booking_id)
    guest.reload()
    assert re.search(r"cancel+ed", guest.inner_text("body"), re.IGNORECASE)
    no_serious_violations(guest, "cancelled guest page")
    screenshot(guest, "guest-page-cancelled-phone")
