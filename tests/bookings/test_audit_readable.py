"""The audit log reads as one labelled line per field, operational changes and money alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from bookings.audit_format import change_lines, field_labels, hours_minutes
from bookings.models import AuditEntry, Dock
from crew.services import PlannedAssignment
from jada.services import booking_save
from tests.factories import booking_data, charter
from tests.helpers import formset_data
from tests.vessels import other_vessel

pytestmark = pytest.mark.django_db


def test_each_operational_and_money_change_is_one_labelled_line(
    client, alice, dock, roster, templates
):
    first = booking_data(dock)
    booking = booking_save(
        data=first, plan=[PlannedAssignment("CAP_001", "captain")], via="test"
    ).booking
    marina = Dock.objects.create(name="Marina Dock", address="1 Marina Way")
    booking_save(
        data=booking_data(
            dock=marina,
            starts_at=first.starts_at + timedelta(hours=1),
            duration_minutes=210,
            guest_count=6,
            status="cancelled",
            gross_revenue=Decimal("900.00"),
        ),
        plan=[PlannedAssignment("CAP_001", "captain"), PlannedAssignment("CREW_001", "deckhand")],
        via="test",
    )
    entries = AuditEntry.objects.filter(booking=booking, action="changed")
    lines = [line for entry in entries for line in change_lines(entry)]
    for expected in (
        "Status: Confirmed → Cancelled",
        "Start: Thu 2030-05-30 09:00 PDT → Thu 2030-05-30 10:00 PDT",
        "Duration: 3 h → 3 h 30 min",
        "Dock: Sheraton Hotel Dock → Marina Dock",
        "Guest count: 4 → 6",
        "Crew: CAP_001 (captain) → CAP_001 (captain), CREW_001 (deckhand)",
        "Gross revenue: 840.75 → 900.00",
    ):
        assert expected in lines, (expected, lines)
    client.force_login(alice)
    page = client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).content.decode()
    assert "<li>Guest count: 4 → 6</li>" in page
    assert "guest_count" not in page.split('class="audit-log"')[1].split("</table>")[0]
    listing = client.get(reverse("admin:bookings_auditentry_changelist")).content.decode()
    assert "<li>Dock: Sheraton Hotel Dock → Marina Dock</li>" in listing


def test_labels_and_durations_read_as_words():
    assert field_labels(["starts_at", "guest_count"]) == "Start, Guest count"
    assert (hours_minutes(180), hours_minutes(150), hours_minutes(45)) == (
        "3 h",
        "2 h 30 min",
        "45 min",
    )


def test_crew_changed_on_the_crew_event_page_is_one_line_per_member(
    client, alice, dock, roster, templates
):
    event = charter(
        dock,
        plan=[PlannedAssignment("CAP_001", "captain"), PlannedAssignment("CREW_001", "deckhand")],
    )
    client.force_login(alice)
    data = formset_data(
        event,
        [
            {
                "member": roster["CREW_002"],
                "role": "deckhand",
                "call_at": datetime(2030, 5, 30, 15, 0, tzinfo=UTC),
                "shift_minutes": 300,
            }
        ],
        deleted={"CREW_001"},
    )
    captain = next(
        k for k, v in data.items() if k.endswith("-member") and v == str(roster["CAP_001"].pk)
    )
    data[captain.replace("-member", "-shift_minutes")] = "330"
    url = reverse("admin:crew_crewevent_change", args=[event.pk])
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.filter(booking_id=event.booking_id).latest("pk")
    assert (entry.action, entry.via, entry.actor) == ("changed", "admin", alice)
    assert not entry.touches_money
    assert change_lines(entry) == [
        "Crew: changed Marco Reyes (captain): shift 5 h → 5 h 30 min",
        "Crew: added Sam Ortiz (deckhand)",
        "Crew: removed Dana Cole (deckhand)",
    ]
    page = client.get(
        reverse("admin:bookings_booking_change", args=[event.booking_id])
    ).content.decode()
    assert "<li>Crew: added Sam Ortiz (deckhand)</li>" in page
    assert "<li>Crew: removed Dana Cole (deckhand)</li>" in page
    # Saving the page again without a change adds no entry.
    assert client.post(url, formset_data(event, [])).status_code == 302
    assert AuditEntry.objects.filter(booking_id=event.booking_id).latest("pk") == entry


def test_the_vessel_reads_by_name(dock, roster, templates):
    booking = booking_save(data=booking_data(dock), via="test").booking
    created = AuditEntry.objects.get(booking=booking, action="created")
    assert f"Vessel: {booking.vessel.name}" in change_lines(created)
    queen = other_vessel()
    booking_save(data=booking_data(dock, vessel=queen), via="test")
    changed = AuditEntry.objects.filter(booking=booking, action="changed").latest("pk")
    assert change_lines(changed) == [f"Vessel: {booking.vessel.name} → {queen.name}"]
