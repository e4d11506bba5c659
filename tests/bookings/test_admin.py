"""The booking admin as alice (sees money) and bob (does not) see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.models import DIRECTIONS_MAX_LENGTH, AuditEntry, Booking, Dock, Financials, Status
from crew.models import CrewEvent
from jada import pipeline
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.services import booking_save
from tests.factories import (
    CANARY_AMOUNTS,
    CANARY_NET,
    assert_no_money,
    booking_data,
    canary_booking,
    make_assignments,
)
from tests.helpers import export, post_data
from tests.vessels import default_vessel, other_vessel

CANARY = CANARY_AMOUNTS


@pytest.fixture
def carol(db) -> User:
    """Bookkeeper: may see money but not change it."""
    user = User.objects.create_user("carol", "carol@sailjada.com", "pw-carol", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="bookings").exclude(
        codename__in=["change_financials", "add_financials", "delete_financials"]
    )
    user.user_permissions.set(perms)
    return user


def changelist(client, user, query: str = "") -> str:
    client.force_login(user)
    response = client.get(reverse("admin:bookings_booking_changelist") + query)
    assert response.status_code == 200
    return response.content.decode()


def change_page(client, user, booking: Booking) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:bookings_booking_change", args=[booking.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_gross_and_net_to_alice(client, alice, dock, roster, templates):
    canary_booking(dock)
    page = changelist(client, alice)
    assert "7,319.27" in page and "4,239.79" in page
    assert "column-gross" in page and "column-net" in page


def test_the_list_shows_bob_no_money_anywhere(client, bob, dock, roster, templates):
    canary_booking(dock)
    page = changelist(client, bob)
    assert "BS-CANARY-1" in page
    assert_no_money(page)
    assert "column-gross" not in page and "column-net" not in page
    # Nor a link to the revenue page.
    assert reverse("admin:bookings_booking_revenue") not in page


def test_the_list_shows_source_local_date_with_zone_dock_and_status(
    client, bob, dock, roster, templates
):
    canary_booking(dock)  # 2030-05-30 16:00 UTC
    page = changelist(client, bob)
    assert "starts (America/Los_Angeles)" in page.lower() or "Starts (America/Los_Angeles)" in page
    assert "Thu 2030-05-30 09:00" in page
    assert "Sheraton Hotel Dock" in page
    assert "Boatsetter" in page and "Confirmed" in page


def test_filters_by_source_status_and_month_in_the_operator_zone(
    client, alice, dock, roster, templates
):
    canary_booking(dock)
    # 03:00 UTC on 1 June is still 31 May in San Diego.
    canary_booking(
        dock,
        source="direct",
        external_ref="LATE-MAY",
        starts_at=datetime(2030, 6, 1, 3, 0, tzinfo=UTC),
        status=Status.CANCELLED,
    )
    canary_booking(dock, external_ref="JULY-1", starts_at=datetime(2030, 7, 10, 18, 0, tzinfo=UTC))

    page = changelist(client, alice, "?month=2030-05")
    assert "LATE-MAY" in page and "BS-CANARY-1" in page and "JULY-1" not in page
    assert "May 2030" in page and "July 2030" in page  # the filter's choices
    page = changelist(client, alice, "?month=2030-06")
    assert "LATE-MAY" not in page and "JULY-1" not in page
    page = changelist(client, alice, "?source__exact=direct")
    assert "LATE-MAY" in page and "BS-CANARY-1" not in page
    page = changelist(client, alice, "?status__exact=cancelled")
    assert "LATE-MAY" in page and "JULY-1" not in page


def test_a_malformed_month_does_not_crash_the_list(client, alice, dock, roster, templates):
    canary_booking(dock)
    client.force_login(alice)
    response = client.get(reverse("admin:bookings_booking_changelist") + "?month=maybe")
    # The admin's answer to bad lookup parameters: redirect with ?e=1, never a 500.
    assert response.status_code == 302 and "e=1" in response["Location"]


def test_needs_attention_lists_bookings_with_a_failed_stage(client, alice, dock, roster, templates):
    ok = canary_booking(dock)
    broken = canary_booking(dock, external_ref="BROKEN-1", vessel=other_vessel())
    StageRun.objects.filter(run__booking=broken, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, last_error="S3 unreachable"
    )
    page = changelist(client, alice, "?attention=yes")
    assert "BROKEN-1" in page and f"/{ok.pk}/change/" not in page


def test_search_matches_reference_and_guest_but_never_money(client, alice, dock, roster, templates):
    canary_booking(dock, guest_name="Harper Lindqvist")
    assert "BS-CANARY-1" in changelist(client, alice, "?q=Lindqvist")
    assert "BS-CANARY-1" in changelist(client, alice, "?q=CANARY")
    assert "0 bookings" in changelist(client, alice, "?q=7319.27")


def test_money_lookups_in_the_url_are_refused(client, bob, dock, roster, templates):
    canary_booking(dock)
    client.force_login(bob)
    url = reverse("admin:bookings_booking_changelist")
    response = client.get(url + "?financials__gross_revenue__gt=7000")
    assert response.status_code == 400


def _bulk_bookings(dock: Dock, n: int, *, first: int = 0) -> None:
    start = datetime(2030, 5, 1, 16, 0, tzinfo=UTC)
    vessel = default_vessel()
    bookings = Booking.objects.bulk_create(
        Booking(
            source="boatsetter",
            external_ref=f"BULK-{i}",
            guest_name=f"Guest {i}",
            guest_count=4,
            # Four hours apart: a vessel needs its turnaround between charters.
            starts_at=start + timedelta(hours=4 * i),
            duration_minutes=180,
            dock=dock,
            vessel=vessel,
            blocked_until=start + timedelta(hours=4 * i, minutes=210),
        )
        for i in range(first, first + n)
    )
    Financials.objects.bulk_create(
        Financials(
            booking=b,
            gross_revenue=Decimal("100.00"),
            crew_cost=Decimal("10.00"),
            captain_cost=Decimal("10.00"),
            fee_percent=Decimal("10"),
            fee=Decimal("10.00"),
            net_revenue=Decimal("70.00"),
        )
        for b in bookings
    )


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_the_list_costs_a_fixed_number_of_queries(client, request, dock, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    url = reverse("admin:bookings_booking_changelist")
    counts = []
    for total in (100, 1000):
        existing = Booking.objects.count()
        _bulk_bookings(dock, total - existing, first=existing)
        assert Booking.objects.count() == total
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count('class="action-select"') == 100
        counts.append(len(queries))
    # session, user, permissions (2), vessel choices, month choices, count, full count, page.
    assert counts == [9, 9], counts


# --- change and add forms ---------------------------------------------------------------------


def test_alice_edits_money_on_the_change_form(client, alice, dock, roster, templates):
    booking = canary_booking(dock)
    page = change_page(client, alice, booking)
    assert 'name="gross_revenue"' in page and 'value="7319.27"' in page
    assert 'name="fee_percent"' in page and 'value="13.37"' in page
    # Fee and net are computed, shown read-only.
    assert 'name="fee"' not in page and 'name="net_revenue"' not in page
    assert "978.59" in page and "4,239.79" in page


def test_bob_sees_a_change_form_without_money(client, bob, dock, roster, templates):
    booking = canary_booking(dock, internal_notes="VIP, comped drinks")
    page = change_page(client, bob, booking)
    assert 'name="guest_name"' in page
    # Internal notes have a permission of their own, which the dispatcher lacks.
    assert 'name="internal_notes"' not in page and "VIP, comped drinks" not in page
    assert 'name="gross_revenue"' not in page and "Financials" not in page
    assert_no_money(page)


def test_carol_sees_money_read_only(client, carol, dock, roster, templates):
    booking = canary_booking(dock)
    page = change_page(client, carol, booking)
    assert "7,319.27" in page and "4,239.79" in page and "13.37" in page
    assert 'name="gross_revenue"' not in page and 'name="guest_name"' in page


def test_carol_cannot_change_money_by_posting_it(client, carol, dock, roster, templates):
    booking = canary_booking(dock)
    client.force_login(carol)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    response = client.post(url, post_data(booking, gross_revenue="1.00", guest_count="5"))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.guest_count == 5
    assert Financials.objects.get(pk=booking.pk).gross_revenue == CANARY["gross_revenue"]


def test_alice_changes_money_through_the_service(client, alice, dock, roster, templates):
    booking = canary_booking(dock)
    runs = PipelineRun.objects.count()
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    response = client.post(url, post_data(booking, gross_revenue="8000.00"))
    assert response.status_code == 302
    financials = Financials.objects.get(pk=booking.pk)
    assert financials.gross_revenue == Decimal("8000.00")
    assert financials.fee == Decimal("1069.60")  # computed by the service, not typed
    entry = AuditEntry.objects.filter(booking=booking).first()
    assert (entry.via, entry.actor, entry.touches_money) == ("admin", alice, True)
    assert entry.changes["gross_revenue"] == ["7319.27", "8000.00"]
    assert PipelineRun.objects.count() == runs  # money alone does not concern crew or guests


def test_bob_edits_operations_and_the_money_stays(client, bob, dock, roster, templates):
    booking = canary_booking(dock)
    client.force_login(bob)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    data = post_data(booking, guest_count="9", starts_at_1="10:30:00")
    for name in ("gross_revenue", "crew_cost", "captain_cost", "fee_percent"):
        data[name] = "0"  # posted anyway: ignored, bob's form has no money fields
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    booking.refresh_from_db()
    assert booking.guest_count == 9
    assert booking.starts_at == datetime(2030, 5, 30, 17, 30, tzinfo=UTC)  # 10:30 PDT
    financials = Financials.objects.get(pk=booking.pk)
    assert (financials.gross_revenue, financials.net_revenue) == (
        CANARY["gross_revenue"],
        CANARY_NET,
    )
    run = PipelineRun.objects.filter(booking=booking).first()
    assert run.reason == "changed" and "guest_count" in run.changed
    assert not AuditEntry.objects.filter(booking=booking, touches_money=True, via="admin")


def test_the_source_and_reference_cannot_be_changed_after_creation(
    client, alice, dock, roster, templates
):
    booking = canary_booking(dock)
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    response = client.post(url, post_data(booking, external_ref="HIJACK", source="direct"))
    assert response.status_code == 302
    assert Booking.objects.count() == 1
    booking.refresh_from_db()
    assert (booking.source, booking.external_ref) == ("boatsetter", "BS-CANARY-1")


def test_alice_adds_a_booking_through_the_service(client, alice, dock, roster, templates):
    client.force_login(alice)
    page = client.get(reverse("admin:bookings_booking_add")).content.decode()
    assert 'name="gross_revenue"' in page and "Starts (America/Los_Angeles)" in page
    data = post_data(
        dock=dock.pk, gross_revenue="840.75", crew_cost="250.00", captain_cost="150.00"
    )
    data["fee_percent"] = "18"
    response = client.post(reverse("admin:bookings_booking_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    booking = Booking.objects.get(external_ref="DIRECT-77")
    assert booking.starts_at == datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
    assert Financials.objects.get(pk=booking.pk).net_revenue == Decimal("289.41")
    assert AuditEntry.objects.get(booking=booking).via == "admin"
    assert PipelineRun.objects.filter(booking=booking, reason="created").exists()
    log = LogEntry.objects.get(object_id=str(booking.pk))
    assert log.user == alice and log.is_addition()


def test_bob_may_not_add_a_booking(client, bob, dock):
    # A booking is created with its money, which bob may not enter: he edits existing ones.
    client.force_login(bob)
    assert client.get(reverse("admin:bookings_booking_add")).status_code == 403
    response = client.post(reverse("admin:bookings_booking_add"), post_data(dock=dock.pk))
    assert response.status_code == 403
    assert not Booking.objects.exists()
    assert reverse("admin:bookings_booking_add") not in changelist(client, bob)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fee_percent": "150"}, "fee_percent"),
        ({"gross_revenue": "-1"}, "gross_revenue"),
        ({"guest_count": "0"}, "guest_count"),
        ({"duration_minutes": "1500"}, "duration_minutes"),
        ({"starts_at_0": "2030-13-45"}, "starts_at"),
    ],
)
def test_invalid_input_shows_form_errors_and_changes_nothing(
    client, alice, dock, roster, templates, overrides, field
):
    booking = canary_booking(dock)
    before = (
        Booking.objects.count(),
        AuditEntry.objects.count(),
        PipelineRun.objects.count(),
        LogEntry.objects.count(),
    )
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    response = client.post(url, post_data(booking, guest_name="Changed Name", **overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    booking.refresh_from_db()
    assert booking.guest_name == "Jordan Avery"
    assert Financials.objects.get(pk=booking.pk).gross_revenue == CANARY["gross_revenue"]
    after = (
        Booking.objects.count(),
        AuditEntry.objects.count(),
        PipelineRun.objects.count(),
        LogEntry.objects.count(),
    )
    assert after == before


def test_a_net_revenue_too_large_to_store_is_a_form_error(client, alice, dock, roster, templates):
    booking = canary_booking(dock)
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    data = post_data(booking, gross_revenue="0", crew_cost="9999999999.99")
    data["captain_cost"] = "9999999999.99"
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert Financials.objects.get(pk=booking.pk).gross_revenue == CANARY["gross_revenue"]


def test_adding_a_duplicate_reference_is_a_form_error(client, alice, dock, roster, templates):
    canary_booking(dock)
    client.force_login(alice)
    data = post_data(
        dock=dock.pk,
        source="boatsetter",
        external_ref="BS-CANARY-1",
        gross_revenue="1",
        crew_cost="0",
        captain_cost="0",
        fee_percent="0",
    )
    response = client.post(reverse("admin:bookings_booking_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Financials.objects.get().gross_revenue == CANARY["gross_revenue"]


def test_bookings_cannot_be_deleted(client, alice, dock, roster, templates):
    booking = canary_booking(dock)
    client.force_login(alice)
    response = client.get(reverse("admin:bookings_booking_delete", args=[booking.pk]))
    assert response.status_code == 403
    response = client.post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "delete_selected", "_selected_action": [booking.pk]},
    )
    assert Booking.objects.filter(pk=booking.pk).exists()
    assert 'value="delete_selected"' not in changelist(client, alice)


# --- history, audit, pipeline -----------------------------------------------------------------


def test_history_never_shows_money(client, alice, bob, dock, roster, templates):
    booking = canary_booking(dock)
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    # A money change and an operational one, then a money-only change.
    data = post_data(booking, guest_name="Morgan Blake")
    data.update(gross_revenue="7319.27", crew_cost="987.65", captain_cost="1234.56")
    assert client.post(url, data).status_code == 302
    booking.refresh_from_db()
    assert client.post(url, post_data(booking, fee_percent="12.34")).status_code == 302

    messages = [e.get_change_message() for e in LogEntry.objects.filter(object_id=booking.pk)]
    assert any("Guest name" in m for m in messages)
    for message in messages:
        assert "revenue" not in message.lower() and "cost" not in message.lower()
        assert_no_money(message)

    for user in (bob, alice):
        client.force_login(user)
        response = client.get(reverse("admin:bookings_booking_history", args=[booking.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Guest name" in page
        assert_no_money(page)
        assert "12.34" not in page


def test_audit_entries_show_on_the_change_page_only_to_money_holders(
    client, alice, bob, dock, roster, templates
):
    booking = canary_booking(dock)
    booking_save(
        data=booking_data(dock, **{**CANARY, "external_ref": "BS-CANARY-1"}, status="cancelled"),
        by=alice,
        via="api",
    )
    page = change_page(client, alice, booking)
    assert "Audit log" in page
    assert "Gross revenue: 7319.27" in page
    assert (
        "<td>alice</td><td>api</td><td>changed</td>"
        '<td><ul class="audit-changes"><li>Status: Confirmed → Cancelled</li></ul></td>' in page
    )
    page = change_page(client, bob, booking)
    assert "audit" not in page.lower() and "Confirmed → Cancelled" not in page
    assert_no_money(page)


def test_the_change_page_shows_pipeline_runs_and_stage_states(client, bob, dock, roster, templates):
    booking = canary_booking(dock)
    StageRun.objects.filter(run__booking=booking, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, attempts=3, last_error="S3 unreachable"
    )
    page = change_page(client, bob, booking)
    assert "Pipeline" in page
    assert "Booking record: <strong>Succeeded</strong>" in page
    assert "Guest page publish: <strong>Failed</strong> (attempts 3) — S3 unreachable" in page


def test_the_change_page_links_the_crew_event_and_the_guest_page(
    client, bob, dock, roster, templates, settings
):
    from guests.models import GuestPage
    from tests.factories import charter

    settings.GUEST_SITE_URL = "https://queenofsandiego.com"
    booking = Booking.objects.get(pk=charter(dock).booking_id)
    page = change_page(client, bob, booking)
    event = CrewEvent.objects.get(booking_id=booking.pk)
    guest = GuestPage.objects.get(booking_id=booking.pk)
    crew_url = reverse("admin:crew_crewevent_change", args=[event.pk])
    assert f'<a href="{crew_url}">Crew: assignments, answers, checklists</a>' in page
    assert f'<a href="https://queenofsandiego.com/g/{guest.session_id}">Guest page' in page


def test_the_retry_action_retries_each_selected_booking(
    client, alice, dock, roster, templates, monkeypatch
):
    first = canary_booking(dock)
    second = canary_booking(dock, external_ref="BS-2", vessel=other_vessel())
    calls = []

    def fake_retry(booking_id: int) -> int:
        calls.append(booking_id)
        return 1

    monkeypatch.setattr(pipeline, "retry_failed", fake_retry, raising=False)
    client.force_login(alice)
    response = client.post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "retry_failed_stages", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    assert sorted(calls) == sorted([first.pk, second.pk])
    assert "Re-queued 2 failed stage(s)." in response.content.decode()


def test_the_retry_action_requeues_a_failed_stage(
    client, alice, dock, roster, templates, django_capture_on_commit_callbacks
):
    booking = canary_booking(dock)
    StageRun.objects.filter(run__booking=booking, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, last_error="S3 unreachable"
    )
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("admin:bookings_booking_changelist"),
            {"action": "retry_failed_stages", "_selected_action": [booking.pk]},
            follow=True,
        )
    assert "Re-queued 1 failed stage(s)." in response.content.decode()
    assert not StageRun.objects.filter(run__booking=booking, state=StageState.FAILED).exists()


# --- CSV export -------------------------------------------------------------------------------


def test_the_csv_export_carries_money_for_alice(client, alice, dock, roster, templates):
    booking = canary_booking(dock)
    _, rows = export(client, alice, booking)
    (row,) = rows
    assert row["external_ref"] == "BS-CANARY-1"
    assert row["starts_at (America/Los_Angeles)"] == "2030-05-30T09:00:00-07:00"
    assert (row["gross_revenue"], row["fee"], row["net_revenue"]) == (
        "7319.27",
        "978.59",
        str(CANARY_NET),
    )


def test_the_csv_export_has_no_money_for_bob(client, bob, dock, roster, templates):
    booking = canary_booking(dock, internal_notes="Comped 200.00 bar tab")
    text, rows = export(client, bob, booking)
    (row,) = rows
    assert row["guest_name"] == "Jordan Avery" and row["dock"] == "Sheraton Hotel Dock"
    assert not {"gross_revenue", "fee", "net_revenue", "internal_notes"} & set(row)
    assert_no_money(text)


# --- docks ------------------------------------------------------------------------------------


def test_docks_are_managed_in_the_admin(client, bob, dock):
    client.force_login(bob)
    page = client.get(reverse("admin:bookings_dock_changelist")).content.decode()
    assert "Sheraton Hotel Dock" in page and f'href="{dock.map_url}"' in page
    response = client.post(
        reverse("admin:bookings_dock_add"),
        {
            "name": "Shelter Island Dock",
            "address": "2051 Shelter Island Dr",
            "directions": "Gate 4",
            "map_url": "https://maps.example.com/?q=Shelter",
        },
    )
    assert response.status_code == 302
    assert Dock.objects.filter(name="Shelter Island Dock", directions="Gate 4").exists()


def test_directions_longer_than_the_guest_page_allows_are_refused(client, bob):
    client.force_login(bob)
    fields = {"name": "Long Dock", "address": "", "map_url": ""}
    response = client.post(
        reverse("admin:bookings_dock_add"),
        {**fields, "directions": "x" * (DIRECTIONS_MAX_LENGTH + 1)},
    )
    assert response.status_code == 200
    assert "Ensure this value has at most 600 characters" in response.content.decode()
    assert not Dock.objects.filter(name="Long Dock").exists()


def test_crew_fill_counts_accepted_over_active_assignments(dock, roster, templates):
    booking = canary_booking(dock)
    make_assignments(booking, roster, accepted=2, removed=1)
    fill = pipeline.crew_fill([booking.pk])[booking.pk]
    assert (fill.accepted, fill.awaiting, str(fill)) == (2, 1, "2 ✓ · 1 awaiting")


def test_new_directions_for_a_dock_reach_crew_and_guests(
    client, bob, dock, roster, templates, django_capture_on_commit_callbacks
):
    from django.core import mail

    from guests.models import GuestPage
    from guests.storage import page_read
    from tests.factories import charter

    with django_capture_on_commit_callbacks(execute=True):
        booking = Booking.objects.get(pk=charter(dock).booking_id)  # with its crew
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert b"walk past the pool" in page_read(page.object_name)
    mail.outbox.clear()
    client.force_login(bob)
    fields = {"name": dock.name, "address": dock.address, "map_url": dock.map_url}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:bookings_dock_change", args=[dock.pk]),
            {**fields, "directions": "Use the north ramp by the fuel dock"},
        )
    assert response.status_code == 302
    event = CrewEvent.objects.get(booking_id=booking.pk)
    assert event.dock_directions == "Use the north ramp by the fuel dock"
    assert b"Use the north ramp by the fuel dock" in page_read(page.object_name)
    crew_changed = [m for m in mail.outbox if m.subject.startswith("Changed:")]
    assert crew_changed and len(crew_changed) == event.assignments.count()
    assert all("Use the north ramp" in m.body for m in crew_changed)


def test_the_charter_length_is_typed_and_shown_in_hours(client, alice, dock, roster, templates):
    booking = canary_booking(dock)
    page = change_page(client, alice, booking)
    assert "Charter length (hours)" in page
    assert 'name="duration_minutes" value="3:00"' in page
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    for typed, minutes in (("4.5", 270), ("3:45", 225), ("2 h 15 min", 135), ("5", 300)):
        response = client.post(url, post_data(booking, duration_minutes=typed))
        assert response.status_code == 302, (typed, response.content.decode()[:2000])
        booking.refresh_from_db()
        assert booking.duration_minutes == minutes, typed
    assert 'value="5:00"' in change_page(client, alice, booking)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("four", "Enter the charter length in hours, such as 4 or 4.5"),
        ("25", "A charter lasts at most 24 h; 25 h was entered."),
        ("0", "A charter lasts at least a minute."),
    ],
)
def test_a_charter_length_that_does_not_read_is_a_form_error(
    client, alice, dock, roster, templates, typed, message
):
    booking = canary_booking(dock)
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    response = client.post(url, post_data(booking, duration_minutes=typed))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["duration_minutes"]
    assert any(error.startswith(message) for error in errors), errors
    booking.refresh_from_db()
    assert booking.duration_minutes == 180
