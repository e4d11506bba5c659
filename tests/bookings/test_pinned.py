"""The money rule in the admin, pinned where a small slip would break it silently."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.models import Financials
from tests.factories import CANARY_AMOUNTS as CANARY
from tests.factories import CANARY_NET, assert_no_money, canary_booking
from tests.helpers import export, post_data


@pytest.fixture
def dave(db) -> User:
    """Staff holding change_financials without view_financials (a misconfigured group)."""
    user = User.objects.create_user("dave", "dave@sailjada.com", "pw-dave", is_staff=True)
    perms = Permission.objects.filter(
        content_type__app_label__in=["bookings", "crew", "guests", "jada"]
    ).exclude(codename="view_financials")
    user.user_permissions.set(perms)
    assert user.has_perm("bookings.change_financials")
    return user


def test_change_financials_without_view_financials_sees_and_changes_no_money(
    client, dave, dock, roster, templates
):
    booking = canary_booking(dock)
    client.force_login(dave)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])

    page = client.get(url).content.decode()
    assert 'name="guest_name"' in page and 'name="gross_revenue"' not in page
    assert_no_money(page)
    assert_no_money(client.get(reverse("admin:bookings_booking_changelist")).content.decode())
    assert_no_money(export(client, dave, booking)[0])

    response = client.post(url, post_data(booking, gross_revenue="1.00", guest_count="5"))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.guest_count == 5
    financials = Financials.objects.get(pk=booking.pk)
    assert (financials.gross_revenue, financials.net_revenue) == (
        CANARY["gross_revenue"],
        CANARY_NET,
    )


@pytest.mark.parametrize(
    "query", ["", "?q=Jordan", "?o=-2", "?status__exact=confirmed", "?source__exact=boatsetter"]
)
def test_the_changelist_without_the_money_permission_never_joins_the_money_table(
    client, bob, alice, dock, roster, templates, query
):
    canary_booking(dock)
    url = reverse("admin:bookings_booking_changelist") + query

    seen = {}
    for who in (bob, alice):
        client.force_login(who)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert "Jordan Avery" in response.content.decode()
        seen[who.username] = [q["sql"] for q in queries.captured_queries]

    assert not [sql for sql in seen["bob"] if "bookings_financials" in sql]
    # The probe can see a join: the money holder's list does join the table.
    assert [sql for sql in seen["alice"] if "bookings_financials" in sql]
