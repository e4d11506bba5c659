"""The fleet in the admin: vessels, the booking form's vessel rules, holds, the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from bookings.holds import holds_reconcile
from bookings.models import Booking, CalendarSubscription, Hold, HoldConflict, Vessel
from bookings.services import booking_upsert
from tests.factories import booking_data
from tests.helpers import post_data

NINE_PDT = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
ADD = "admin:bookings_booking_add"


@pytest.fixture
def operator(client, alice):
    client.force_login(alice)
    return client


def book(dock, ref: str, **values) -> Booking:
    return booking_upsert(data=booking_data(dock, external_ref=ref, **values), via="test").booking


def money() -> dict[str, str]:
    return {"gross_revenue": "500", "crew_cost": "100", "captain_cost": "100", "fee_percent": "10"}


def hold(vessel, start=NINE_PDT, hours=4, source="getmyboat") -> Hold:
    subscription = CalendarSubscription.objects.create(
        vessel=vessel, name="GetMyBoat Jada", url="https://example.com/g.ics", source=source
    )
    return Hold.objects.create(
        subscription=subscription,
        vessel=vessel,
        source=source,
        uid="g-1",
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        summary="Reserved: Morgan (4 guests)",
    )


def test_a_vessel_is_added_in_the_admin_and_shows_its_feed(operator, dock):
    response = operator.post(
        reverse("admin:bookings_vessel_add"),
        {
            "code": "JADA",
            "name": "Jada",
            "guest_name": "Jada of San Diego",
            "capacity": "12",
            "home_dock": str(dock.pk),
            "turnaround_minutes": "45",
            "active": "on",
            "is_default": "on",
            "subscriptions-TOTAL_FORMS": "1",
            "subscriptions-INITIAL_FORMS": "0",
            "subscriptions-0-name": "Boatsetter Jada",
            "subscriptions-0-url": "https://www.boatsetter.com/ical/abc.ics",
            "subscriptions-0-source": "boatsetter",
            "subscriptions-0-active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    vessel = Vessel.objects.get()
    assert (vessel.turnaround_minutes, vessel.is_default, vessel.home_dock) == (45, True, dock)
    assert vessel.subscriptions.get().source == "boatsetter"
    page = operator.get(reverse("admin:bookings_vessel_change", args=[vessel.pk])).content
    assert f"/calendar/vessels/{vessel.feed_token}.ics".encode() in page


def test_rotating_the_feed_url_in_the_admin(operator, jada):
    old = jada.feed_token
    operator.post(
        reverse("admin:bookings_vessel_changelist"),
        {"action": "rotate_feed", "_selected_action": [jada.pk]},
    )
    jada.refresh_from_db()
    assert jada.feed_token != old


def test_a_longer_turnaround_that_would_overlap_charters_is_a_form_error(operator, jada, dock):
    book(dock, "BS-1", vessel=jada)
    book(dock, "BS-2", vessel=jada, starts_at=NINE_PDT + timedelta(hours=3, minutes=40))
    url = reverse("admin:bookings_vessel_change", args=[jada.pk])
    data = {
        "code": "JADA",
        "name": "Jada",
        "guest_name": jada.guest_name,
        "capacity": "12",
        "home_dock": str(dock.pk),
        "turnaround_minutes": "60",
        "active": "on",
        "is_default": "on",
        "subscriptions-TOTAL_FORMS": "0",
        "subscriptions-INITIAL_FORMS": "0",
    }
    page = operator.post(url, data).content.decode()
    assert "BS-1 and BS-2 would overlap" in page
    response = operator.post(url, data | {"turnaround_minutes": "40"})
    assert response.status_code == 302
    assert Booking.objects.get(external_ref="BS-1").blocked_until == NINE_PDT + timedelta(
        hours=3, minutes=40
    )


def test_the_booking_form_refuses_an_overlap_and_too_many_guests(operator, jada, dock):
    book(dock, "BS-1", vessel=jada)
    add = reverse(ADD)
    page = operator.post(add, post_data(dock=dock.pk, vessel=jada.pk, **money())).content.decode()
    assert "Jada is booked 09:00\u201312:00 PDT for BS-1 (turnaround 30 min)" in page
    page = operator.post(
        add,
        post_data(
            dock=dock.pk, vessel=jada.pk, starts_at_0="2030-06-02", guest_count=13, **money()
        ),
    ).content.decode()
    assert "Jada takes at most 12 guests." in page
    assert Booking.objects.count() == 1
    # The other vessel is free then; left empty, the default vessel is taken.
    queen = Vessel.objects.create(code="QUEEN", name="Queen", guest_name="Queen", capacity=40)
    assert (
        operator.post(add, post_data(dock=dock.pk, vessel=queen.pk, **money())).status_code == 302
    )
    response = operator.post(
        add, post_data(dock=dock.pk, external_ref="D-2", starts_at_0="2030-06-03", **money())
    )
    assert response.status_code == 302
    assert Booking.objects.get(external_ref="D-2").vessel == jada


def test_the_list_shows_and_filters_by_vessel(operator, jada, queen, dock):
    book(dock, "ON-JADA", vessel=jada)
    book(dock, "ON-QUEEN", vessel=queen)
    url = reverse("admin:bookings_booking_changelist")
    page = operator.get(f"{url}?vessel__id__exact={queen.pk}").content.decode()
    assert "ON-QUEEN" in page and "ON-JADA" not in page


def test_a_hold_becomes_a_booking_from_a_prefilled_form(operator, jada, dock):
    external = hold(jada)
    add = f"{reverse(ADD)}?hold={external.pk}"
    page = operator.get(add).content.decode()
    assert (
        "From the GetMyBoat Jada calendar hold: “Reserved: Morgan (4 guests)”, "
        "Thu 2030-05-30 09:00\u201313:00 PDT (America/Los_Angeles). Saving links it." in page
    )
    # The holds' list: times in the operator's zone, named; a button to make the booking.
    listed = operator.get(reverse("admin:bookings_hold_changelist")).content.decode()
    assert "Thu 2030-05-30 09:00\u201313:00 PDT" in listed
    assert add.replace("&", "&amp;") in listed
    assert 'value="2030-05-30"' in page and 'value="09:00:00"' in page
    assert f'<option value="{jada.pk}" selected>' in page
    assert '<option value="getmyboat" selected>' in page
    assert 'name="duration_minutes" value="4:00"' in page
    response = operator.post(
        add,
        post_data(
            source="getmyboat",
            external_ref="GMB-1",
            vessel=jada.pk,
            dock=dock.pk,
            duration_minutes="4:00",  # as the prefilled form posts it
            **money(),
        ),
    )
    assert response.status_code == 302
    external.refresh_from_db()
    assert external.booking.external_ref == "GMB-1"
    assert not HoldConflict.objects.exists()


def test_the_calendar_filters_by_vessel_and_shows_holds_and_conflicts(operator, jada, queen, dock):
    book(dock, "ON-JADA", vessel=jada)
    book(dock, "ON-QUEEN", vessel=queen)
    hold(jada, start=NINE_PDT + timedelta(hours=1))  # GetMyBoat over a Boatsetter charter
    holds_reconcile(vessel_id=jada.pk)  # as a sync does
    url = reverse("admin:bookings_booking_calendar")
    page = operator.get(f"{url}?month=2030-05").content.decode()
    assert "ON-JADA" in page and "ON-QUEEN" in page
    assert 'class="hold"' in page and "Unavailable on GetMyBoat Jada" in page
    assert page.count("⚠ Conflict") == 2  # the booking and the hold
    page = operator.get(f"{url}?month=2030-05&vessel=QUEEN").content.decode()
    assert "ON-QUEEN" in page and "ON-JADA" not in page and 'class="hold"' not in page
    assert "month=2030-06&amp;vessel=QUEEN" in page  # the month links keep the filter
