"""The page itself: self-contained, valid, small, and saying what a guest needs."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime

import html5lib
import pytest
from django.core.exceptions import ValidationError
from icalendar import Calendar

from bookings.models import VESSEL_GUEST_NAME_MAX_BYTES, Booking, Dock
from bookings.selectors import booking_operational
from guests.models import GuestPage
from guests.render import CANCEL, GuestFacts, _ics, page_revise, render_ics, render_page
from jada.services import booking_save
from tests.factories import booking_data
from tests.helpers import page_ics_of as ics_of
from tests.helpers import rendered_for


def fill(model, field: str, unit: str) -> str:
    """`unit` repeated as often as the field's bounds allow: characters and UTF-8 bytes both."""
    model_field = model._meta.get_field(field)
    text = ""
    while len(text) < model_field.max_length:
        try:
            model_field.run_validators(text + unit)
        except ValidationError:
            break
        text += unit
    return text


# CJK and emoji (3 and 4 bytes), accents, and what HTML, URLs and ICS escape the most: an
# apostrophe becomes &#x27; on the page and %27 in its links.
SCRIPTS = ["é", "中", "😀", "'", '"', "&", "<", "\\", ",", "\n", "a b"]


@pytest.mark.parametrize("unit", SCRIPTS)
@pytest.mark.parametrize("cancelled", [False, True])
def test_it_stays_within_14_kb_with_every_field_at_its_longest(unit, cancelled):
    dock = Dock(
        name=fill(Dock, "name", unit),
        address=fill(Dock, "address", unit),
        directions=fill(Dock, "directions", unit),
        map_url="https://maps.example.com/?" + "q&" * 86,
    )
    dock.full_clean(validate_unique=False, validate_constraints=False)  # what the admin would store
    facts = GuestFacts(
        guest_name=unit * Booking._meta.get_field("guest_name").max_length,
        guest_count=Booking._meta.get_field("guest_count").validators[-1].limit_value,
        starts_at=datetime(2030, 12, 31, 23, 59, tzinfo=UTC),
        duration_minutes=24 * 60,
        dock_name=dock.name,
        dock_address=dock.address,
        dock_directions=dock.directions,
        dock_map_url=dock.map_url,
        cancelled=cancelled,
        source_label="Other marketplace",
        reference=unit * Booking._meta.get_field("external_ref").max_length,
        vessel_name=unit * (VESSEL_GUEST_NAME_MAX_BYTES // len(unit.encode())),
    )
    page = GuestPage(booking_id=1, session_id="A" * 32, revision=999)
    rendered = render_page(page, facts)
    assert len(rendered.html) <= 14 * 1024, len(rendered.html)
    # Without its map link the page spells the dock into a map search instead.
    rendered = render_page(page, replace(facts, dock_map_url=""))
    assert len(rendered.html) <= 14 * 1024, len(rendered.html)


@pytest.mark.parametrize("field", ["name", "address", "directions"])
def test_a_dock_text_over_its_byte_bound_is_refused(field):
    text = fill(Dock, field, "中")
    dock = Dock(**{"name": "Dock", field: text})
    dock.full_clean(validate_unique=False, validate_constraints=False)
    setattr(dock, field, text + "中")
    with pytest.raises(ValidationError) as error:
        dock.full_clean(validate_unique=False, validate_constraints=False)
    assert "bytes" in str(error.value.message_dict[field])


def test_it_is_valid_html5(booking):
    _, rendered = rendered_for(booking)
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(rendered.html)
    assert parser.errors == []


def test_it_is_small_and_self_contained(booking):
    _, rendered = rendered_for(booking)
    html = rendered.html.decode()
    assert len(rendered.html) <= 14 * 1024
    assert "<script" not in html.lower()
    assert " src=" not in html
    assert "@font-face" not in html and "@import" not in html
    assert "<link" not in html
    # Only the map link leaves the page over http(s); the rest is tel:, mailto: and data:.
    external = re.findall(r'href="(https?://[^"]*)"', html)
    assert external == ["https://maps.example.com/?q=Sheraton+Hotel+Dock"]


def test_it_is_noindex_phone_ready_and_labelled(booking):
    _, rendered = rendered_for(booking)
    html = rendered.html.decode()
    assert '<html lang="en">' in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<meta charset="utf-8">' in html
    assert html.count("<h1>") == 1
    assert {"When", "Where", "What to bring", "Questions?"} <= set(
        re.findall(r"<h2>(.*?)</h2>", html)
    )


def test_it_says_what_a_guest_needs(booking):
    _, rendered = rendered_for(booking)
    html = rendered.html.decode()
    assert "Queen of San Diego" in html
    assert "Your charter is confirmed" in html
    assert "Jordan" in html
    # 16:00 UTC on 30 May 2030 is 9:00 in San Diego, and the zone is named.
    assert "Thursday, May 30, 2030" in html
    assert "9:00 AM PDT (America/Los_Angeles)" in html
    assert "3 hours, back by 12:00 PM PDT" in html
    assert "Sheraton Hotel Dock" in html
    assert "1380 Harbor Island Dr, San Diego, CA 92101" in html
    assert "walk past the pool to gate C." in html
    assert 'href="https://maps.example.com/?q=Sheraton+Hotel+Dock"' in html
    assert "What to bring" in html
    assert 'href="tel:+16195550100"' in html
    assert 'href="mailto:hello@queenofsandiego.com"' in html
    assert "Add to calendar" in html


def test_it_leaves_out_notes_and_guest_contact(booking):
    _, rendered = rendered_for(booking)
    html = rendered.html.decode()
    assert "guest briefing required" not in html  # crew-visible notes
    assert "jordan@guest.example.com" not in html
    assert "555 0100" not in html.replace("+1 619 555 0100", "")  # guest phone +1 555 0100


def test_its_calendar_entry_matches_the_page(booking):
    page, rendered = rendered_for(booking)
    ics = ics_of(rendered.html.decode())
    assert ics == rendered.ics
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2030, 5, 30, 19, 0, tzinfo=UTC)
    assert str(event["status"]) == "CONFIRMED"
    assert "Sheraton Hotel Dock" in str(event["location"])
    assert str(event["url"]) == page.url
    assert page.session_id not in str(event["uid"])  # the UID must not carry the secret


def test_rendering_is_deterministic(booking):
    _, first = rendered_for(booking)
    _, second = rendered_for(booking)
    assert first.html == second.html
    assert first.content_hash == second.content_hash
    assert first.content_hash == hashlib.sha256(first.html).hexdigest()


def test_a_cancelled_charter_says_so(dock, booking):
    booking_save(data=booking_data(dock, status="cancelled"), via="test")
    _, rendered = rendered_for(booking)
    html = rendered.html.decode()
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(rendered.html)
    assert "<title>Cancelled: " in html
    assert "Your charter has been cancelled" in html
    assert "Please do not come to the dock" in html
    assert "Your charter is confirmed" not in html
    assert "What to bring" not in html
    event = Calendar.from_ical(rendered.ics).walk("VEVENT")[0]
    assert str(event["status"]) == "CANCELLED"


def test_a_change_raises_the_calendar_sequence(dock, booking):
    page, before = rendered_for(booking)
    page.save()
    booking_save(
        data=booking_data(dock, starts_at=datetime(2030, 5, 30, 17, 0, tzinfo=UTC)), via="test"
    )
    page = GuestPage.objects.get(pk=page.pk)
    facts = GuestFacts.of(booking_operational(booking.pk))
    assert page_revise(page, facts) is True
    after = render_page(page, facts)
    assert Calendar.from_ical(before.ics).walk("VEVENT")[0]["sequence"] == 0
    assert Calendar.from_ical(after.ics).walk("VEVENT")[0]["sequence"] == 1
    assert "10:00 AM PDT" in after.html.decode()


@pytest.mark.parametrize(
    "minutes,label", [(90, "1 hour 30 minutes"), (60, "1 hour"), (45, "45 minutes")]
)
def test_durations_read_naturally(dock, roster, templates, minutes, label):
    booking = booking_save(data=booking_data(dock, duration_minutes=minutes), via="test").booking
    _, rendered = rendered_for(booking)
    assert f"{label}, back by" in rendered.html.decode()


def test_a_version_s_calendar_entry_is_serialised_once(booking, settings):
    # The guest stage renders the page's entry, then the email's: the same bytes, built once.
    page, rendered = rendered_for(booking)
    facts = GuestFacts.of(booking_operational(booking.pk))
    before = _ics.cache_info()
    assert render_ics(page, facts) == rendered.ics
    assert _ics.cache_info().hits == before.hits + 1
    # Whatever the entry says is part of what is kept: a new brand name is a new entry.
    settings.GUEST_BRAND_NAME = "Harbour Days"
    renamed = render_ics(page, facts)
    assert _ics.cache_info().misses == before.misses + 1
    assert "Harbour Days" in renamed.decode() and renamed != rendered.ics
    assert render_ics(page, facts, method=CANCEL) != renamed
