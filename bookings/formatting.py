"""How times read, everywhere: in the operator's zone, which is Django's current time zone.

The one home of time-zone handling and time formatting (money text lives in `bookings.money`,
which crew and guest code may not import). Crew and guest code may import this module. Also
here: the words every page uses for a booking's operational fields, and the one form field for
a length of time typed in hours (a charter's length, a crew shift).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

# One vocabulary: the booking form, the audit log, the pipeline pages, the operator's summary
# email and the crew event page name each operational field by these words (money's words are
# added in bookings.audit_format). The audit log lists fields in this order.
OPERATIONAL_LABELS = {
    "status": "Status",
    "starts_at": "Starts",
    "duration_minutes": "Charter length",
    "dock": "Dock",
    "vessel": "Vessel",
    "guest_count": "Guest count",
    "guest_name": "Guest name",
    "guest_email": "Guest email",
    "guest_phone": "Guest phone",
    "notes": "Notes for crew",
    "crew": "Crew",
    "assignments": "Crew",  # a pipeline run's name for a changed roster
}


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
    """'4:30' for 270 minutes: a length (a charter's, a shift) as the forms show it."""
    hours, rest = divmod(int(minutes), 60)
    return f"{hours}:{rest:02d}"


# "4:30"; "4.5" or "4,5" hours (an "h" or "hours" after it is fine); "4 h 30 min"; "90 min".
_CLOCK = re.compile(r"(\d{1,6}):([0-5]\d)")
_HOURS = re.compile(r"(\d{1,6}(?:[.,]\d{1,6})?)\s*(?:h|hrs?|hours?)?")
_WORDS = re.compile(r"(?:(\d{1,6})\s*(?:h|hrs?|hours?))?\s*(?:(\d{1,6})\s*(?:m|mins?|minutes?))?")


def length_minutes(text: str) -> int | None:
    """Minutes in a length as an operator types it; None when it does not read."""
    text = text.strip().lower()
    if match := _CLOCK.fullmatch(text):
        return int(match[1]) * 60 + int(match[2])
    if match := _HOURS.fullmatch(text):
        try:
            hours = Decimal(match[1].replace(",", "."))
        except InvalidOperation:
            return None
        return int((hours * 60).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    if text and (match := _WORDS.fullmatch(text)) and (match[1] or match[2]):
        return int(match[1] or 0) * 60 + int(match[2] or 0)
    return None


class LengthInput(forms.TextInput):
    """Shows the stored minutes as hours:minutes ("3:00"); what was typed is shown as typed."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        # "4:30" is short: a narrow box keeps the crew event page's rows within 1280 px.
        super().__init__({"size": 6, **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, int):
            return length_input_text(value)
        return super().format_value(value)


class HoursField(forms.Field):
    """A length typed in hours (4.5) or hours:minutes (4:30); cleans to minutes."""

    widget = LengthInput

    def __init__(self, *, what: str, longest: int, **kwargs: Any) -> None:
        # `what` names the length in messages: "charter" reads "Enter the charter length ...",
        # "A charter lasts at least a minute."; `longest` is in minutes.
        self.what, self.longest = what, longest
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int):
            return value
        minutes = length_minutes(str(value))
        if minutes is None:
            raise ValidationError(
                f"Enter the {self.what} length in hours, such as 4 or 4.5, or as hours:minutes, "
                "such as 4:30.",
                code="invalid",
            )
        return minutes

    def validate(self, value: int | None) -> None:
        super().validate(value)
        if value is None:
            return
        if value < 1:
            raise ValidationError(f"A {self.what} lasts at least a minute.", code="min_value")
        if value > self.longest:
            raise ValidationError(
                f"A {self.what} lasts at most {minutes_text(self.longest)}; "
                f"{minutes_text(value)} was entered.",
                code="max_value",
            )
