"""Honest state: a stage waiting for its next attempt is `retrying`; a recovery is reported."""

from __future__ import annotations

from datetime import timedelta

import botocore.exceptions
from django.core import mail
from django.urls import reverse

from jada import pipeline
from jada.models import PipelineRun, Stage, StageRun, StageState
from tests.factories import create


def s3_down(*args, **kwargs):
    raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9")


def summaries() -> list:
    return [m for m in mail.outbox if m.to == ["operator@sailjada.com"]]


def test_a_stage_waiting_for_its_retry_is_retrying_and_its_recovery_is_reported(
    dock, roster, templates, monkeypatch, client, alice, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("guests.services.page_upload", s3_down)
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    guest = StageRun.objects.get(run__booking=booking, stage=Stage.GUEST_PUBLISH)
    assert guest.state == StageState.RETRYING and guest.next_attempt_at is not None
    assert pipeline.stage_states(booking.pk)["guest_publish"] == "retrying"
    run = PipelineRun.objects.get(booking=booking)
    assert run.state == "retrying"

    # The summary says so: retrying, with the error and when the next attempt is.
    [first] = summaries()
    assert first.subject.endswith("created: 1 stage(s) retrying: Guest page publish")
    assert "Guest page publish: Retrying" in first.body
    assert "Error: EndpointConnectionError" in first.body
    assert "Next attempt: " in first.body and "Retry it from the admin." not in first.body
    # The admin lists the run under "Retrying", not "Failed".
    client.force_login(alice)
    changelist = reverse("admin:jada_pipelinerun_changelist")
    assert f"/{run.pk}/change/" in client.get(changelist, {"state": "retrying"}).content.decode()
    assert f"/{run.pk}/change/" not in client.get(changelist, {"state": "failed"}).content.decode()

    # S3 is back: the sweeper's retry succeeds, and the operator hears that it recovered.
    monkeypatch.undo()
    due = guest.next_attempt_at + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.resume(now=due) >= 1
    guest.refresh_from_db()
    assert (guest.state, guest.attempts) == ("succeeded", 2)
    _, note = summaries()
    assert note.subject.endswith("created: recovered: Guest page publish (all stages done)"), (
        note.subject
    )
    assert "Guest page publish: Succeeded after 2 attempts" in note.body
    assert note.message()["Message-ID"] != first.message()["Message-ID"]
    # Told once: nothing more to say.
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.resume(now=due + timedelta(hours=2)) == 0
    assert len(summaries()) == 2


def test_a_stage_out_of_attempts_is_failed_and_left_to_the_operator(
    dock, roster, templates, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.PIPELINE_MAX_ATTEMPTS = 1
    monkeypatch.setattr("guests.services.page_upload", s3_down)
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    guest = StageRun.objects.get(run__booking=booking, stage=Stage.GUEST_PUBLISH)
    assert (guest.state, guest.next_attempt_at) == ("failed", None)
    [summary] = summaries()
    assert summary.subject.endswith("created: 1 stage(s) failed: Guest page publish")
    assert "Retry it from the admin." in summary.body

    # The operator's retry works once S3 is back; the recovery is reported too.
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.retry_failed(booking.pk) == 1
    assert pipeline.stage_states(booking.pk)["guest_publish"] == "succeeded"
    assert summaries()[-1].subject.endswith("recovered: Guest page publish (all stages done)")
