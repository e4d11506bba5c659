"""Readable at a glance: the revenue report, the calendar's money line, 403s, notes, `/`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from bookings.models import Booking
from crew.models import CrewEvent
from jada.models import PipelineRun
from jada.services import booking_save
from tests.factories import booking_data
from tests.helpers import post_data

pytestmark = pytest.mark.django_db


def test_the_revenue_report_adds_up_with_the_currency(client, alice, dock, roster, templates):
    booking_save(data=booking_data(dock), via="test")
    client.force_login(alice)
    html = client.get(reverse("admin:bookings_booking_revenue") + "?year=2030").content.decode()
    assert "<th>Gross (USD)</th><th>Crew cost</th><th>Captain cost</th><th>Fee</th>" in html
    # 840.75 - 250.00 - 150.00 - 151.34 = 289.41
    assert "<td>840.75</td><td>250.00</td><td>150.00</td><td>151.34</td><td>289.41</td>" in html


def test_the_calendar_says_what_its_money_line_is(client, alice, bob, dock, roster, templates):
    booking_save(data=booking_data(dock), via="test")
    client.force_login(alice)
    url = reverse("admin:bookings_booking_calendar") + "?month=2030-05"
    html = client.get(url).content.decode()
    assert '<div class="day-revenue">day: gross 840.75, net 289.41</div>' in html
    client.force_login(bob)
    assert "day: gross" not in client.get(url).content.decode()


def test_a_dispatcher_without_a_permission_reads_a_styled_page_saying_what(client, bob):
    client.force_login(bob)
    for url, what in (
        (reverse("admin:bookings_booking_revenue"), "You may not see the revenue report"),
        (reverse("admin:bookings_auditentry_changelist"), "You may not see the audit log"),
        (reverse("admin:bookings_booking_add"), "You may not add a booking"),
    ):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 403
        assert what in html, (url, html[:500])
        assert 'id="site-name"' in html and "JADA · charter operations" in html  # the admin's page


def test_internal_notes_need_their_own_permission(client, alice, bob, dock, roster, templates):
    booking = booking_save(
        data=booking_data(dock, internal_notes="Owner's friend: waive the fuel surcharge"),
        via="test",
    ).booking
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    client.force_login(alice)
    assert "waive the fuel surcharge" in client.get(url).content.decode()
    client.force_login(bob)
    html = client.get(url).content.decode()
    assert 'name="internal_notes"' not in html and "waive the fuel surcharge" not in html
    data = post_data(booking, internal_notes="Changed by the dispatcher", guest_count="5")
    assert client.post(url, data).status_code == 302
    booking.refresh_from_db()
    assert booking.guest_count == 5
    assert booking.internal_notes == "Owner's friend: waive the fuel surcharge"


def test_the_demo_grants_internal_notes_with_the_money(db, capsys):
    call_command("demo")
    assert User.objects.get(username="operator").has_perm("bookings.view_internal_notes")
    dispatcher = User.objects.get(username="dispatcher")
    assert not dispatcher.has_perm("bookings.view_internal_notes")
    assert not dispatcher.has_perm("bookings.view_financials")


def test_the_front_door_links_the_admin_and_the_crew_sign_in(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/admin/"' in html and f'href="{reverse("crew-link-request")}"' in html


def test_a_money_only_change_still_starts_nothing(dock, roster, templates):
    booking_save(data=booking_data(dock), via="test")
    booking_save(data=booking_data(dock, gross_revenue=Decimal("900")), via="test")
    assert PipelineRun.objects.count() == 1 and Booking.objects.count() == 1


def test_crew_event_titles_use_the_charters_local_date(client, alice, dock, roster, templates):
    # 4 PM PST on 8 December is already 9 December in UTC.
    evening = datetime(2030, 12, 9, 0, 0, tzinfo=UTC)
    booking = booking_save(data=booking_data(dock, starts_at=evening), via="test").booking
    event = CrewEvent.objects.get(booking_id=booking.pk)
    assert str(event).endswith("Sun 8 Dec 2030")
    client.force_login(alice)
    html = client.get(reverse("admin:crew_crewevent_change", args=[event.pk])).content.decode()
    assert "Boatsetter BS-2024-0530 Sun 8 Dec 2030" in html
    assert "2030-12-09" not in html
