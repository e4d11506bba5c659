"""`manage.py resume_pipelines`: run the pipeline sweeper once and print what it did."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from jada import pipeline


class Command(BaseCommand):
    help = (
        "Queue pipeline runs that were never dispatched (the broker was down when the booking "
        "was saved), failed stages whose retry is due, and stages stuck in 'running'. Celery "
        "beat runs the same sweeper every minute (jada.tasks.resume_pipelines)."
    )

    def handle(self, *args, **options) -> None:
        lines: list[str] = []
        queued = pipeline.resume(report=lines.append)
        for line in lines:
            self.stdout.write(line)
        if not lines:
            self.stdout.write("Nothing to resume.")
        self.stdout.write(f"Queued {queued} stage(s) of {len(lines)} run(s).")
