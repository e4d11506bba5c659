"""Celery tasks of the fleet: the calendar sync (beat, every 15 minutes) and conflict emails."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="bookings.tasks.sync_calendars")
def sync_calendars() -> dict[str, int]:
    """Fetch every active calendar subscription; returns how many ended in each state."""
    from bookings.calendar_sync import sync_all

    counts: dict[str, int] = {}
    for outcome in sync_all():
        counts[outcome.state] = counts.get(outcome.state, 0) + 1
    send_hold_conflict_alerts.delay()
    return counts


@shared_task(name="bookings.tasks.send_hold_conflict_alerts")
def send_hold_conflict_alerts() -> int:
    from bookings.alerts import hold_conflicts_send

    return hold_conflicts_send()
