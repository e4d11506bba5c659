"""Celery tasks of the crew side: thin, each calling one service."""

from __future__ import annotations

from celery import shared_task

from crew import services


@shared_task(name="crew.tasks.send_reminders", acks_late=True)
def send_reminders() -> int:
    """Send the reminders that are due (beat runs this every few minutes); idempotent."""
    return services.reminders_send()
