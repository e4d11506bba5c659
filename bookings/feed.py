"""The availability feed marketplaces import: when a vessel is busy, and nothing else.

One opaque VEVENT per confirmed booking ("Booked") and per external hold ("Unavailable"), the
turnaround included. Only times are read from the database: no guest, contact, crew, money or
reference can reach the feed because none is ever loaded.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from bookings.models import Booking, Hold, Status, Vessel

logger = logging.getLogger(__name__)

PRODID = "-//JADA//Vessel availability//EN"
# Charters that ended longer ago than this are left out: marketplaces only sell the future.
PAST_DAYS = 30
# A built feed is kept under a digest of everything it shows, so a change shows at once; the
# timeout only bounds how long an unread one stays. Raise FORMAT when the output's shape changes.
CACHE_SECONDS = 24 * 3600
FORMAT = 1

Busy = tuple[str, datetime, datetime, str]  # UID, start, end, summary


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


def vessel_feed_ics(vessel: Vessel, *, now: datetime | None = None) -> bytes:
    """The vessel's busy times as an iCalendar file: built once per content, then from cache.

    Marketplaces poll every feed every few minutes and icalendar takes most of a second over
    thousands of events; reading the times is two small queries. DTSTAMP is when the content
    was built, which is when the information it carries was last revised (RFC 5545, 3.8.7.2).
    """
    now = now or timezone.now()
    name = f"{vessel.name} availability"
    busy = _busy_times(vessel, since=now - timedelta(days=PAST_DAYS))
    key = _cache_key(name, busy)
    try:
        body = cache.get(key)
    except Exception:  # the cache is a shortcut: without it, build
        logger.warning("vessel feed cache unavailable", exc_info=True)
        body = None
    if body is None:
        body = _calendar(name, busy, now=now)
        try:
            cache.set(key, body, CACHE_SECONDS)
        except Exception:
            logger.warning("vessel feed cache unavailable", exc_info=True)
    return body


def _busy_times(vessel: Vessel, *, since: datetime) -> list[Busy]:
    host = urlsplit(settings.SITE_URL).hostname or "jada"
    bookings = (
        Booking.objects.filter(vessel=vessel, status=Status.CONFIRMED, blocked_until__gte=since)
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "blocked_until")
    )
    busy = [(f"booking-{pk}@{host}", start, until, "Booked") for pk, start, until in bookings]
    # A hold that is one of the bookings above is already there.
    holds = (
        Hold.objects.filter(vessel=vessel, ends_at__gte=since)
        .exclude(booking__status=Status.CONFIRMED)
        .order_by("starts_at", "pk")
        .values_list("pk", "starts_at", "ends_at")
    )
    turnaround = timedelta(minutes=vessel.turnaround_minutes)
    busy += [
        (f"hold-{pk}@{host}", start, end + turnaround, "Unavailable") for pk, start, end in holds
    ]
    return busy


def _cache_key(name: str, busy: list[Busy]) -> str:
    digest = hashlib.blake2b(repr((FORMAT, PRODID, name, busy)).encode(), digest_size=20)
    return f"vessel-feed:{digest.hexdigest()}"


def _calendar(name: str, busy: list[Busy], *, now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for uid, start, end, summary in busy:
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", now)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", summary)
        event.add("transp", "OPAQUE")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
