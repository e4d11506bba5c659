"""The cast: an operator who sees money, a dispatcher who does not, and the write-up's crew."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User

from bookings.models import Dock
from bookings.services import BookingData
from crew.models import ChecklistTemplate, CrewMember, Role
from jada.services import booking_save

# Shared fixtures: the moto server, S3 guest storage, guest pages in tmp_path.
pytest_plugins = ["tests.aws"]


def require_service(name: str, reason: str) -> None:
    """Skip locally when a service is missing; fail in CI, where it must be there."""
    if settings.REQUIRE_SERVICES or os.environ.get("CI"):
        pytest.fail(f"{name} is required here but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


@pytest.fixture
def alice(db) -> User:
    """Operator: staff with every bookings permission, money included."""
    user = User.objects.create_user("alice", "alice@sailjada.com", "pw-alice", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["bookings", "crew", "guests", "jada"]
        )
    )
    return user


@pytest.fixture
def bob(db) -> User:
    """Dispatcher: staff who manages bookings and crew but may not see money."""
    user = User.objects.create_user("bob", "bob@sailjada.com", "pw-bob", is_staff=True)
    perms = Permission.objects.filter(
        content_type__app_label__in=["bookings", "crew", "guests", "jada"]
    ).exclude(
        codename__in=["view_financials", "change_financials", "add_financials", "delete_financials"]
    )
    user.user_permissions.set(perms)
    return user


@pytest.fixture
def dock(db) -> Dock:
    return Dock.objects.create(
        name="Sheraton Hotel Dock",
        address="1380 Harbor Island Dr, San Diego, CA 92101",
        directions="Park in the hotel's marina lot; walk past the pool to gate C.",
        map_url="https://maps.example.com/?q=Sheraton+Hotel+Dock",
    )


def make_member(code: str, name: str, email: str, roles: list[str]) -> CrewMember:
    user = User.objects.create_user(code.lower())
    user.set_unusable_password()
    user.save()
    return CrewMember.objects.create(user=user, code=code, name=name, email=email, roles=roles)


@pytest.fixture
def roster(db) -> dict[str, CrewMember]:
    return {
        "CAP_001": make_member("CAP_001", "Marco Reyes", "cap001@crew.example.com", [Role.CAPTAIN]),
        "CREW_001": make_member(
            "CREW_001", "Dana Cole", "crew001@crew.example.com", [Role.DECKHAND]
        ),
        "CREW_002": make_member(
            "CREW_002", "Sam Ortiz", "crew002@crew.example.com", [Role.DECKHAND]
        ),
    }


@pytest.fixture
def templates(db) -> list[ChecklistTemplate]:
    return [
        ChecklistTemplate.objects.create(text="Brief {guest_count} guests", position=1),
        ChecklistTemplate.objects.create(text="Check fuel", role=Role.CAPTAIN, position=2),
        ChecklistTemplate.objects.create(text="Secure fenders", role=Role.DECKHAND, position=3),
    ]


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


@pytest.fixture
def booking(db, dock, roster, templates):
    return booking_save(data=booking_data(dock), via="test").booking
