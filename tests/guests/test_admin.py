"""The guest page admin: read-only state, a link to the page, resend and re-publish actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from guests.models import GuestPage, PageState
from guests.services import guest_notify

CHANGELIST = "admin:guests_guestpage_changelist"


@pytest.fixture
def operator_client(client, alice):
    client.force_login(alice)
    return client


def test_the_list_shows_state_and_a_link_to_the_page(operator_client, booking, settings):
    settings.GUEST_SITE_URL = "https://queenofsandiego.com"
    page = GuestPage.objects.get(booking_id=booking.pk)

    response = operator_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    body = response.content.decode()
    assert page.session_id in body
    assert f'href="https://queenofsandiego.com/g/{page.session_id}"' in body
    assert "Not published yet" in body


def test_the_list_costs_the_same_queries_for_many_pages(operator_client, dock, booking):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jada.services import booking_save
    from tests.factories import booking_data

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert operator_client.get(reverse(CHANGELIST)).status_code == 200
        return len(context)

    one = queries()
    for n in range(20):
        # A day apart: one vessel, one charter at a time.
        starts_at = datetime(2030, 6, 1, 16, 0, tzinfo=UTC) + timedelta(days=n)
        data = booking_data(dock, external_ref=f"BS-ADMIN-{n}", starts_at=starts_at)
        booking_save(data=data, via="test")
    assert queries() == one


def test_the_change_page_is_read_only(operator_client, booking):
    page = GuestPage.objects.get(booking_id=booking.pk)
    response = operator_client.get(reverse("admin:guests_guestpage_change", args=[page.pk]))
    assert response.status_code == 200
    assert b'name="session_id"' not in response.content
    assert operator_client.get(reverse("admin:guests_guestpage_add")).status_code == 403


def test_resend_emails_the_guest_again(operator_client, booking):
    guest_notify(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)

    response = operator_client.post(
        reverse(CHANGELIST),
        {"action": "resend_guest_email", "_selected_action": [page.pk]},
        follow=True,
    )

    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["jordan@guest.example.com"]
    assert "1 sent" in response.content.decode()


def test_resend_respects_blocked_sources(operator_client, booking, settings):
    settings.GUEST_EMAILS_BLOCKED_SOURCES = ["boatsetter"]
    page = GuestPage.objects.get(booking_id=booking.pk)
    response = operator_client.post(
        reverse(CHANGELIST),
        {"action": "resend_guest_email", "_selected_action": [page.pk]},
        follow=True,
    )
    assert mail.outbox == []
    assert "0 sent, 1 not sent" in response.content.decode()


def test_republish_uploads_and_invalidates(
    operator_client, booking, s3_guest_storage, moto_requests
):
    page = GuestPage.objects.get(booking_id=booking.pk)

    response = operator_client.post(
        reverse(CHANGELIST), {"action": "republish", "_selected_action": [page.pk]}, follow=True
    )

    page.refresh_from_db()
    assert page.state == PageState.PUBLISHED
    assert [(r.service, r.method) for r in moto_requests] == [("s3", "PUT"), ("cloudfront", "POST")]
    assert "1 published" in response.content.decode()


def test_staff_without_guest_permissions_cannot_act(client, booking):
    from django.contrib.auth.models import User

    carol = User.objects.create_user("carol", "carol@sailjada.com", "pw", is_staff=True)
    client.force_login(carol)
    assert client.get(reverse(CHANGELIST)).status_code == 403
