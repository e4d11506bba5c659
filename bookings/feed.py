"""The availability feed marketplaces import: when a vessel is busy, and nothing else.

One opaque VEVENT per confirmed booking ("Booked") and per external hold ("Unavailable"), the
turnaround included. Only times are read from the database: no guest, contact, crew, money or
reference can reach the feed because none is ever loaded.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, vText
from icalendar.parser import Contentline

from bookings.models import Booking, Hold, Status, Vessel

PRODID = "-//JADA//Vessel availability//EN"
# Charters that ended longer ago than this are left out: marketplaces only sell the future.
PAST_DAYS = 30
CALENDAR_END = b"END:VCALENDAR\r\n"


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


def _utc(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _busy(uid: str, start: datetime, end: datetime, summary: str, stamp: str) -> str:
    """One busy VEVENT as iCalendar text, as icalendar writes it (times in UTC)."""
    # Written directly: with thousands of events icalendar's per-property objects cost most
    # of the feed's time, and every value here is a UTC time, a fixed word or the UID (its
    # host escaped once, its line folded as RFC 5545 asks when it is long).
    uid_line = Contentline(f"UID:{uid}").to_ical().decode()
    return (
        f"BEGIN:VEVENT\r\nSUMMARY:{summary}\r\nDTSTART:{_utc(start)}\r\n"
        f"DTEND:{_utc(end)}\r\nDTSTAMP:{stamp}\r\n{uid_line}\r\n"
        "STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n"
    )


def vessel_feed_ics(vessel: Vessel, *, now: datetime | None = None) -> bytes:
    """The vessel's busy times as an iCalendar file."""
    now = now or timezone.now()
    since = now - timedelta(days=PAST_DAYS)
    turnaround = timedelta(minutes=vessel.turnaround_minutes)
    host = _uid_host()
    stamp = _utc(now)
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
    events = [
        _busy(f"booking-{pk}@{host}", start, until, "Booked", stamp)
        for pk, start, until in bookings
    ]
    # A hold that is one of the bookings above is already there.
    holds = (
        Hold.objects.filter(vessel=vessel, ends_at__gte=since)
        .exclude(booking__status=Status.CONFIRMED)
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "ends_at")
    )
    events += [
        _busy(f"hold-{pk}@{host}", start, end + turnaround, "Unavailable", stamp)
        for pk, start, end in holds
    ]
    # The calendar's own lines come from icalendar (the vessel's name escaped); the events go
    # before its last line.
    framed = calendar.to_ical()
    assert framed.endswith(CALENDAR_END)
    return framed[: -len(CALENDAR_END)] + "".join(events).encode() + CALENDAR_END


def _uid_host() -> str:
    """The site's host name as it reads inside a UID, escaped once for all of them."""
    return vText(urlsplit(settings.SITE_URL).hostname or "jada").to_ical().decode()
