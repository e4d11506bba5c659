"""Vessels for tests outside tests/fleet: a second boat when two charters share a time."""

from __future__ import annotations

from bookings.models import Vessel
from bookings.vessels import vessel_default


def default_vessel() -> Vessel:
    """The vessel bookings that name none go on (created as the settings say when none exists)."""
    return vessel_default()


def other_vessel(code: str = "QUEEN") -> Vessel:
    """A second vessel, so a test may put two charters at one time without a conflict."""
    vessel, _ = Vessel.objects.get_or_create(
        code=code, defaults={"name": code.title(), "guest_name": code.title(), "capacity": 150}
    )
    return vessel
