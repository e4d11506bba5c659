"""Vessels: the default-vessel rule, capacity, and no double-booked boat (all databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from bookings.models import Booking, Status, Vessel
from bookings.services import booking_upsert
from bookings.vessels import BookingConflict, vessel_default
from tests.factories import booking_data, make_vessel

NINE_PDT = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)  # 09:00 in San Diego


def book(dock, ref: str, *, starts_at=NINE_PDT, minutes: int = 180, **values) -> Booking:
    data = booking_data(
        dock, external_ref=ref, starts_at=starts_at, duration_minutes=minutes, **values
    )
    return booking_upsert(data=data, via="test").booking


# --- the default vessel --------------------------------------------------------------------


def test_the_vessel_marked_default_wins(jada, queen, settings):
    settings.DEFAULT_VESSEL = "QUEEN"
    assert vessel_default() == jada


def test_without_a_mark_the_setting_names_it(db, dock, settings):
    make_vessel("JADA", dock=dock)
    queen = make_vessel("QUEEN", dock=dock)
    settings.DEFAULT_VESSEL = "QUEEN"
    assert vessel_default() == queen


def test_without_mark_or_setting_the_only_active_vessel(db, dock, settings):
    settings.DEFAULT_VESSEL = ""
    make_vessel("OLD", dock=dock, active=False, is_default=True)
    queen = make_vessel("QUEEN", dock=dock)
    assert vessel_default() == queen


def test_several_vessels_and_no_default_names_the_codes(db, dock, settings):
    settings.DEFAULT_VESSEL = ""
    make_vessel("JADA", dock=dock)
    make_vessel("QUEEN", dock=dock)
    with pytest.raises(ValidationError) as raised:
        book(dock, "BS-1")
    message = raised.value.message_dict["vessel"][0]
    assert "JADA" in message and "QUEEN" in message
    assert not Booking.objects.exists()


def test_a_database_without_vessels_gets_the_default_one(db, dock, settings):
    settings.DEFAULT_VESSEL = "JADA"
    booking = book(dock, "BS-1")
    assert booking.vessel.code == "JADA" and Vessel.objects.count() == 1


def test_a_booking_without_vessel_goes_on_the_default_and_stays_where_it_is(jada, queen, dock):
    booking = book(dock, "BS-1", vessel=queen)
    assert booking.vessel == queen
    # Updated without naming a vessel (an old client): it stays on the Queen.
    again = book(dock, "BS-1", guest_count=6)
    assert again.pk == booking.pk and again.vessel == queen
    assert book(dock, "BS-2", starts_at=NINE_PDT + timedelta(days=1)).vessel == jada


def test_only_one_vessel_can_be_marked_default(jada, dock):
    other = Vessel(code="QUEEN", name="Queen", guest_name="Queen", capacity=4, is_default=True)
    with pytest.raises(ValidationError, match="already the default"):
        other.full_clean()


# --- capacity ------------------------------------------------------------------------------


def test_guest_count_above_capacity_is_refused_naming_it(jada, dock):
    with pytest.raises(ValidationError) as raised:
        book(dock, "BS-1", guest_count=13)
    assert raised.value.message_dict["guest_count"] == ["Jada takes at most 12 guests."]
    assert not Booking.objects.exists()
    assert book(dock, "BS-1", guest_count=12).guest_count == 12


# --- one boat, one charter at a time -------------------------------------------------------


def test_overlap_is_refused_naming_the_booking_and_turnaround(jada, dock):
    book(dock, "BS-1")  # 09:00 to 12:00, free again at 12:30
    with pytest.raises(BookingConflict) as raised:
        book(dock, "BS-2", starts_at=NINE_PDT + timedelta(hours=3, minutes=29))
    assert raised.value.errors == {
        "starts_at": ["Jada is booked 09:00\u201312:00 PDT for BS-1 (turnaround 30 min)"]
    }
    assert list(Booking.objects.values_list("external_ref", flat=True)) == ["BS-1"]


def test_after_the_turnaround_the_vessel_is_free(jada, dock):
    book(dock, "BS-1")
    later = book(dock, "BS-2", starts_at=NINE_PDT + timedelta(hours=3, minutes=30))
    earlier = book(dock, "BS-3", starts_at=NINE_PDT - timedelta(hours=3, minutes=30))
    assert later.pk and earlier.pk
    with pytest.raises(BookingConflict):
        book(dock, "BS-4", starts_at=NINE_PDT - timedelta(hours=3, minutes=29))


def test_another_vessel_is_free_at_the_same_time(jada, queen, dock):
    book(dock, "BS-1")
    assert book(dock, "BS-2", vessel=queen).vessel == queen


def test_a_cancelled_booking_frees_its_time_and_reactivating_is_checked(jada, dock):
    first = book(dock, "BS-1")
    book(dock, "BS-1", status=Status.CANCELLED)
    second = book(dock, "BS-2")
    assert second.pk != first.pk
    with pytest.raises(BookingConflict, match="for BS-2 "):
        book(dock, "BS-1", status=Status.CONFIRMED)
    assert Booking.objects.get(pk=first.pk).status == Status.CANCELLED


def test_moving_onto_another_booking_is_refused_and_changes_nothing(jada, queen, dock):
    book(dock, "BS-1")
    moved = book(dock, "BS-2", starts_at=NINE_PDT + timedelta(hours=5))
    with pytest.raises(BookingConflict):
        book(dock, "BS-2", starts_at=NINE_PDT + timedelta(hours=1))
    with pytest.raises(BookingConflict):
        book(dock, "BS-2", minutes=60 * 8, starts_at=NINE_PDT - timedelta(hours=6))
    assert Booking.objects.get(pk=moved.pk).starts_at == NINE_PDT + timedelta(hours=5)
    # Moving to the other vessel at the same time is fine.
    assert book(dock, "BS-2", vessel=queen, starts_at=NINE_PDT).vessel == queen


def test_blocked_until_follows_the_booking(jada, dock):
    booking = book(dock, "BS-1")
    assert booking.blocked_until == NINE_PDT + timedelta(hours=3, minutes=30)
    booking = book(dock, "BS-1", minutes=60)
    assert Booking.objects.get(pk=booking.pk).blocked_until == NINE_PDT + timedelta(minutes=90)
