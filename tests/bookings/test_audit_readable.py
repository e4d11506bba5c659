"""The audit log reads as one labelled line per field, operational changes and money alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from bookings.audit_format import change_lines, field_label, field_labels, hours_minutes
from bookings.forms import BookingMoneyForm
from bookings.models import AuditEntry, Booking, Dock
from crew.models import CrewEvent, Offer
from crew.services import PlannedAssignment
from jada.models import PipelineRun
from jada.services import booking_save
from jada.summary import summary_context, summary_message
from tests.factories import booking_data, charter, make_member
from tests.helpers import formset_data, post_data
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
        "Starts: Thu 2030-05-30 09:00 PDT → Thu 2030-05-30 10:00 PDT",
        "Charter length: 3 h → 3 h 30 min",
        "Dock: Sheraton Hotel Dock → Marina Dock",
        "Guest count: 4 → 6",
        # Crew by name and role, one line per member, as on the crew event page.
        "Crew: added Dana Cole (deckhand)",
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
    assert field_labels(["starts_at", "guest_count"]) == "Starts, Guest count"
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
    data[captain.replace("-member", "-shift_minutes")] = "5.5"  # hours
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


def crew_rows(*rows: tuple[str, object, str]) -> dict[str, str]:
    """The booking form's crew rows as posted: (role, member or None for an open slot, shift)."""
    data = {}
    for i, (role, member, shift) in enumerate(rows):
        data.update(
            {
                f"crew_{i}_role": role,
                f"crew_{i}_member": str(member.pk) if member else "",
                f"crew_{i}_call_at_0": "",
                f"crew_{i}_call_at_1": "",
                f"crew_{i}_shift_minutes": shift,
            }
        )
    return data


def test_crew_changed_on_the_booking_form_reads_by_name_one_line_per_member(
    client, alice, dock, roster, templates, django_capture_on_commit_callbacks
):
    event = charter(dock, plan=[PlannedAssignment("CAP_001", "captain")])
    booking = Booking.objects.get(pk=event.booking_id)
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    data = post_data(booking) | crew_rows(
        ("captain", roster["CAP_001"], "5.5"),  # hours, as the charter length is typed
        ("deckhand", roster["CREW_001"], ""),
        ("deckhand", None, ""),  # an open slot
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302
    entry = AuditEntry.objects.filter(booking=booking).latest("pk")
    assert (entry.via, entry.actor, entry.touches_money) == ("admin", alice, False)
    assert change_lines(entry) == [
        "Crew: added Dana Cole (deckhand)",
        "Crew: changed Marco Reyes (captain): shift 5 h → 5 h 30 min",
        "Crew: opened a deckhand slot",
    ]
    # The open slot's row left blank withdraws it; the deckhand's row left blank removes her,
    # which opens her place to the crew (as any removal from an upcoming charter does).
    data = post_data(booking) | crew_rows(("captain", roster["CAP_001"], "5:30"))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302
    entry = AuditEntry.objects.filter(booking=booking).latest("pk")
    assert change_lines(entry) == [
        "Crew: opened a deckhand slot in Dana Cole's place",
        "Crew: removed Dana Cole (deckhand)",
        "Crew: withdrew the deckhand slot",
    ]
    page = client.get(url).content.decode()
    assert "<li>Crew: opened a deckhand slot</li>" in page
    assert "CAP_001 (captain)" not in page.split('class="audit-log"')[1]


def test_opening_filling_and_withdrawing_a_slot_are_each_a_line_of_the_audit_log(
    client, alice, event, django_capture_on_commit_callbacks
):
    jo = make_member("CREW_007", "Jo Park", "jo@crew.example.com", ["deckhand"])
    client.force_login(alice)
    url = reverse("admin:crew_crewevent_change", args=[event.pk])

    def post(**extra: str) -> AuditEntry:
        data = {**formset_data(event, []), "auto_offer": "on", **extra}
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, data).status_code == 302
        return AuditEntry.objects.filter(booking_id=event.booking_id).latest("pk")

    opened = post(add_slot="deckhand")
    assert change_lines(opened) == ["Crew: opened a deckhand slot"]
    assert (opened.via, opened.actor) == ("admin", alice)
    # Jo takes the shift from the offer's link: the crew's own act, named as theirs.
    offer = Offer.objects.get(member=jo)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("crew-offer", args=[offer.token]))
    took = AuditEntry.objects.filter(booking_id=event.booking_id).latest("pk")
    assert change_lines(took) == ["Crew: Jo Park took the deckhand slot"]
    assert (took.via, took.actor, took.who) == ("crew", None, "Jo Park")
    assert change_lines(post(add_slot="steward")) == ["Crew: opened a steward slot"]
    withdrew = post(withdraw_slots="on")
    assert change_lines(withdrew) == ["Crew: withdrew the steward slot"]
    assert (withdrew.via, withdrew.actor) == ("admin", alice)
    # Offering again or saving unchanged writes nothing more.
    assert post(offer_again="on") == withdrew
    page = client.get(
        reverse("admin:bookings_booking_change", args=[event.booking_id])
    ).content.decode()
    assert "<li>Crew: Jo Park took the deckhand slot</li>" in page


def test_the_form_the_audit_log_the_summary_and_the_crew_page_name_fields_alike(
    client, alice, dock, roster, templates
):
    booking = booking_save(data=booking_data(dock), via="test").booking
    booking_save(
        data=booking_data(
            dock, starts_at=booking.starts_at + timedelta(hours=1), duration_minutes=210
        ),
        via="test",
    )
    booking.refresh_from_db()
    entry = AuditEntry.objects.filter(booking=booking, action="changed").latest("pk")
    audit = {line.split(":")[0] for line in change_lines(entry)}
    form = BookingMoneyForm(instance=booking).fields
    run = PipelineRun.objects.filter(booking=booking).latest("pk")
    text = summary_message(summary_context(run)).body
    client.force_login(alice)
    crew_page = client.get(
        reverse(
            "admin:crew_crewevent_change", args=[CrewEvent.objects.get(booking_id=booking.pk).pk]
        )
    ).content.decode()
    for name, label in (
        ("starts_at", "Starts"),
        ("duration_minutes", "Charter length"),
        ("guest_count", "Guest count"),
        ("dock", "Dock"),
        ("status", "Status"),
    ):
        assert field_label(name) == label
        assert form[name].label.startswith(label), (name, form[name].label)
        assert f"- {label}: " in text, (label, text)
        if name in ("starts_at", "duration_minutes"):
            assert label in audit, audit
        if name in ("starts_at", "duration_minutes", "guest_count"):
            assert f"<label>{label}:</label>" in crew_page, label
    assert "Duration" not in text and "Guests:" not in text and "When:" not in text
    # The pipeline page names the run's changed fields the same way.
    runs = client.get(reverse("admin:jada_pipelinerun_change", args=[run.pk])).content.decode()
    assert "Starts, Charter length" in runs
    assert field_labels(["assignments", "starts_at"]) == "Starts, Crew"  # a run's changed roster


def test_shifts_are_typed_and_shown_in_hours_on_the_crew_event_page(client, alice, event):
    client.force_login(alice)
    url = reverse("admin:crew_crewevent_change", args=[event.pk])
    page = client.get(url).content.decode()
    assert "Shift (hours)" in page and "Shift (minutes)" not in page
    assert "Call time" in page and "Call at" not in page  # as on the booking form
    assert 'name="assignments-0-shift_minutes" value="5:00"' in page
    data = formset_data(event, [])
    data["assignments-0-shift_minutes"] = "4.5"
    assert client.post(url, data).status_code == 302
    first = event.assignments.order_by("call_at", "pk").first()
    assert first.shift_minutes == 270
    data = formset_data(event, [])
    data["assignments-0-shift_minutes"] = "all day"
    page = client.post(url, data).content.decode()
    assert "Enter the shift length in hours, such as 4 or 4.5" in page
