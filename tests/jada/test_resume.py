"""`manage.py resume_pipelines` and the beat task: the sweeper, run by hand or every minute."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from jada import tasks
from jada.models import PipelineRun, StageRun
from jada.services import booking_save
from tests.factories import booking_data

pytestmark = pytest.mark.django_db


def run_command() -> str:
    out = StringIO()
    call_command("resume_pipelines", stdout=out)
    return out.getvalue()


def test_the_command_says_when_there_is_nothing_to_do(db):
    assert run_command() == "Nothing to resume.\nQueued 0 stage(s) of 0 run(s).\n"


def test_the_command_dispatches_a_run_that_never_was_and_says_so(
    dock, roster, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        booking = booking_save(data=booking_data(dock), via="test").booking
    run = PipelineRun.objects.get(booking=booking)
    # Saved while the broker was down, long enough ago.
    PipelineRun.objects.filter(pk=run.pk).update(
        created_at=run.created_at - timedelta(seconds=settings.PIPELINE_STALE_AFTER_SECONDS + 5)
    )

    output = run_command()

    assert output.splitlines() == [
        f"run {run.pk} (booking {booking.pk}, created): crew_notify never dispatched; "
        "guest_publish never dispatched; summary never dispatched → queued 3 stage(s)",
        "Queued 3 stage(s) of 1 run(s).",
    ]
    states = dict(StageRun.objects.filter(run=run).values_list("stage", "state"))
    assert states["guest_publish"] == states["summary"] == "succeeded"
    assert run_command().startswith("Nothing to resume.")


def test_beat_runs_the_same_sweeper_every_minute(dock, roster, templates):
    schedule = settings.CELERY_BEAT_SCHEDULE["resume-pipelines"]
    assert schedule == {"task": "jada.tasks.resume_pipelines", "schedule": 60.0}
    assert tasks.resume_pipelines.name == schedule["task"]
    assert tasks.resume_pipelines.apply().get(disable_sync_subtasks=False) == 0
