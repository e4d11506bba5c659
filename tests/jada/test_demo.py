"""`manage.py demo`: the write-up's world, created once, and where to look at it."""

from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from bookings.models import Booking, Dock
from crew.links import login_user
from crew.models import Assignment, ChecklistItem, ChecklistTemplate, CrewMember
from tests.jada.intake_support import row_counts

pytestmark = pytest.mark.django_db


def demo(**env: str) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def everything() -> dict[str, int]:
    return {
        **row_counts(),
        "User": User.objects.count(),
        "CrewMember": CrewMember.objects.count(),
        "Dock": Dock.objects.count(),
        "ChecklistTemplate": ChecklistTemplate.objects.count(),
    }


def test_it_creates_the_write_up_world():
    output = demo()

    operator = User.objects.get(username="operator")
    assert operator.is_superuser and operator.check_password("jada-demo")
    dispatcher = User.objects.get(username="dispatcher")
    assert dispatcher.is_staff and not dispatcher.is_superuser
    assert dispatcher.has_perm("bookings.change_booking")
    assert not dispatcher.has_perm("bookings.view_financials")
    assert not dispatcher.has_perm("bookings.change_financials")

    members = {m.code: m for m in CrewMember.objects.select_related("user")}
    assert set(members) == {"CAP_001", "CAP_002", "CREW_001", "CREW_002", "CREW_003", "CREW_004"}
    assert members["CAP_001"].roles == members["CAP_002"].roles == ["captain"]
    assert all(members[f"CREW_00{n}"].roles == ["deckhand"] for n in range(1, 5))
    assert all(m.email.endswith("@crew.example.com") for m in members.values())
    assert not any(m.user.has_usable_password() for m in members.values())

    dock = Dock.objects.get(name="Sheraton Hotel Dock")
    assert dock.address and dock.directions and dock.map_url.startswith("https://")
    assert set(ChecklistTemplate.objects.values_list("text", "role")) == {
        ("Brief {guest_count} guests", ""),
        ("Check fuel", "captain"),
        ("Secure fenders", "deckhand"),
    }

    booking = Booking.objects.select_related("financials").get()
    assert (booking.source, booking.guest_count, booking.duration_minutes) == ("boatsetter", 4, 180)
    assert booking.notes == "Boatsetter charter, guest briefing required"
    assert booking.financials.fee == Decimal("151.34")
    assert booking.financials.net_revenue == Decimal("289.41")
    zone = ZoneInfo("America/Los_Angeles")
    today = timezone.now().astimezone(zone).date()
    expected = datetime.combine(today + timedelta(days=14), time(9, 0), tzinfo=zone)
    assert booking.starts_at == expected
    assert booking.audit_entries.get().via == "demo"
    assert {
        (a.member.code, a.role, a.shift_minutes)
        for a in Assignment.objects.select_related("member")
    } == {("CAP_001", "captain", 300), ("CREW_001", "deckhand", 300), ("CREW_002", "deckhand", 300)}
    assert ChecklistItem.objects.filter(text="Brief 4 guests").count() == 3

    assert "http://127.0.0.1:8000/admin/" in output
    assert "operator / jada-demo" in output
    assert "dispatcher / jada-demo" in output
    assert "/g/" in output
    # Links straight to the charter and to the month it is in (it may be next month's).
    assert f"/admin/bookings/booking/{booking.pk}/change/" in output
    assert f"/admin/bookings/booking/calendar/?month={expected:%Y-%m}" in output


def test_the_printed_crew_link_signs_the_member_in():
    output = demo()
    line = next(line for line in output.splitlines() if "CREW_001" in line and "http" in line)
    url = re.search(r"https?://\S+", line).group(0)
    parsed = urlparse(url)
    assert url.startswith("http://127.0.0.1:8000/crew/login/")
    params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    user = login_user(params["t"], params["u"])
    assert user == CrewMember.objects.get(code="CREW_001").user


def test_running_it_twice_creates_nothing_new():
    first = demo()
    before = everything()
    booking = Booking.objects.get()

    second = demo()

    assert everything() == before
    assert Booking.objects.get().updated_at == booking.updated_at
    assert "operator / jada-demo" in second
    assert first.splitlines()[:4] == second.splitlines()[:4]


def test_it_keeps_what_the_operator_changed(monkeypatch):
    demo()
    Dock.objects.update(directions="Gate D this week.")
    CrewMember.objects.filter(code="CREW_001").update(email="dana@example.org")
    operator = User.objects.get(username="operator")
    operator.set_password("something-else")
    operator.save()

    output = demo()

    assert Dock.objects.get().directions == "Gate D this week."
    assert CrewMember.objects.get(code="CREW_001").email == "dana@example.org"
    assert "operator / (password changed since the demo set it)" in output


def test_the_password_comes_from_the_environment(settings):
    settings.DEMO_PASSWORD = "s3cret-demo"  # as read from DEMO_PASSWORD
    output = demo()
    assert User.objects.get(username="operator").check_password("s3cret-demo")
    assert "operator / s3cret-demo" in output


def test_a_decline_in_the_demo_is_offered_to_the_spare_deckhands(
    django_capture_on_commit_callbacks,
):
    from crew.models import Offer
    from crew.services import assignment_respond

    demo()
    sam = Assignment.objects.get(member__code="CREW_002")
    with django_capture_on_commit_callbacks(execute=True):
        assignment_respond(assignment=sam, accepted=False, reason="Sick")
    offered = sorted(Offer.objects.values_list("member__code", flat=True))
    assert offered == ["CREW_003", "CREW_004"]


def test_without_debug_it_refuses_the_public_password(settings):
    # What the settings hold with DEBUG off and no DEMO_PASSWORD.
    settings.DEMO_PASSWORD = ""
    with pytest.raises(CommandError, match="Set DEMO_PASSWORD, or pass --force"):
        call_command("demo", stdout=io.StringIO())
    assert not User.objects.exists()
    assert not Booking.objects.exists()


def test_force_creates_the_users_with_the_public_password(settings):
    settings.DEMO_PASSWORD = ""
    call_command("demo", "--force", stdout=io.StringIO())
    assert User.objects.get(username="operator").check_password("jada-demo")
