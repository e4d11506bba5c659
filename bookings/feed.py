"""The availability feed marketplaces import: when a vessel is busy, and nothing else.

One opaque VEVENT per confirmed booking ("Booked") and per external hold ("Unavailable"), the
turnaround included. Only times are read from the database: no guest, contact, crew, money or
reference can reach the feed because none is ever loaded.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from bookings.models import Booking, Hold, Status, Vessel

PRODID = "-//JADA//Vessel availability//EN"
# Charters that ended longer ago than this are left out: marketplaces only sell the future.
PAST_DAYS = 30


def vessel_by_feed_token(token: str) -> Vessel | None:
    """The vessel whose feed secret is `token`; every secret is compared in constant time."""
    found = None
    for vessel in Vessel.objects.all():
        # No early exit: how long this takes says nothing about which secret nearly matched.
        if hmac.compare_digest(vessel.feed_token.encode(), token.encode()):
            found = vessel
    return found


def vessel_feed_url(vessel: Vessel) -> str:
    return f"{settings.SITE_URL}{reverse('vessel-feed', args=[vessel.feed_token])}"


def _busy(uid: str, start: datetime, end: datetime, summary: str, now: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("transp", "OPAQUE")
    event.add("status", "CONFIRMED")
    return event


def vessel_feed_ics(vessel: Vessel, *, now: datetime | None = None) -> bytes:
    """The vessel's busy times as an iCalendar file."""
    now = now or timezone.now()
    since = now - timedelta(days=PAST_DAYS)
    turnaround = timedelta(minutes=vessel.turnaround_minutes)
    host = urlsplit(settings.SITE_URL).hostname or "jada"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{vessel.name} availability")
    bookings = (
        Booking.objects.filter(vessel=vessel, status=Status.CONFIRMED, blocked_until__gte=since)
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "blocked_until")
    )
    for pk, start, until in bookings:
        calendar.add_component(_busy(f"booking-{pk}@{host}", start, until, "Booked", now))
    # A hold that is one of the bookings above is already there.
    holds = (
        Hold.objects.filter(vessel=vessel, ends_at__gte=since)
        .exclude(booking__status=Status.CONFIRMED)
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "ends_at")
    )
    for pk, start, end in holds:
        busy = _busy(f"hold-{pk}@{host}", start, end + turnaround, "Unavailable", now)
        calendar.add_component(busy)
    return calendar.to_ical()
