"""Fetching marketplace calendars: HTTP with timeouts, a size cap and conditional GET.

Every fetch runs outside any database transaction; what it brings is applied by
`bookings.holds.holds_apply` in one. A failure (network, HTTP status, size, malformed feed) is
recorded on its subscription and changes none of its holds; the other subscriptions go on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone
from icalendar import Calendar, Component

from bookings import formatting, recurrence
from bookings.holds import (
    FeedEvent,
    holds_apply,
    subscription_failed,
    subscription_not_modified,
)
from bookings.models import CalendarSubscription

logger = logging.getLogger(__name__)
USER_AGENT = "JADA calendar sync (+https://sailjada.com)"


class FeedError(Exception):
    """The feed could not be used; the message is recorded on the subscription."""


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: not modified since the last sync
    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class SyncOutcome:
    subscription: CalendarSubscription
    state: str  # "updated", "unchanged", "failed"
    detail: str


def fetch(subscription: CalendarSubscription) -> Fetched:
    """GET the feed, at most CALENDAR_SYNC_MAX_BYTES, within the timeout (raises FeedError)."""
    timeout = settings.CALENDAR_SYNC_TIMEOUT_SECONDS
    cap = settings.CALENDAR_SYNC_MAX_BYTES
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if subscription.etag:
        headers["If-None-Match"] = subscription.etag
    if subscription.last_modified:
        headers["If-Modified-Since"] = subscription.last_modified
    # requests' timeout bounds each socket wait; the deadline bounds a feed that trickles in.
    deadline = time.monotonic() + 3 * timeout
    try:
        with requests.get(
            subscription.url, headers=headers, timeout=timeout, stream=True
        ) as response:
            if response.status_code == 304:
                return Fetched(body=None)
            if response.status_code != 200:
                raise FeedError(f"HTTP {response.status_code} {response.reason or ''}".strip())
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                raise FeedError(f"The feed is larger than {cap} bytes ({declared}).")
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > cap:
                    raise FeedError(f"The feed is larger than {cap} bytes.")
                if time.monotonic() > deadline:
                    raise FeedError(f"The feed took longer than {3 * timeout:.0f} s.")
                chunks.append(chunk)
            return Fetched(
                body=b"".join(chunks),
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
            )
    except requests.RequestException as e:
        raise FeedError(f"{type(e).__name__}: {e}") from e


def _moment(value: date | datetime) -> datetime:
    zone = formatting.zone()
    if not isinstance(value, datetime):
        # An all-day event: the operator's whole day (DTEND of a date is exclusive already).
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    if value.tzinfo is None:
        # A "floating" time: the operator's clock.
        return value.replace(tzinfo=zone)
    return value


def _event(component: Component, uid: str) -> FeedEvent | None:
    """The busy time of one event, or None when it takes none (cancelled, free, an instant)."""
    status = str(component.get("status", "")).upper()
    if status == "CANCELLED" or str(component.get("transp", "")).upper() == "TRANSPARENT":
        return None
    start = _moment(component.decoded("dtstart"))
    if "dtend" in component:
        end = _moment(component.decoded("dtend"))
    elif "duration" in component:
        end = start + component.decoded("duration")
    elif not isinstance(component.decoded("dtstart"), datetime):
        end = start + timedelta(days=1)
    else:
        end = start
    if end <= start:
        return None  # an instant takes no time on the boat
    summary = str(component.get("summary", "")).strip()
    return FeedEvent(uid=uid[:500], starts_at=start, ends_at=end, summary=summary)


def parse(body: bytes, *, now: datetime | None = None) -> list[FeedEvent]:
    """The busy events of an iCalendar file (raises FeedError: nothing is applied then).

    Single events are read whatever their date; repeating ones (RRULE, RDATE) are expanded from
    a day before `now` to `recurrence.FUTURE` ahead, each occurrence an event of its own.
    """
    if not body.lstrip(b"\xef\xbb\xbf \r\n\t").upper().startswith(b"BEGIN:VCALENDAR"):
        raise FeedError("Not an iCalendar file (no BEGIN:VCALENDAR).")
    try:
        calendar = Calendar.from_ical(body.decode("utf-8", errors="replace"))
    except Exception as e:  # icalendar raises ValueError, KeyError, IndexError… on bad input
        raise FeedError(f"Malformed iCalendar: {e}") from e
    events: dict[str, FeedEvent] = {}
    for number, component in enumerate(calendar.walk("VEVENT"), start=1):
        uid = str(component.get("uid", "")).strip()
        if not uid:
            raise FeedError(f"Event {number} has no UID.")
        if recurrence.is_series(component):
            continue  # expanded below
        try:
            event = _event(component, uid)
        except Exception as e:
            raise FeedError(f"Event {number} is malformed: {e}") from e
        if event is not None:
            events[event.uid] = event
    try:
        for uid, component in recurrence.occurrences(calendar, now=now or timezone.now()):
            event = _event(component, uid)
            if event is not None:
                events[event.uid] = event
    except recurrence.RecurrenceError as e:
        raise FeedError(str(e)) from e
    except Exception as e:  # the expansion raises its own errors and icalendar's on bad rules
        raise FeedError(f"Malformed repeating event: {type(e).__name__}: {e}") from e
    return list(events.values())


def sync_subscription(subscription: CalendarSubscription) -> SyncOutcome:
    """Fetch one subscription and apply it; any failure is recorded, never raised."""
    # Reaching out to a marketplace with a transaction open would hold its locks for as long.
    assert not connection.in_atomic_block, "sync_subscription must run outside a transaction"
    try:
        fetched = fetch(subscription)
        if fetched.body is None:
            subscription_not_modified(subscription=subscription)
            return SyncOutcome(subscription, "unchanged", "not modified (304)")
        events = parse(fetched.body)
    except FeedError as e:
        subscription_failed(subscription=subscription, error=str(e))
        logger.warning("calendar sync: subscription %s failed: %s", subscription.pk, e)
        return SyncOutcome(subscription, "failed", str(e))
    result = holds_apply(
        subscription=subscription,
        events=events,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
    )
    detail = (
        f"{len(events)} event(s): {result.created} new, {result.updated} changed, "
        f"{result.removed} removed, {result.new_conflicts} new conflict(s)"
    )
    return SyncOutcome(subscription, "updated", detail)


def sync_all() -> list[SyncOutcome]:
    """Every active subscription, one after another; one failing never stops the others."""
    subscriptions = CalendarSubscription.objects.filter(active=True).select_related("vessel")
    outcomes = []
    for subscription in subscriptions.order_by("pk"):
        try:
            outcomes.append(sync_subscription(subscription))
        except Exception as e:  # a bug or a database error on one must not stop the rest
            logger.exception("calendar sync: subscription %s crashed", subscription.pk)
            subscription_failed(subscription=subscription, error=f"{type(e).__name__}: {e}")
            outcomes.append(SyncOutcome(subscription, "failed", f"{type(e).__name__}: {e}"))
    return outcomes
