"""The availability feed: busy times only, behind a secret URL, and the demo prints it."""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from bookings.feed import vessel_feed_ics, vessel_feed_url
from bookings.holds import vessel_rotate_feed_token
from bookings.models import Booking, CalendarSubscription, Hold, Status, Vessel
from bookings.services import booking_upsert
from tests.factories import booking_data

NINE_PDT = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
NOW = datetime(2030, 5, 1, tzinfo=UTC)


def feed(vessel: Vessel, client: Client | None = None):
    return (client or Client()).get(reverse("vessel-feed", args=[vessel.feed_token]))


def events(response) -> list:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def book(dock, ref: str, **values):
    return booking_upsert(data=booking_data(dock, external_ref=ref, **values), via="test").booking


def hold(vessel: Vessel, start: datetime, hours: int = 4, **values) -> Hold:
    subscription, _ = CalendarSubscription.objects.get_or_create(
        vessel=vessel, name="GetMyBoat", url="https://example.com/g.ics", source="getmyboat"
    )
    return Hold.objects.create(
        subscription=subscription,
        vessel=vessel,
        source="getmyboat",
        uid=f"gmb-{start:%Y%m%d%H}",
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        summary="Reserved: Morgan Example (4 guests)",
        **values,
    )


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("bookings.feed.timezone.now", lambda: NOW)


def test_one_busy_event_per_confirmed_booking_and_hold_turnaround_included(
    jada, queen, dock, frozen_now
):
    first = book(dock, "BS-1", vessel=jada)
    book(dock, "BS-2", vessel=jada, starts_at=NINE_PDT + timedelta(days=1), status="cancelled")
    book(dock, "BS-3", vessel=queen)  # another vessel's
    external = hold(jada, NINE_PDT + timedelta(days=2))

    found = events(feed(jada))

    assert [(str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend")) for e in found] == [
        ("Booked", NINE_PDT, NINE_PDT + timedelta(hours=3, minutes=30)),
        (
            "Unavailable",
            external.starts_at,
            external.ends_at + timedelta(minutes=30),
        ),
    ]
    assert {str(e["transp"]) for e in found} == {"OPAQUE"}
    uids = [str(e["uid"]) for e in found]
    assert uids == [f"booking-{first.pk}@127.0.0.1", f"hold-{external.pk}@127.0.0.1"]
    # Stable: the same UIDs on the next fetch, and after the booking moves.
    book(dock, "BS-1", vessel=jada, starts_at=NINE_PDT + timedelta(hours=1))
    assert [str(e["uid"]) for e in events(feed(jada))] == uids


def test_a_hold_that_is_a_booking_is_listed_once(jada, dock, frozen_now):
    booking = book(dock, "BS-1", vessel=jada)
    hold(jada, NINE_PDT, hours=3, booking=booking)
    assert [str(e["summary"]) for e in events(feed(jada))] == ["Booked"]
    booking_upsert(data=booking_data(dock, external_ref="BS-1", status=Status.CANCELLED), via="t")
    # Cancelled here but still on the marketplace's calendar: the boat is not free there.
    assert [str(e["summary"]) for e in events(feed(jada))] == ["Unavailable"]


def test_the_feed_says_nothing_about_guests_crew_money_or_references(jada, dock, frozen_now):
    booking = book(
        dock,
        "BS-SECRET-7319",
        vessel=jada,
        guest_name="Harper Lindqvist",
        guest_email="harper@guest.example.com",
        guest_phone="+1 555 7319",
        notes="Captain Marco, deckhand Dana",
    )
    hold(jada, NINE_PDT + timedelta(days=3))
    body = feed(jada).content.decode()
    for secret in (
        "BS-SECRET",
        "Harper",
        "Lindqvist",
        "harper@",
        "555",
        "Marco",
        "Dana",
        "Morgan",
        "Reserved",
        "840.75",
        "289.41",
        "151.34",
        "Sheraton",
        booking.source,
    ):
        assert secret.lower() not in body.lower(), secret


def test_a_wrong_token_is_404_and_a_rotated_one_stops_working(jada, queen):
    assert Client().get("/calendar/vessels/not-the-secret.ics").status_code == 404
    old = jada.feed_token
    assert feed(jada).status_code == 200
    vessel_rotate_feed_token(vessel=jada)
    assert Client().get(f"/calendar/vessels/{old}.ics").status_code == 404
    assert feed(jada).status_code == 200
    assert jada.feed_token != old and vessel_feed_url(jada).endswith(f"/{jada.feed_token}.ics")


def test_the_feed_costs_a_fixed_number_of_queries(
    jada, dock, frozen_now, django_assert_num_queries
):
    for n in range(5):
        book(dock, f"BS-{n}", vessel=jada, starts_at=NINE_PDT + timedelta(days=n))
        hold(jada, NINE_PDT + timedelta(days=n, hours=8))
    # The vessel by its secret, its bookings, its holds.
    with django_assert_num_queries(3):
        assert len(events(feed(jada))) == 10


@pytest.mark.django_db
def test_the_demo_has_two_vessels_the_charter_on_jada_and_prints_their_feeds():
    out = io.StringIO()
    call_command("demo", stdout=out)
    text = out.getvalue()
    jada, queen = Vessel.objects.get(code="JADA"), Vessel.objects.get(code="QUEEN")
    assert jada.is_default and not queen.is_default
    assert Booking.objects.get(external_ref="BS-DEMO-0530").vessel == jada
    for vessel in (jada, queen):
        line = next(line for line in text.splitlines() if vessel_feed_url(vessel) in line)
        assert re.search(rf"\b{vessel.code}\b", line), line
        path = vessel_feed_url(vessel).split("://", 1)[1].split("/", 1)[1]
        assert Client().get(f"/{path}").status_code == 200
    # Run again: the same two vessels.
    call_command("demo", stdout=io.StringIO())
    assert Vessel.objects.count() == 2


def test_the_feed_token_never_reaches_a_log_line(jada):
    from jada.lib.logs import path_for_log

    logged = path_for_log(vessel_feed_url(jada).split("127.0.0.1:8000", 1)[1])
    assert logged.startswith("/calendar/vessels/[") and logged.endswith("].ics")
    assert jada.feed_token not in logged


def _fastest(build) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        build()
        times.append(time.perf_counter() - started)
    return min(times)


def test_a_feed_of_2000_busy_times_is_built_once_per_content_then_read_from_cache(jada, dock):
    subscription = CalendarSubscription.objects.create(
        vessel=jada, name="GetMyBoat", url="https://example.com/g.ics", source="getmyboat"
    )
    first = NOW + timedelta(days=1)
    Booking.objects.bulk_create(
        Booking(
            source="direct",
            external_ref=f"FEED-{i}",
            guest_name="Guest",
            guest_count=2,
            starts_at=first + timedelta(hours=8 * i),
            duration_minutes=180,
            dock=dock,
            vessel=jada,
            blocked_until=first + timedelta(hours=8 * i, minutes=210),
        )
        for i in range(1000)
    )
    Hold.objects.bulk_create(
        Hold(
            subscription=subscription,
            vessel=jada,
            source="getmyboat",
            uid=f"h-{i}",
            starts_at=first + timedelta(hours=8 * i + 4),
            ends_at=first + timedelta(hours=8 * i + 7),
        )
        for i in range(1000)
    )
    cache.clear()
    body = vessel_feed_ics(jada, now=NOW)
    parsed = list(Calendar.from_ical(body).walk("VEVENT"))
    assert len(parsed) == 2000 and len({str(e["uid"]) for e in parsed}) == 2000
    assert {str(e["transp"]) for e in parsed} == {"OPAQUE"}
    # An hour later nothing changed: the same file, stamped when it was built.
    assert vessel_feed_ics(jada, now=NOW + timedelta(hours=1)) == body
    # Measured side by side in this process, so the machine's speed cancels out.
    cached = _fastest(lambda: vessel_feed_ics(jada, now=NOW))
    built = _fastest(lambda: (cache.clear(), vessel_feed_ics(jada, now=NOW)))
    assert cached * 3 < built, (cached, built)


def test_a_changed_booking_or_hold_shows_in_the_feed_at_once(jada, dock, frozen_now):
    booking = book(dock, "BS-1", vessel=jada, starts_at=NINE_PDT)
    busy = hold(jada, NINE_PDT + timedelta(days=1))
    assert len(events(feed(jada))) == 2
    Booking.objects.filter(pk=booking.pk).update(status=Status.CANCELLED)
    assert len(events(feed(jada))) == 1
    Hold.objects.filter(pk=busy.pk).update(ends_at=busy.ends_at + timedelta(hours=2))
    (moved,) = events(feed(jada))
    assert moved.decoded("dtend") == busy.ends_at + timedelta(hours=2, minutes=30)


def test_without_its_cache_the_feed_is_built_each_time(jada, dock, frozen_now, monkeypatch):
    book(dock, "BS-1", vessel=jada, starts_at=NINE_PDT)

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr("bookings.feed.cache.get", down)
    monkeypatch.setattr("bookings.feed.cache.set", down)
    assert len(events(feed(jada))) == 1
