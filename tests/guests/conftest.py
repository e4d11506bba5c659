"""Guest-side cast: a canary charter with unique amounts, and the crew contacts it must not show."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jada.services import booking_save
from tests.conftest import booking_data

# Amounts no other figure on any page could produce by accident.
CANARY_AMOUNTS = {
    "gross_revenue": Decimal("7319.27"),
    "crew_cost": Decimal("1123.58"),
    "captain_cost": Decimal("977.31"),
    "fee_percent": Decimal("13.37"),
}


def money_strings(booking) -> list[str]:
    """Every money value of the booking in the usual spellings (1234.56, 1,234.56, $1,234.56)."""
    financials = booking.financials
    values = [
        financials.gross_revenue,
        financials.crew_cost,
        financials.captain_cost,
        financials.fee_percent,
        financials.fee,
        financials.net_revenue,
    ]
    spellings = set()
    for value in values:
        spellings |= {f"{value}", f"{value:,}", f"${value:,}", f"{value:.2f}"}
    return sorted(spellings)


def crew_contacts(roster) -> list[str]:
    return [m.email for m in roster.values()] + [m.phone for m in roster.values() if m.phone]


@pytest.fixture
def canary_booking(db, dock, roster, templates):
    phones = ["+1 619 555 0111", "+1 619 555 0122", "+1 619 555 0133"]
    for member, phone in zip(roster.values(), phones, strict=True):
        member.phone = phone
        member.save()
    data = booking_data(
        dock, external_ref="BS-CANARY-1", internal_notes="VIP: owner's friend", **CANARY_AMOUNTS
    )
    return booking_save(data=data, via="test").booking
