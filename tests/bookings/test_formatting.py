"""Times and money read the same everywhere, from one home each: formatting and money."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from bookings import formatting
from bookings.money import money_json, money_text

ROOT = Path(__file__).resolve().parents[2]
APPS = ("bookings", "crew", "guests", "jada")
TIME_HOME = ROOT / "bookings" / "formatting.py"
MONEY_HOME = ROOT / "bookings" / "money.py"
SUMMER = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)


def app_sources() -> dict[Path, str]:
    found = {
        path: path.read_text()
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert len(found) > 40, "walked too little"
    return found


def test_the_zone_is_djangos_current_time_zone():
    assert formatting.zone_name() == "America/Los_Angeles"
    assert formatting.when_text(SUMMER) == "Thu 30 May 2030, 9:00 AM PDT (America/Los_Angeles)"
    with timezone.override("Europe/Paris"):
        assert formatting.zone_name() == "Europe/Paris"
        assert formatting.when_text(SUMMER) == "Thu 30 May 2030, 6:00 PM CEST (Europe/Paris)"
        assert formatting.local(SUMMER).hour == 18


@override_settings(TIME_ZONE="Asia/Tokyo")
def test_the_zone_follows_the_setting():
    assert formatting.zone().key == "Asia/Tokyo"
    assert formatting.stamp_text(SUMMER) == "Fri 2030-05-31 01:00 JST"
    assert formatting.span_text(SUMMER, SUMMER.replace(hour=20)) == (
        "Fri 31 May 2030 01:00 to 05:00"
    )


def test_times_and_money_have_one_spelling():
    assert formatting.utc_text(SUMMER) == "2030-05-30T16:00:00Z"
    assert formatting.utc_text(None) is None
    assert formatting.minutes_text(270) == "4 h 30 min"
    assert money_text(Decimal("7654.32")) == "7,654.32"
    assert money_text(Decimal("840.75"), "USD") == "840.75 USD"
    assert money_text(None) == "—"
    assert money_json(Decimal("18")) == "18.00"
    assert money_json(None) is None


@pytest.mark.parametrize(
    ("what", "home", "spotted"),
    [
        ("the operator's zone", TIME_HOME, lambda src: "def operator_zone" in src),
        ("a zone looked up by name", TIME_HOME, lambda src: "ZoneInfo(settings." in src),
        ("the UTC 'Z' form", TIME_HOME, lambda src: '"+00:00", "Z"' in src),
        ("money as text", MONEY_HOME, lambda src: ",.2f}" in src),
        ("the admin's time stamp", TIME_HOME, lambda src: "%a %Y-%m-%d %H:%M" in src),
        ("a second name for the zone", TIME_HOME, lambda src: "zone as " in src),
    ],
)
def test_each_formatting_has_one_home(what, home, spotted):
    elsewhere = [str(p.relative_to(ROOT)) for p, src in app_sources().items() if spotted(src)]
    assert elsewhere in ([], [str(home.relative_to(ROOT))]), f"{what} written in {elsewhere}"


def test_nothing_reads_a_second_name_for_the_zone():
    readers = []
    for path, src in app_sources().items():
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Attribute) and node.attr == "TIME_ZONE_NAME":
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.42, "0.4 s"),
        (9.94, "9.9 s"),
        (12.3, "12 s"),
        (60, "1 min"),
        (125, "2 min 5 s"),
        (4200, "1 h 10 min"),
        (7200, "2 h"),
    ],
)
def test_spans_in_seconds_read_in_hours_minutes_and_seconds(seconds, text):
    assert formatting.seconds_text(seconds) == text


def test_a_charter_length_reads_as_hours_and_minutes_on_the_form():
    assert [formatting.length_input_text(m) for m in (180, 270, 45)] == ["3:00", "4:30", "0:45"]
