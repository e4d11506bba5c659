"""How times read, everywhere: in the operator's zone, which is Django's current time zone.

The one home of time-zone handling and time formatting (money text lives in `bookings.money`,
which crew and guest code may not import). Crew and guest code may import this module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


def zone() -> ZoneInfo:
    """The operator's zone: Django's current time zone (settings.TIME_ZONE)."""
    return timezone.get_current_timezone()


def zone_name() -> str:
    """'America/Los_Angeles': the name every page that shows a time carries."""
    return timezone.get_current_timezone_name()


def local(value: datetime) -> datetime:
    """An aware datetime in the operator's zone."""
    return timezone.localtime(value)


def utc_text(value: datetime | None) -> str | None:
    """'2030-05-30T16:00:00Z' (ISO 8601 in UTC, the form machines read); None stays None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def date_text(value: datetime) -> str:
    """'Thu 30 May 2030' in the operator's zone."""
    return f"{local(value):%a %-d %b %Y}"


def time_text(value: datetime) -> str:
    """'9:00 AM PDT' in the operator's zone."""
    return f"{local(value):%-I:%M %p %Z}"


def when_text(value: datetime) -> str:
    """'Thu 30 May 2030, 9:00 AM PDT (America/Los_Angeles)': the zone always named."""
    return f"{date_text(value)}, {time_text(value)} ({zone_name()})"


def stamp_text(value: datetime) -> str:
    """'Thu 2030-05-30 09:00 PDT': the admin's shape (jada/formats/en says the same)."""
    return f"{local(value):%a %Y-%m-%d %H:%M %Z}"


def stamp_span_text(start: datetime, end: datetime) -> str:
    """'Thu 2030-05-30 09:00-12:00 PDT' (an en dash), the end's day named when it differs."""
    start, end = local(start), local(end)
    tail = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%a %Y-%m-%d %H:%M}"
    return f"{start:%a %Y-%m-%d %H:%M}\u2013{tail} {start:%Z}"


def span_text(start: datetime, end: datetime) -> str:
    """'Thu 30 May 2030 09:00 to 12:00', or with the end's day when it is another day."""
    start, end = local(start), local(end)
    if start.date() == end.date():
        return f"{start:%a %d %b %Y %H:%M} to {end:%H:%M}"
    return f"{start:%a %d %b %Y %H:%M} to {end:%a %d %b %H:%M}"


def minutes_text(minutes: int) -> str:
    """'5 h', '4 h 30 min', '45 min'."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def seconds_text(seconds: float) -> str:
    """'0.4 s', '42 s', '2 min 5 s', '1 h 10 min': a span measured in seconds, read at a glance."""
    if seconds < 10:
        return f"{max(seconds, 0):.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    return minutes_text(round(whole / 60))


def length_input_text(minutes: int) -> str:
    """'4:30' for 270 minutes: a charter's length as the booking form shows it (hours:minutes)."""
    hours, rest = divmod(int(minutes), 60)
    return f"{hours}:{rest:02d}"
