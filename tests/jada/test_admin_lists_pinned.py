"""Every list page of the admin costs the same number of queries at 2 charters as at 8.

A list that reads a related row per line (a crew member's name, a booking's vessel, a hold's
calendar) would grow with the page; this walks every registered model admin, so a new one is
covered the day it is registered.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.models import AuditEntry, Booking, CalendarSubscription, Hold
from tests.factories import create

FIRST = datetime(2031, 3, 2, 17, tzinfo=UTC)


def _charters(dock, vessel, count: int, start: int) -> None:
    subscription, _ = CalendarSubscription.objects.get_or_create(
        vessel=vessel, name="GetMyBoat", url="https://example.com/g.ics", source="getmyboat"
    )
    for n in range(start, start + count):
        day = FIRST + timedelta(days=n)
        booking = create(dock, external_ref=f"BS-LIST-{n}", starts_at=day, vessel=vessel)
        # A second audit entry per booking, as a later change writes.
        AuditEntry.objects.create(booking=booking, via="test", action="changed", changes={})
        Hold.objects.create(
            subscription=subscription,
            vessel=vessel,
            source="getmyboat",
            uid=f"list-{n}",
            summary="Reserved",
            starts_at=day + timedelta(hours=8),
            ends_at=day + timedelta(hours=11),
        )


def _list_queries(client) -> dict[str, int]:
    counts = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[url] = len(ctx.captured_queries)
    return counts


@pytest.mark.django_db
def test_every_admin_list_costs_the_same_at_2_charters_as_at_8(
    client, dock, roster, templates, jada
):
    # The demo's operator: a superuser, who sees every list (users and groups too).
    client.force_login(User.objects.create_superuser("operator", "op@sailjada.com", "pw-op"))
    _charters(dock, jada, 2, start=0)
    few = _list_queries(client)
    _charters(dock, jada, 6, start=2)
    assert Booking.objects.count() == 8
    many = _list_queries(client)
    grew = {url: (few[url], many[url]) for url in few if many[url] != few[url]}
    assert not grew, f"list pages whose queries grow with their rows: {grew}"
    assert len(few) >= 12  # bookings, audit, docks, vessels, calendars, holds, crew, pipeline …
