"""The suite's fixtures, in one place: an operator who sees money, a dispatcher who does not,
the write-up's crew and charter. What builds them is in tests/factories.py."""

from __future__ import annotations

import pytest
from celery.result import _set_task_join_will_block
from django.contrib.auth.models import Permission, User
from django.test import Client

from bookings.models import Dock, Vessel
from crew.models import ChecklistTemplate, CrewEvent, CrewMember, Role
from jada.services import booking_save
from tests.factories import booking_data, charter, make_member, make_vessel

# Fixtures kept beside their helpers: the moto server, S3 guest storage, guest pages in
# tmp_path (tests.aws); Chromium, phone and desktop contexts, a real pipeline worker
# (tests.e2e.browser).
pytest_plugins = ["tests.aws", "tests.e2e.browser"]


@pytest.fixture(autouse=True)
def _celery_joins_allowed() -> None:
    """Each test starts outside any task, as far as Celery can tell.

    Celery marks "inside a task" in one process-wide flag that each eager task sets and then
    restores; two eager tasks run at once by a threaded live server (the browser tests) can
    restore each other's value and leave it set, and a later test's `result.get()` then refuses
    to run. (Tests that read an eager result also pass `disable_sync_subtasks=False`: a thread
    still finishing a task of the test before may set the flag again.)
    """
    _set_task_join_will_block(False)


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
        codename__in=[
            "view_financials",
            "change_financials",
            "add_financials",
            "delete_financials",
            "view_internal_notes",
        ]
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


@pytest.fixture
def booking(db, dock, roster, templates):
    return booking_save(data=booking_data(dock), via="test").booking


@pytest.fixture
def event(db, dock, roster, templates) -> CrewEvent:
    """The write-up's charter with its captain and two deckhands (one on a 5-hour shift)."""
    return charter(dock)


@pytest.fixture
def staff(bob) -> Client:
    """The dispatcher's admin client."""
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def jada(db, dock) -> Vessel:
    """The default vessel of the demo's fleet, at the write-up's dock."""
    return make_vessel("JADA", dock=dock, guest_name="Jada of San Diego", is_default=True)


@pytest.fixture
def queen(db, dock) -> Vessel:
    """The fleet's second vessel, at the same dock."""
    return make_vessel("QUEEN", dock=dock, capacity=40, guest_name="Queen of the Bay")
