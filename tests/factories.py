"""Factories the whole suite shares: the write-up's charter, its crew and their plans.

Fixtures live in tests/conftest.py and call these; tests import from here, never from a
conftest or another test module.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from bookings.models import Booking, Dock, Vessel
from bookings.selectors import booking_operational
from bookings.services import BookingData, booking_upsert
from crew.models import Assignment, CrewEvent, CrewMember
from crew.services import PlannedAssignment, crew_event_sync
from jada import pipeline
from jada.api.schemas import EXAMPLE
from jada.services import booking_save


def write_up(**overrides: Any) -> dict[str, Any]:
    """The write-up's Boatsetter charter as the dashboard posts it; None removes a key."""
    payload = copy.deepcopy(EXAMPLE)
    for key, value in overrides.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


WRITEUP_PLAN = (
    PlannedAssignment("CAP_001", "captain"),
    PlannedAssignment("CREW_001", "deckhand", 300),
    PlannedAssignment("CREW_002", "deckhand"),
)
# The same crew, each on the shift a charter gives by default.
SAME_SHIFT_PLAN = (
    PlannedAssignment("CAP_001", "captain"),
    PlannedAssignment("CREW_001", "deckhand"),
    PlannedAssignment("CREW_002", "deckhand"),
)


def booking_data(dock: Dock, **overrides) -> BookingData:
    """The write-up's Boatsetter charter, adjustable per test."""
    values = {
        "source": "boatsetter",
        "external_ref": "BS-2024-0530",
        "guest_name": "Jordan Avery",
        "guest_email": "jordan@guest.example.com",
        "guest_phone": "+1 555 0100",
        "guest_count": 4,
        "starts_at": datetime(2030, 5, 30, 16, 0, tzinfo=UTC),
        "duration_minutes": 180,
        "dock": dock,
        "gross_revenue": Decimal("840.75"),
        "crew_cost": Decimal("250.00"),
        "captain_cost": Decimal("150.00"),
        "fee_percent": Decimal("18"),
        "notes": "Boatsetter charter, guest briefing required",
    }
    values.update(overrides)
    return BookingData(**values)


def make_member(code: str, name: str, email: str, roles: list[str]) -> CrewMember:
    """A crew member with a password-less user of their own, as crew sign in by link only."""
    user = User.objects.create_user(code.lower())
    user.set_unusable_password()
    user.save()
    return CrewMember.objects.create(user=user, code=code, name=name, email=email, roles=roles)


def charter(dock: Dock, plan: Sequence[PlannedAssignment] | None = WRITEUP_PLAN, **overrides):
    """Create or update a booking and sync its crew event with `plan`; returns the crew event."""
    booking = booking_save(data=booking_data(dock, **overrides), via="test").booking
    if plan is not None:
        crew_event_sync(booking=booking_operational(booking.pk), plan=plan)
    return CrewEvent.objects.get(booking_id=booking.pk)


# --- Canaries: money that no other figure on any page could produce by accident ---

CANARY_AMOUNTS = {
    "gross_revenue": Decimal("7319.27"),
    "crew_cost": Decimal("1123.58"),
    "captain_cost": Decimal("977.31"),
    "fee_percent": Decimal("13.37"),
}
CANARY_FEE = Decimal("978.59")  # 7319.27 x 13.37 / 100 = 978.586..., half-up to the cent
CANARY_NET = Decimal("4239.79")  # 7319.27 - 1123.58 - 977.31 - 978.59
# A change of the charter's money brings amounts of its own, just as distinctive.
CANARY_AMOUNTS_2 = {
    "gross_revenue": Decimal("8642.19"),
    "crew_cost": Decimal("1357.93"),
    "captain_cost": Decimal("1086.47"),
    "fee_percent": Decimal("11.29"),
}
CANARY_FEE_2 = Decimal("975.70")  # 8642.19 x 11.29 / 100 = 975.703..., half-up
CANARY_NET_2 = Decimal("5222.09")  # 8642.19 - 1357.93 - 1086.47 - 975.70
CANARIES = [*CANARY_AMOUNTS.values(), CANARY_FEE, CANARY_NET]
CANARIES_2 = [*CANARY_AMOUNTS_2.values(), CANARY_FEE_2, CANARY_NET_2]

# Words of a name (split on "_") that would mean it holds money.
MONEY_WORDS = frozenset(
    "revenue cost costs fee fees price amount gross net money payout commission tip tips wage "
    "wages pay salary charge total currency cents dollars usd".split()
)


def looks_like_money(name: str) -> bool:
    return bool(set(name.lower().split("_")) & MONEY_WORDS)


def money_spellings(value: Decimal) -> set[str]:
    """1234.56, 1,234.56, $1,234.56, $1234.56, 1.234,56, 1 234,56, 123456 (cents), $1,235."""
    plain = f"{value:.2f}"
    grouped = f"{value:,.2f}"
    found = {plain, grouped, f"${grouped}", f"${plain}", f"USD {plain}", f"{plain} USD"}
    found |= {f"{value:f}", plain.replace(".", ",")}
    if value >= 1000:
        found |= {
            grouped.replace(",", " ").replace(".", ","),
            grouped.replace(",", "X").replace(".", ",").replace("X", "."),
            plain.replace(".", ""),  # cents as an integer
            f"${value:,.0f}",
            f"{value:,.0f}.",
        }
    # One decimal place (7319.3) is the JavaScript/float way of dropping a trailing digit.
    if plain.endswith("0"):
        found.add(plain[:-1])
    return found


def all_spellings(amounts) -> list[str]:
    return sorted(set().union(*(money_spellings(Decimal(a)) for a in amounts)))


def assert_no_money(text: str, amounts=CANARIES) -> None:
    leaked = [s for s in all_spellings(amounts) if s in text]
    assert not leaked, f"money leaked: {leaked}"


def canary_booking(dock: Dock, **overrides) -> Booking:
    """The write-up's charter with the canary amounts (BS-CANARY-1)."""
    values = {**CANARY_AMOUNTS, "external_ref": "BS-CANARY-1", **overrides}
    return booking_save(data=booking_data(dock, **values), via="test").booking


def make_assignments(booking: Booking, roster, *, accepted: int, removed: int = 0) -> None:
    """Assign the whole roster, the first `accepted` of them accepting, plus removed ones."""
    event = CrewEvent.objects.get(booking_id=booking.pk)
    for i, member in enumerate(roster.values()):
        Assignment.objects.create(
            event=event,
            member=member,
            role=member.roles[0],
            call_at=event.starts_at - timedelta(hours=1),
            shift_minutes=300,
            state="accepted" if i < accepted else "pending",
        )
    for i in range(removed):
        member = CrewMember.objects.create(
            user=User.objects.create_user(f"gone{booking.pk}-{i}"),
            code=f"GONE_{booking.pk}_{i}",
            name=f"Gone {i}",
            email=f"gone{booking.pk}-{i}@crew.example.com",
        )
        Assignment.objects.create(
            event=event,
            member=member,
            call_at=event.starts_at,
            shift_minutes=300,
            state="accepted",
            removed_at=event.starts_at,  # removed: no longer counts
        )


def create(dock: Dock, **overrides) -> Booking:
    """A booking saved with the write-up's crew, its pipeline started as the intake does."""
    with transaction.atomic():
        booking = booking_upsert(data=booking_data(dock, **overrides), via="test").booking
        pipeline.start(booking.pk, created=True, crew_plan=SAME_SHIFT_PLAN)
    return booking


def make_vessel(code: str, *, dock: Dock | None = None, **values) -> Vessel:
    """A vessel of the fleet; the demo's are Jada (the default) and Queen."""
    defaults = {
        "name": code.title(),
        "guest_name": f"the {code.title()}",
        "capacity": 12,
        "home_dock": dock,
    }
    return Vessel.objects.create(code=code, **(defaults | values))
