"""The fleet in the operator's admin at 1280 px in Chromium: vessels, a subscription, holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from bookings.feed import vessel_feed_url
from bookings.holds import holds_reconcile
from bookings.models import CalendarSubscription, Hold
from jada.services import booking_save
from tests.e2e.browser import admin_sign_in, no_horizontal_scroll, screenshot
from tests.factories import booking_data

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_operator_reads_the_fleet_at_1280(
    live_server, desktop, alice, jada, queen, dock, roster, templates
):
    soon = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    with transaction.atomic():
        booking = booking_save(
            data=booking_data(dock, external_ref="BS-FLEET-1", starts_at=soon, vessel=jada),
            via="test",
        ).booking
    subscription = CalendarSubscription.objects.create(
        vessel=jada,
        name="GetMyBoat listing of Jada",
        url="https://www.getmyboat.com/ical/jada-4f1c2a.ics",
        source="getmyboat",
        last_synced_at=timezone.now() - timedelta(minutes=7),
    )
    CalendarSubscription.objects.create(
        vessel=jada,
        name="Sailo listing of Jada",
        url="https://www.sailo.com/calendar/jada.ics",
        source="sailo",
        last_error="HTTP 500 Internal Server Error",
    )
    for uid, start, summary in (
        ("over@gmb", booking.starts_at + timedelta(hours=1), "Reserved: Morgan (4 guests)"),
        ("free@gmb", booking.starts_at + timedelta(days=1), "Reserved: Riley (6 guests)"),
    ):
        Hold.objects.create(
            subscription=subscription,
            vessel=jada,
            source="getmyboat",
            uid=uid,
            starts_at=start,
            ends_at=start + timedelta(hours=4),
            summary=summary,
        )
    holds_reconcile(vessel_id=jada.pk)  # as a sync does: one conflict
    base = live_server.url
    page = desktop.new_page()
    admin_sign_in(page, base, "alice")

    page.goto(f"{base}/admin/bookings/vessel/")
    listed = page.inner_text("#result_list")
    assert "JADA" in listed and "QUEEN" in listed and "Queen of the Bay" in listed
    screenshot(page, "admin-vessels-1280")
    assert no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")

    page.goto(f"{base}/admin/bookings/vessel/{jada.pk}/change/")
    assert page.inner_text("code.feed-url") == vessel_feed_url(jada)
    assert "GetMyBoat listing of Jada" in page.content()
    screenshot(page, "admin-vessel-1280")
    assert no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")

    page.goto(f"{base}/admin/bookings/calendarsubscription/{subscription.pk}/change/")
    assert "getmyboat.com/ical/jada-4f1c2a.ics" in page.content()
    screenshot(page, "admin-subscription-1280")
    assert no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")

    page.goto(f"{base}/admin/bookings/calendarsubscription/")
    assert "HTTP 500 Internal Server Error" in page.inner_text("#result_list")
    screenshot(page, "admin-subscriptions-1280")
    assert no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")

    page.goto(f"{base}/admin/bookings/booking/calendar/?month={soon:%Y-%m}&vessel=JADA")
    content = page.inner_text("#content")
    assert content.count("Unavailable on GetMyBoat listing of Jada") == 2
    assert content.count("⚠ Conflict") == 2  # the charter and the hold over it
    screenshot(page, "admin-calendar-holds-1280")
    assert no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")

    page.goto(f"{base}/admin/bookings/hold/")
    listed = page.inner_text("#result_list")
    assert "⚠ BS-FLEET-1" in listed and listed.count("Create booking") == 2
    screenshot(page, "admin-holds-1280")
    assert no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")

    page.goto(f"{base}/admin/")
    board = page.inner_text("#needs-attention")
    assert "Conflicts with a hold in the GetMyBoat calendar “GetMyBoat listing of Jada”" in board
    screenshot(page, "admin-index-conflict-1280")
    assert no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")
