"""Repeating events of a subscribed calendar (RRULE, RDATE), expanded within a bounded window.

A marketplace or an operator's own calendar may publish a repeating event ("maintenance every
Monday") instead of its instances. Only occurrences from a day ago to `FUTURE` ahead become holds.
The expansion (`recurring_ical_events`, on dateutil) walks a rule from its start, so before it
runs each series is bounded: repeating more often than daily, or so densely or from so long ago
that the walk would exceed `MAX_STEPS`, refuses the feed, as does one with more than
`MAX_OCCURRENCES` occurrences in the window. A hostile feed can neither stall the sync nor flood
the holds table; a refused feed changes nothing and its error is recorded.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import recurring_ical_events
from icalendar import Calendar, Component

PAST = timedelta(days=1)
FUTURE = timedelta(days=400)
MAX_OCCURRENCES = 2_000  # per feed, in the window
MAX_STEPS = 50_000  # per feed: occurrences the expansion may produce, from each series' start
PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}
# Rule parts that pick days inside a period: a period then holds up to its number of days.
DAY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")


class RecurrenceError(ValueError):
    """The feed's repeating events cannot be expanded safely; the message says which."""


def is_series(component: Component) -> bool:
    """A repeating event, or an instance of one moved or changed (RECURRENCE-ID)."""
    return any(name in component for name in ("rrule", "rdate", "recurrence-id"))


def _aware(value: date | datetime) -> datetime:
    # Only to bound the work: a day's error on a date or a floating time changes nothing.
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _rules(component: Component) -> list:
    rules = component.get("rrule", [])
    return rules if isinstance(rules, list) else [rules]


def _steps(component: Component, *, stop: datetime) -> int:
    """At most how many occurrences expanding this event up to `stop` produces, from its start."""
    start = _aware(component.decoded("dtstart"))
    rdates = component.get("rdate", [])
    steps = sum(len(r.dts) for r in (rdates if isinstance(rdates, list) else [rdates]))
    for rule in _rules(component):
        freq = str((rule.get("FREQ") or [""])[0]).upper()
        if freq not in PERIOD_DAYS:
            raise RecurrenceError(
                f"Event {component.get('uid')} repeats {freq.lower() or 'with no frequency'}: "
                "only daily, weekly, monthly or yearly repeats are accepted."
            )
        until = stop
        if rule.get("UNTIL"):
            until = min(stop, _aware(rule["UNTIL"][0]))
        interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
        periods = max(0, (until - start).days) // (PERIOD_DAYS[freq] * interval) + 1
        days = PERIOD_DAYS[freq] if any(part in rule for part in DAY_PARTS) else 1
        times = math.prod(len(rule[part]) for part in TIME_PARTS if part in rule)
        steps += periods * days * times
    return steps


def occurrences(calendar: Calendar, *, now: datetime) -> Iterator[tuple[str, Component]]:
    """(uid of the occurrence, its event) for every occurrence of a series in the window.

    The uid is the series' own with the occurrence's original start: it stays the same when the
    marketplace moves that one occurrence, so its hold moves rather than being replaced.
    """
    since, stop = now - PAST, now + FUTURE
    steps = 0
    kept = []
    for component in calendar.subcomponents:
        if component.name == "VEVENT" and not is_series(component):
            continue  # single events are read as they are, whatever their date
        if component.name == "VEVENT" and "recurrence-id" not in component:
            steps += _steps(component, stop=stop)
            if steps > MAX_STEPS:
                raise RecurrenceError(
                    f"The feed's repeating events are too many or too frequent to expand "
                    f"(more than {MAX_STEPS} occurrences from their starts)."
                )
        kept.append(component)
    if not any(component.name == "VEVENT" for component in kept):
        return  # no repeating event: the expansion has nothing to do
    series = Calendar()
    series.update(calendar)  # the calendar's properties (X-WR-TIMEZONE) without its events
    series.subcomponents = kept
    found = recurring_ical_events.of(series).between(since, stop)
    if len(found) > MAX_OCCURRENCES:
        raise RecurrenceError(
            f"The feed's repeating events have {len(found)} occurrences in the next "
            f"{FUTURE.days} days, more than {MAX_OCCURRENCES}."
        )
    for event in found:
        # The expansion names each occurrence by its original start, as a moved one is named.
        original = event.decoded("recurrence-id" if "recurrence-id" in event else "dtstart")
        yield f"{str(event.get('uid', '')).strip()[:450]}#{original.isoformat()}", event
