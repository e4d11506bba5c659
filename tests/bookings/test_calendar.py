"""The month calendar inside the admin, as alice (money) and bob (no money) see it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.models import Booking, Dock, Financials, Status
from tests.factories import assert_no_money, canary_booking, make_assignments
from tests.vessels import default_vessel, other_vessel

URL = reverse("admin:bookings_booking_calendar")


def calendar(client, user, month: str | None = "2030-05") -> str:
    client.force_login(user)
    response = client.get(URL, {"month": month} if month else {})
    assert response.status_code == 200
    return response.content.decode()


def day_cell(page: str, day: str) -> str:
    match = re.search(rf'<td[^>]*data-date="{day}">(.*?)</td>', page, re.S)
    assert match, f"no cell for {day}"
    return match.group(1)


def test_each_day_shows_its_charters_with_local_time_dock_and_crew_fill(
    client, bob, dock, roster, templates
):
    booking = canary_booking(dock)  # 2030-05-30 16:00 UTC = 09:00 in San Diego
    make_assignments(booking, roster, accepted=2)
    page = calendar(client, bob)
    assert "Charters in May 2030" in page and "times in America/Los_Angeles" in page
    cell = day_cell(page, "2030-05-30")
    assert "09:00 · Boatsetter BS-CANARY-1" in cell
    assert "Sheraton Hotel Dock" in cell and "4 guests" in cell
    # By state, a gap (one still to answer) styled to stand out.
    assert '<span class="crew gap">2 ✓ · 1 awaiting</span>' in cell
    assert reverse("admin:bookings_booking_change", args=[booking.pk]) in cell
    assert "BS-CANARY-1" not in day_cell(page, "2030-05-29")


def test_a_charter_without_crew_says_so(client, bob, dock, roster, templates):
    canary_booking(dock)
    assert "no crew assigned" in day_cell(calendar(client, bob), "2030-05-30")


def test_the_grid_is_weeks_of_seven_days_starting_on_monday(client, bob, db):
    page = calendar(client, bob)
    headers = re.findall(r'<th scope="col">(\w+)</th>', page)
    assert headers == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    days = re.findall(r'data-date="([\d-]+)"', page)
    # May 2030 starts on a Wednesday and ends on a Friday: 29 April to 2 June, five weeks.
    assert days[0] == "2030-04-29" and days[-1] == "2030-06-02" and len(days) == 35


def test_a_late_evening_charter_is_on_its_local_day(client, bob, dock, roster, templates):
    # 03:30 UTC on 1 June is 20:30 on 31 May in San Diego.
    canary_booking(dock, starts_at=datetime(2030, 6, 1, 3, 30, tzinfo=UTC))
    page = calendar(client, bob)
    assert "20:30 · Boatsetter BS-CANARY-1" in day_cell(page, "2030-05-31")
    assert "BS-CANARY-1" not in day_cell(page, "2030-06-01")


def test_alice_sees_revenue_per_day_and_month(client, alice, dock, roster, templates):
    canary_booking(dock)
    canary_booking(
        dock, external_ref="BS-2", gross_revenue=Decimal("100.10"), vessel=other_vessel()
    )
    # Another month's charter is left out of May's total.
    canary_booking(dock, external_ref="BS-JUNE", starts_at=datetime(2030, 6, 15, 18, tzinfo=UTC))
    page = calendar(client, alice)
    assert "gross 7,419.37" in day_cell(page, "2030-05-30")
    assert '<strong class="month-gross">7,419.37</strong>' in page
    net = Financials.objects.filter(booking__starts_at__month=5).values_list(
        "net_revenue", flat=True
    )
    assert f'<strong class="month-net">{sum(net):,.2f}</strong>' in page
    assert reverse("admin:bookings_booking_revenue") in page


def test_bob_sees_no_revenue_on_the_calendar(client, bob, dock, roster, templates):
    canary_booking(dock)
    page = calendar(client, bob)
    assert "BS-CANARY-1" in page
    assert_no_money(page)
    assert "gross" not in page.lower() and "month-net" not in page
    assert reverse("admin:bookings_booking_revenue") not in page


def test_a_cancelled_charter_is_labelled_struck_through_and_earns_nothing(
    client, alice, dock, roster, templates
):
    canary_booking(dock, status=Status.CANCELLED)
    page = calendar(client, alice)
    cell = day_cell(page, "2030-05-30")
    assert 'class="charter cancelled"' in cell and "Cancelled" in cell
    assert "1 charter in May 2030 (1 cancelled)." in page
    assert "text-decoration: line-through" in page
    assert "gross" not in cell
    assert '<strong class="month-gross">0.00</strong>' in page


@pytest.mark.parametrize(
    ("month", "prev", "next_"),
    [
        ("2030-05", "2030-04", "2030-06"),
        ("2030-12", "2030-11", "2031-01"),
        ("2031-01", "2030-12", "2031-02"),
    ],
)
def test_previous_and_next_month_links(client, bob, db, month, prev, next_):
    page = calendar(client, bob, month)
    assert f'href="?month={prev}" rel="prev"' in page
    assert f'href="?month={next_}" rel="next"' in page


@pytest.mark.parametrize("month", [None, "nonsense", "2030-13", "0-01"])
def test_a_missing_or_malformed_month_shows_the_current_one(client, bob, db, month):
    page = calendar(client, bob, month)
    from django.utils import timezone

    from bookings.formatting import zone as operator_zone

    today = timezone.localdate(timezone.now(), operator_zone())
    assert f"Charters in {today:%B %Y}" in page


def test_staff_without_view_booking_are_refused(client, db):
    nobody = User.objects.create_user("dave", password="pw", is_staff=True)
    client.force_login(nobody)
    assert client.get(URL).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_changelist_links_to_the_calendar(client, bob, db):
    client.force_login(bob)
    page = client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    assert URL in page


def _month_of_bookings(dock: Dock, n: int, first: int) -> list[Booking]:
    start = datetime(2030, 5, 1, 16, 0, tzinfo=UTC)
    vessel = default_vessel()
    bookings = Booking.objects.bulk_create(
        Booking(
            source="direct",
            external_ref=f"CAL-{i}",
            guest_name=f"Guest {i}",
            guest_count=2,
            starts_at=start + timedelta(hours=13 * i),
            duration_minutes=120,
            dock=dock,
            vessel=vessel,
            blocked_until=start + timedelta(hours=13 * i, minutes=150),
            status=Status.CANCELLED if i % 7 == 0 else Status.CONFIRMED,
        )
        for i in range(first, first + n)
    )
    Financials.objects.bulk_create(
        Financials(
            booking=b,
            gross_revenue=Decimal("500.00"),
            crew_cost=Decimal("100.00"),
            captain_cost=Decimal("100.00"),
            fee_percent=Decimal("10"),
            fee=Decimal("50.00"),
            net_revenue=Decimal("250.00"),
        )
        for b in bookings
    )
    return bookings


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_the_calendar_costs_a_fixed_number_of_queries(
    client, request, dock, roster, templates, who
):
    user = request.getfixturevalue(who)
    client.force_login(user)
    # Some charters have crew, so the crew-fill query returns rows.
    make_assignments(canary_booking(dock, external_ref="WITH-CREW"), roster, accepted=1)
    counts = []
    for total in (5, 50):
        existing = Booking.objects.filter(external_ref__startswith="CAL-").count()
        _month_of_bookings(dock, total - existing, existing)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"month": "2030-05"})
        assert response.status_code == 200
        assert response.content.decode().count('<div class="charter') == total + 1
        counts.append(len(queries))
    # session, user, permissions (2), the fleet (vessel filter), bookings with dock and vessel
    # (and money), their hold conflicts, crew fill, the month's holds.
    assert counts == [9, 9], counts
