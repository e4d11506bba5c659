"""`manage.py sync_calendars`: fetch every vessel's marketplace calendars now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bookings.alerts import hold_conflicts_send
from bookings.calendar_sync import sync_all


class Command(BaseCommand):
    help = (
        "Fetch every active calendar subscription (conditional GET, timeouts, size cap) and make "
        "its holds follow the feed. One line per subscription; a failure is recorded on it and "
        "the others go on. Exit status 1 when any failed. Celery beat runs the same every 15 "
        "minutes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes = sync_all()
        for outcome in outcomes:
            sub = outcome.subscription
            self.stdout.write(f"{sub.vessel.code} {sub.name}: {outcome.state}: {outcome.detail}")
        sent = hold_conflicts_send()
        failed = sum(o.state == "failed" for o in outcomes)
        self.stdout.write(
            f"{len(outcomes)} subscription(s): {len(outcomes) - failed} synced, {failed} failed; "
            f"{sent} conflict email(s) sent."
        )
        if failed:
            raise CommandError(f"{failed} subscription(s) failed (see above).")
