"""The demo's fleet: Jada (default) and Queen, both at the write-up's dock."""

from __future__ import annotations

import pytest

from bookings.models import Dock, Vessel


def make_vessel(code: str, *, dock: Dock | None = None, **values) -> Vessel:
    defaults = {
        "name": code.title(),
        "guest_name": f"the {code.title()}",
        "capacity": 12,
        "home_dock": dock,
    }
    return Vessel.objects.create(code=code, **(defaults | values))


@pytest.fixture
def jada(db, dock) -> Vessel:
    return make_vessel("JADA", dock=dock, guest_name="Jada of San Diego", is_default=True)


@pytest.fixture
def queen(db, dock) -> Vessel:
    return make_vessel("QUEEN", dock=dock, capacity=40, guest_name="Queen of the Bay")
