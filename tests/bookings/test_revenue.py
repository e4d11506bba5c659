"""Revenue by source and by month: for holders of bookings.view_financials only."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from django.urls import reverse

from bookings.formatting import zone as operator_zone
from bookings.models import Status
from bookings.selectors import revenue_by_month, revenue_by_source
from tests.factories import canary_booking

URL = reverse("admin:bookings_booking_revenue")


def rows(page: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S).group(1)
    body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def make_year(dock):
    canary_booking(dock)  # boatsetter, 30 May 2030
    canary_booking(
        dock,
        source="direct",
        external_ref="D-1",
        gross_revenue=Decimal("0.10"),
        crew_cost=Decimal("0"),
        captain_cost=Decimal("0"),
        fee_percent=Decimal("0"),
        starts_at=datetime(2030, 7, 4, 18, tzinfo=UTC),
    )
    canary_booking(
        dock,
        source="direct",
        external_ref="D-2",
        gross_revenue=Decimal("0.20"),
        crew_cost=Decimal("0"),
        captain_cost=Decimal("0"),
        fee_percent=Decimal("0"),
        # 1 August 03:00 UTC is 31 July in San Diego.
        starts_at=datetime(2030, 8, 1, 3, tzinfo=UTC),
    )
    # Cancelled, and another year: neither counts.
    canary_booking(dock, external_ref="X-1", status=Status.CANCELLED)
    canary_booking(dock, external_ref="Y-1", starts_at=datetime(2031, 1, 5, 18, tzinfo=UTC))


def test_alice_sees_gross_costs_fees_and_net_by_source(client, alice, dock, roster, templates):
    make_year(dock)
    client.force_login(alice)
    page = client.get(URL, {"year": 2030}).content.decode()
    assert rows(page, "revenue-by-source") == [
        ["Boatsetter", "1", "7,319.27", "1,123.58", "977.31", "978.59", "4,239.79"],
        ["Direct sale", "2", "0.30", "0.00", "0.00", "0.00", "0.30"],
    ]
    assert "<th>7,319.57</th>" in page  # the total row


def test_alice_sees_revenue_by_month_in_the_operator_zone(client, alice, dock, roster, templates):
    make_year(dock)
    client.force_login(alice)
    page = client.get(URL, {"year": 2030}).content.decode()
    assert rows(page, "revenue-by-month") == [
        ["May 2030", "1", "7,319.27", "1,123.58", "977.31", "978.59", "4,239.79"],
        ["July 2030", "2", "0.30", "0.00", "0.00", "0.00", "0.30"],
    ]
    assert reverse("admin:bookings_booking_calendar") + "?month=2030-07" in page


def test_sums_are_exact_decimals(dock, roster, templates):
    make_year(dock)
    zone = operator_zone()
    start, end = datetime(2030, 1, 1, tzinfo=zone), datetime(2031, 1, 1, tzinfo=zone)
    direct = next(r for r in revenue_by_source(start, end) if r.key == "direct")
    assert direct.gross == Decimal("0.30") and isinstance(direct.gross, Decimal)
    assert [r.key for r in revenue_by_month(start, end, zone)] == ["2030-05", "2030-07"]


def test_another_year_is_one_click_away(client, alice, dock, roster, templates):
    make_year(dock)
    client.force_login(alice)
    page = client.get(URL, {"year": 2031}).content.decode()
    assert rows(page, "revenue-by-month") == [
        ["January 2031", "1", "7,319.27", "1,123.58", "977.31", "978.59", "4,239.79"]
    ]
    assert 'href="?year=2030" rel="prev"' in page and 'href="?year=2032" rel="next"' in page
    assert client.get(URL, {"year": "soon"}).status_code == 200


def test_bob_is_refused_the_revenue_page(client, bob, dock, roster, templates):
    make_year(dock)
    client.force_login(bob)
    response = client.get(URL, {"year": 2030})
    assert response.status_code == 403
    assert b"7319.27" not in response.content and b"7,319.27" not in response.content


def test_the_changelist_links_to_revenue_for_alice(client, alice, db):
    client.force_login(alice)
    page = client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    assert URL in page
