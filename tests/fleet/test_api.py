"""The intake's `vessel` field, its default, capacity and the 409; the CSV import the same."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bookings.models import Booking
from tests.jada.intake_support import new_token, post, row_counts, write_up


@pytest.fixture
def token(db) -> str:
    return new_token()


@pytest.fixture
def ready(dock, roster, templates, jada, queen) -> None:
    """The write-up's world with the demo's fleet: Jada (default, 12 guests) and Queen (40)."""


def test_without_vessel_the_booking_goes_on_the_default_and_says_so(client, token, ready):
    response = post(client, write_up(), token=token)
    assert response.status_code == 201, response.content
    assert response.json()["vessel"] == "JADA"
    assert Booking.objects.get().vessel.code == "JADA"


def test_a_named_vessel_and_an_unknown_one(client, token, ready):
    response = post(client, write_up(vessel="queen"), token=token)
    assert response.status_code == 201 and response.json()["vessel"] == "QUEEN"
    response = post(client, write_up(external_ref="BS-2", vessel="ARGO"), token=token)
    assert response.status_code == 400
    (message,) = response.json()["errors"]["vessel"]
    assert "ARGO" in message and "JADA" in message and "QUEEN" in message


def test_several_vessels_and_no_default_is_a_400_naming_the_codes(
    client, token, ready, jada, settings
):
    settings.DEFAULT_VESSEL = ""
    jada.is_default = False
    jada.save()
    before = row_counts()
    response = post(client, write_up(), token=token)
    assert response.status_code == 400, response.content
    (message,) = response.json()["errors"]["vessel"]
    assert "JADA" in message and "QUEEN" in message
    assert row_counts() == before


def test_more_guests_than_the_vessel_takes_is_a_400_on_guest_count(client, token, ready):
    payload = write_up(guest={"name": "Jordan Avery", "count": 13})
    response = post(client, payload, token=token)
    assert response.status_code == 400
    assert response.json()["errors"] == {"guest.count": ["Jada takes at most 12 guests."]}
    assert post(client, payload | {"vessel": "QUEEN"}, token=token).status_code == 201


def test_a_booked_vessel_is_a_409_and_nothing_is_written(client, token, ready):
    first = post(client, write_up(), token=token).json()
    before = row_counts()
    response = post(client, write_up(external_ref="GMB-77", source="getmyboat"), token=token)
    assert response.status_code == 409
    assert response.json() == {
        "errors": {
            "starts_at": [
                f"Jada is booked 09:00\u201312:00 PDT for {first['external_ref']} "
                "(turnaround 30 min)"
            ]
        }
    }
    assert row_counts() == before
    # Moving the first booking onto a free time, and then the second fits.
    assert post(client, write_up(start_time="14:00"), token=token).status_code == 200
    response = post(client, write_up(external_ref="GMB-77", source="getmyboat"), token=token)
    assert response.status_code == 201


HEADER = [
    "source",
    "external_ref",
    "charter_date",
    "start_time",
    "duration_hours",
    "gross_revenue",
    "crew_cost",
    "captain_cost",
    "port_fee_percent",
    "guest_name",
    "guest_count",
    "location",
    "vessel",
]


def csv_row(**values: str) -> dict[str, str]:
    return {
        "source": "boatsetter",
        "external_ref": "BS-1",
        "charter_date": "2030-05-30",
        "start_time": "09:00",
        "duration_hours": "3",
        "gross_revenue": "840.75",
        "crew_cost": "250.00",
        "captain_cost": "150.00",
        "port_fee_percent": "18",
        "guest_name": "Jordan Avery",
        "guest_count": "4",
        "location": "Sheraton Hotel Dock",
        "vessel": "",
    } | values


def test_the_csv_import_has_a_vessel_column_with_the_same_rules(tmp_path: Path, ready):
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(
            [
                csv_row(),  # the default vessel
                csv_row(external_ref="BS-2", vessel="QUEEN"),  # the other boat, same time
                csv_row(external_ref="BS-3"),  # Jada is taken then
                csv_row(external_ref="BS-4", charter_date="2030-06-01", guest_count="13"),
            ]
        )
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 of 4 rows rejected"):
        call_command("import_bookings", str(path), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("row 2: created BS-1") and lines[1].startswith("row 3: created BS-2")
    assert lines[2].startswith("row 4: rejected BS-3: starts_at: Jada is booked 09:00")
    assert lines[3] == "row 5: rejected BS-4: guest_count: Jada takes at most 12 guests."
    assert dict(Booking.objects.values_list("external_ref", "vessel__code")) == {
        "BS-1": "JADA",
        "BS-2": "QUEEN",
    }
