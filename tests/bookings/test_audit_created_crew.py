"""A new booking's "created" entry lists its first crew, one line per member and open slot,
whether the API, the booking form or the CSV import (its batches included) created it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from bookings.audit_format import change_lines
from bookings.models import AuditEntry, Booking
from jada import import_plan
from jada.importing import intake_many
from jada.intake import booking_intake
from tests.factories import write_up
from tests.helpers import post_data
from tests.vessels import default_vessel

WRITE_UP_CREW = [
    "Crew: added Dana Cole (deckhand)",
    "Crew: added Marco Reyes (captain)",
    "Crew: added Sam Ortiz (deckhand)",
]
WITH_SLOTS = [
    {"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5},
    {"role": "deckhand", "duration_hours": 5},  # two open slots
    {"role": "deckhand", "duration_hours": 4},
]
WITH_SLOTS_CREW = [
    "Crew: added Dana Cole (deckhand)",
    "Crew: added Marco Reyes (captain)",
    "Crew: opened a deckhand slot",
    "Crew: opened a deckhand slot",
]


def crew_of_created(booking: Booking) -> list[str]:
    entry = AuditEntry.objects.get(booking=booking, action="created")
    return [line for line in change_lines(entry) if line.startswith("Crew:")]


def payload(ref: str, day: int, **overrides: Any) -> dict[str, Any]:
    return write_up(external_ref=ref, charter_date=f"2030-06-{day:02}", **overrides)


def test_an_api_booking_lists_its_first_crew_and_open_slots(dock, roster, templates):
    default_vessel()
    plain = booking_intake(payload=payload("API-1", 1), via="api").booking
    slotted = booking_intake(
        payload=payload("API-2", 2, crew_assignments=WITH_SLOTS), via="api"
    ).booking

    assert crew_of_created(plain) == WRITE_UP_CREW
    assert crew_of_created(slotted) == WITH_SLOTS_CREW
    entry = AuditEntry.objects.get(booking=plain, action="created")
    assert change_lines(entry)[0].startswith("Status: ")  # the booking's fields still lead


def test_the_csv_imports_batches_write_what_the_api_writes(dock, roster, templates, monkeypatch):
    default_vessel()
    batches = []
    real = import_plan.bookings_save_planned

    def counted(*, items, **kwargs):
        batches.append(len(items))
        return real(items=items, **kwargs)

    monkeypatch.setattr(import_plan, "bookings_save_planned", counted)
    rows = [
        payload("CSV-1", 3),
        payload("CSV-2", 4, crew_assignments=WITH_SLOTS),
        payload("CSV-3", 5, captain_id=None, crew_assignments=None),  # no crew at all
    ]
    outcomes = [outcome for _, outcome in intake_many(enumerate(rows), via="csv")]
    assert [outcome.outcome for outcome in outcomes] == ["created"] * 3
    assert batches == [3]  # one batch, not one save each

    assert crew_of_created(outcomes[0].booking) == WRITE_UP_CREW
    assert crew_of_created(outcomes[1].booking) == WITH_SLOTS_CREW
    assert crew_of_created(outcomes[2].booking) == []
    single = booking_intake(payload=payload("API-3", 6), via="api").booking
    batch, alone = (
        AuditEntry.objects.get(booking=b, action="created") for b in (outcomes[0].booking, single)
    )
    assert [line for line in change_lines(batch) if not line.startswith(("Starts", "Booking"))] == [
        line for line in change_lines(alone) if not line.startswith(("Starts", "Booking"))
    ]


def test_a_booking_added_in_the_admin_lists_its_first_crew(
    client, alice, dock, roster, templates, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    data = post_data(
        dock=dock.pk, gross_revenue="840.75", crew_cost="250.00", captain_cost="150.00"
    )
    data["fee_percent"] = "18"
    for i, (role, member) in enumerate(
        [("captain", roster["CAP_001"]), ("deckhand", roster["CREW_002"]), ("deckhand", None)]
    ):
        data.update(
            {
                f"crew_{i}_role": role,
                f"crew_{i}_member": str(member.pk) if member else "",
                f"crew_{i}_call_at_0": "",
                f"crew_{i}_call_at_1": "",
                f"crew_{i}_shift_minutes": "",
            }
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("admin:bookings_booking_add"), data).status_code == 302

    booking = Booking.objects.get()
    assert crew_of_created(booking) == [
        "Crew: added Marco Reyes (captain)",
        "Crew: added Sam Ortiz (deckhand)",
        "Crew: opened a deckhand slot",
    ]
    entry = AuditEntry.objects.get(booking=booking, action="created")
    assert (entry.via, entry.actor) == ("admin", alice)
    page = client.get(reverse("admin:bookings_booking_change", args=[booking.pk]))
    assert "<li>Crew: added Marco Reyes (captain)</li>" in page.content.decode()
