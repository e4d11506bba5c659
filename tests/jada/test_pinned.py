"""Small guarantees of the intake and the pipeline, each pinned so that breaking it fails here."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from bookings.models import Booking
from crew.models import Assignment
from jada import pipeline
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.services import booking_save
from tests.factories import booking_data
from tests.jada.intake_support import new_token, post, write_up

pytestmark = pytest.mark.django_db


def test_a_fractional_duration_is_a_shift_of_that_many_minutes(client, dock, roster, templates):
    body = write_up(
        duration_hours=2.5,
        crew_assignments=[
            {"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 1.5},
            {"crew_id": "CREW_002", "role": "deckhand", "duration_hours": 0.25},
        ],
    )
    response = post(client, body, token=new_token())

    assert response.status_code == 201, response.content
    shifts = dict(
        Assignment.objects.filter(event__booking_id=response.json()["id"]).values_list(
            "member__code", "shift_minutes"
        )
    )
    assert Booking.objects.get(pk=response.json()["id"]).duration_minutes == 150
    assert shifts["CREW_001"] == 90
    assert shifts["CREW_002"] == 15


def transient(stage):
    raise ConnectionResetError(104, "Connection reset by peer")


def test_a_stage_failing_transiently_at_exactly_the_last_attempt_is_left_to_the_operator(
    dock, roster, templates, settings
):
    settings.PIPELINE_MAX_ATTEMPTS = 4
    booking = booking_save(data=booking_data(dock), via="test").booking
    row = StageRun.objects.get(run__booking=booking, stage=Stage.GUEST_PUBLISH)
    # Its siblings are done: only this stage could be due.
    StageRun.objects.filter(run=row.run_id).exclude(pk=row.pk).update(state=StageState.SUCCEEDED)
    PipelineRun.objects.filter(pk=row.run_id).update(dispatched_at=timezone.now())

    # The attempt before the last still gets a sweeper retry...
    StageRun.objects.filter(pk=row.pk).update(attempts=2)
    pipeline.stage_execute(stage_run_id=row.pk, fn=transient)
    row.refresh_from_db()
    assert row.attempts == 3 and row.next_attempt_at is not None

    # ... the last one, failing the same way, does not.
    StageRun.objects.filter(pk=row.pk).update(state=StageState.PENDING)
    outcome = pipeline.stage_execute(stage_run_id=row.pk, fn=transient, retries=None)
    row.refresh_from_db()
    assert row.attempts == 4
    assert (outcome.state, outcome.retry_in) == (StageState.FAILED, None)
    assert (row.state, row.next_attempt_at) == (StageState.FAILED, None)
    later = timezone.now() + timedelta(days=30)
    assert pipeline.resume(now=later) == 0
    row.refresh_from_db()
    assert (row.state, row.attempts) == (StageState.FAILED, 4)
    assert booking.pk in set(pipeline.needs_attention_booking_ids())


def test_the_sweeper_requeues_only_the_stages_that_are_due(dock, roster, templates):
    booking = booking_save(data=booking_data(dock), via="test").booking
    run = PipelineRun.objects.get(booking=booking)
    now = timezone.now()
    PipelineRun.objects.filter(pk=run.pk).update(dispatched_at=now - timedelta(hours=2))
    stages = StageRun.objects.filter(run=run)
    # Crew: its retry was due an hour ago. Guest: its own retry is scheduled in ten minutes.
    stages.filter(stage=Stage.CREW_NOTIFY).update(
        state=StageState.FAILED, attempts=6, next_attempt_at=now - timedelta(hours=1)
    )
    guest_retry_at = now + timedelta(minutes=10)
    stages.filter(stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, attempts=2, next_attempt_at=guest_retry_at, last_error="slow"
    )
    stages.filter(stage=Stage.SUMMARY).update(state=StageState.SUCCEEDED, attempts=1)
    lines: list[str] = []

    assert pipeline.resume(now=now, report=lines.append) == 1

    crew = stages.get(stage=Stage.CREW_NOTIFY)
    guest = stages.get(stage=Stage.GUEST_PUBLISH)
    assert (crew.state, crew.attempts) == (StageState.SUCCEEDED, 7)
    assert (guest.state, guest.attempts) == (StageState.FAILED, 2)
    assert (guest.next_attempt_at, guest.last_error) == (guest_retry_at, "slow")
    assert [line for line in lines if "guest_publish" in line] == []


SECRET = "whsec-pinned-0123456789abcdef0123456789"


@pytest.fixture
def hook(settings) -> Iterator[list[bytes]]:
    """A webhook receiver on 127.0.0.1, configured as SUMMARY_WEBHOOK_URL; yields the bodies."""
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SUMMARY_WEBHOOK_URL = f"http://127.0.0.1:{server.server_address[1]}/hooks/jada"
    settings.SUMMARY_WEBHOOK_SECRET = SECRET
    settings.OPERATOR_EMAILS = ["operator@sailjada.com", "owner@sailjada.com"]
    try:
        yield bodies
    finally:
        server.shutdown()
        server.server_close()


def test_the_summary_webhook_is_posted_once_per_run(
    dock, roster, templates, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_save(data=booking_data(dock), via="test").booking
    run = PipelineRun.objects.get(booking=booking)
    assert pipeline.stage_states(booking.pk)["summary"] == StageState.SUCCEEDED
    assert len(hook) == 1
    summaries = [m for m in mail.outbox if "owner@sailjada.com" in m.to]
    assert len(summaries) == 1

    # The worker died after posting, before recording the stage: the sweeper runs it again.
    StageRun.objects.filter(run=run, stage=Stage.SUMMARY).update(
        state=StageState.RUNNING, started_at=timezone.now() - timedelta(hours=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.resume(now=timezone.now())
    assert pipeline.stage_states(booking.pk)["summary"] == StageState.SUCCEEDED
    assert len(hook) == 1
    assert len([m for m in mail.outbox if "owner@sailjada.com" in m.to]) == 1

    # A new run (the charter changed) has a summary of its own.
    with django_capture_on_commit_callbacks(execute=True):
        booking_save(data=booking_data(dock, guest_count=6), via="test")
    assert len(hook) == 2
