"""Writes to the guests' side: the page record. Rendering and export live in guests.publishing."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from bookings.selectors import OperationalBooking
from guests.models import GuestPage, new_session_id


def guest_page_ensure(*, booking: OperationalBooking) -> GuestPage:
    """The booking's page record, created with a fresh secret session id on first sight."""
    page = GuestPage.objects.filter(booking_id=booking.id).first()
    if page is not None:
        return page
    for _ in range(5):
        try:
            with transaction.atomic():
                return GuestPage.objects.create(booking_id=booking.id, session_id=new_session_id())
        except IntegrityError:
            # A session-id collision is astronomically rare; a concurrent create is not.
            page = GuestPage.objects.filter(booking_id=booking.id).first()
            if page is not None:
                return page
    raise RuntimeError("could not allocate a unique guest session id")
