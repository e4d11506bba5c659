"""Half-open time intervals by key, for overlap questions asked many times over one read."""

from __future__ import annotations

import bisect
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Any


class Intervals:
    """Intervals [start, end) grouped by key (a vessel, a crew member), each with a payload.

    Kept sorted by start, so "which overlap [start, end)?" looks only at intervals starting
    within the longest interval's length of it, however many there are.
    """

    def __init__(self) -> None:
        self._starts: dict[Hashable, list[datetime]] = {}
        self._items: dict[Hashable, list[tuple[datetime, Any]]] = {}
        self._longest: dict[Hashable, timedelta] = {}

    def add(self, key: Hashable, start: datetime, end: datetime, payload: Any) -> None:
        starts = self._starts.setdefault(key, [])
        at = bisect.bisect_right(starts, start)
        starts.insert(at, start)
        self._items.setdefault(key, []).insert(at, (end, payload))
        self._longest[key] = max(self._longest.get(key, timedelta(0)), end - start)

    def overlapping(self, key: Hashable, start: datetime, end: datetime) -> list[Any]:
        """Payloads of the intervals of `key` that overlap [start, end), by start."""
        starts = self._starts.get(key)
        if not starts:
            return []
        low = bisect.bisect_right(starts, start - self._longest[key])
        high = bisect.bisect_left(starts, end)
        return [payload for until, payload in self._items[key][low:high] if until > start]
