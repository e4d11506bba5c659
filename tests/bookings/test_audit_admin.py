"""The audit log of money and status changes in the admin: view_financials holders only."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.urls import reverse

from bookings.models import AuditEntry
from bookings.services import booking_upsert
from tests.factories import CANARY_AMOUNTS as CANARY
from tests.factories import assert_no_money, booking_data, canary_booking


def test_alice_reads_the_audit_log(client, alice, dock, roster, templates):
    booking = canary_booking(dock)
    data = booking_data(
        dock,
        **{**CANARY, "external_ref": booking.external_ref, "gross_revenue": Decimal("7400.00")},
    )
    booking_upsert(data=data, by=alice, via="api")
    client.force_login(alice)
    page = client.get(reverse("admin:bookings_auditentry_changelist")).content.decode()
    assert "Gross revenue: 7319.27 → 7400.00" in page
    assert "At (America/Los_Angeles)" in page
    entry = AuditEntry.objects.filter(via="api").get()
    page = client.get(reverse("admin:bookings_auditentry_change", args=[entry.pk])).content.decode()
    assert "7319.27 → 7400.00" in page and "alice" in page


def test_changes_without_a_signed_in_user_name_what_made_them(
    client, alice, dock, roster, templates
):
    booking = canary_booking(dock)
    data = booking_data(
        dock,
        **{**CANARY, "external_ref": booking.external_ref, "gross_revenue": Decimal("7400.00")},
    )
    booking_upsert(data=data, via="api", by_name="API token dashboard-sync")
    client.force_login(alice)
    page = client.get(reverse("admin:bookings_auditentry_changelist")).content.decode()
    assert "API token dashboard-sync" in page
    audit_admin = admin.site._registry[AuditEntry]
    assert label_for_field("who", AuditEntry, audit_admin) == "who"
    assert label_for_field("changes_display", AuditEntry, audit_admin) == "before → after"
    page = client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).content.decode()
    assert "<td>API token dashboard-sync</td>" in page


def test_the_audit_log_is_read_only(client, alice, dock, roster, templates):
    canary_booking(dock)
    entry = AuditEntry.objects.get()
    client.force_login(alice)
    assert client.get(reverse("admin:bookings_auditentry_add")).status_code == 403
    url = reverse("admin:bookings_auditentry_delete", args=[entry.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    url = reverse("admin:bookings_auditentry_change", args=[entry.pk])
    client.post(url, {"via": "forged"})
    entry.refresh_from_db()
    assert entry.via == "test"


def test_bob_cannot_reach_the_audit_log(client, bob, dock, roster, templates):
    canary_booking(dock)
    entry = AuditEntry.objects.get()
    client.force_login(bob)
    assert client.get(reverse("admin:bookings_auditentry_changelist")).status_code == 403
    url = reverse("admin:bookings_auditentry_change", args=[entry.pk])
    assert client.get(url).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "Audit entries" not in index
    assert_no_money(index)
