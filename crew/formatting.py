"""How crew read times: in the operator's zone, with the zone named."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings


@lru_cache(maxsize=8)
def _zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    """The operator's zone, looked up once per name (settings may change it in tests)."""
    return _zone_named(settings.TIME_ZONE_NAME)


def local(value: datetime) -> datetime:
    return value.astimezone(zone())


def date_text(value: datetime) -> str:
    """'Thu 30 May 2030' in the operator's zone."""
    return f"{local(value):%a %-d %b %Y}"


def time_text(value: datetime) -> str:
    """'9:00 AM PDT' in the operator's zone."""
    return f"{local(value):%-I:%M %p %Z}"


def when_text(value: datetime) -> str:
    """'Thu 30 May 2030, 9:00 AM PDT (America/Los_Angeles)': the zone always named."""
    return f"{date_text(value)}, {time_text(value)} ({settings.TIME_ZONE_NAME})"


def minutes_text(minutes: int) -> str:
    """'5 h', '4 h 30 min', '45 min'."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"
