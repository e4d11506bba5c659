"""The admin (1280 px) and the crew portal (390 px) work in Chromium under their CSP.

The contexts here enforce the policy (no bypass): a refused script or style would show as a
console error, and the admin's date shortcuts or the pages' own styles would be missing.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.e2e.browser import PHONE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page) -> list[str]:
    """Console errors of the page, where Chromium reports what the policy refused."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_the_admin_runs_its_scripts_and_styles_under_the_policy(browser, live_server, alice, event):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    change = f"{live_server.url}/admin/bookings/booking/{event.booking_id}/change/"
    response = page.goto(change)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # DateTimeShortcuts (admin/js) adds "Today" and the calendar icon: the scripts ran.
    page.wait_for_selector(".datetimeshortcuts a", state="attached")
    screenshot(page, "admin-booking-change-1280")

    page.goto(f"{live_server.url}/admin/bookings/booking/calendar/?month=2030-05")
    # The calendar's own <style> (with the nonce) applied: its grid is a fixed table.
    layout = page.eval_on_selector(".jada-cal", "e => getComputedStyle(e).tableLayout")
    assert layout == "fixed"
    screenshot(page, "admin-calendar-1280")
    page.goto(f"{live_server.url}/admin/bookings/booking/")
    screenshot(page, "admin-changelist-1280")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()


def test_the_crew_portal_keeps_its_styles_under_the_policy(browser, live_server, roster, event):
    client = Client()
    client.force_login(roster["CREW_001"].user)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    errors = watch(page)
    response = page.goto(f"{live_server.url}/crew/")
    assert response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    background = page.eval_on_selector("body", "e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(246, 248, 250)"  # --bg of crew/base.html's <style>
    screenshot(page, "crew-portal-csp-phone")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
