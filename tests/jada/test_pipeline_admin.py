"""The pipeline's admin: runs with their stage rows, the retry action, and the API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from jada.models import ApiToken, PipelineRun, Stage, StageRun, StageState, hash_token
from jada.services import booking_save
from tests.factories import booking_data
from tests.vessels import other_vessel

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_run(dock, roster, templates, django_capture_on_commit_callbacks) -> PipelineRun:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        booking = booking_save(data=booking_data(dock), via="test").booking
    run = PipelineRun.objects.get(booking=booking)
    StageRun.objects.filter(run=run, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, attempts=6, last_error="EndpointConnectionError: S3 unreachable"
    )
    return run


def test_a_run_shows_each_stage_with_its_state_attempts_and_error(client, alice, failed_run):
    client.force_login(alice)
    page = client.get(reverse("admin:jada_pipelinerun_change", args=[failed_run.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Guest page publish" in html and "EndpointConnectionError: S3 unreachable" in html
    assert "Crew notifications" in html and "crew email(s) sent" in html
    assert 'name="_save"' not in html  # read-only


def test_the_list_filters_runs_by_state(client, alice, failed_run, dock):
    with transaction.atomic():
        ok = booking_save(
            data=booking_data(dock, external_ref="BS-OK", vessel=other_vessel()), via="test"
        ).booking
    client.force_login(alice)
    url = reverse("admin:jada_pipelinerun_changelist")
    failed = client.get(url + "?state=failed").content.decode()
    assert f"/admin/bookings/booking/{failed_run.booking_id}/change/" in failed
    assert f"/admin/bookings/booking/{ok.pk}/change/" not in failed
    pending = client.get(url + "?state=pending").content.decode()
    assert f"/admin/bookings/booking/{ok.pk}/change/" in pending  # on_commit never ran


def test_the_retry_action_requeues_the_failed_stages(
    client, alice, failed_run, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:jada_pipelinerun_changelist"),
            {"action": "retry_failed_stages", "_selected_action": [failed_run.pk]},
            follow=True,
        )
    assert "Re-queued 1 failed stage(s)." in response.content.decode()
    stage = StageRun.objects.get(run=failed_run, stage=Stage.GUEST_PUBLISH)
    assert (stage.state, stage.attempts) == ("succeeded", 7)


def test_tokens_show_only_their_hash_and_can_be_revoked(client, alice):
    token = ApiToken.objects.create(name="dashboard", token_hash=hash_token("s3cret-token"))
    client.force_login(alice)
    url = reverse("admin:jada_apitoken_changelist")
    assert "create_api_token" in client.get(url).content.decode()
    change = client.get(reverse("admin:jada_apitoken_change", args=[token.pk])).content.decode()
    assert hash_token("s3cret-token") in change and "s3cret-token" not in change.replace(
        hash_token("s3cret-token"), ""
    )
    assert client.get(reverse("admin:jada_apitoken_add")).status_code == 403

    response = client.post(url, {"action": "revoke", "_selected_action": [token.pk]}, follow=True)
    assert "Revoked 1 token(s)." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked


def test_admin_times_carry_the_operator_zone(client, alice, failed_run):
    # Shown in TIME_ZONE (America/Los_Angeles) with its abbreviation, whatever the season.
    run = PipelineRun.objects.get(pk=failed_run.pk)
    abbreviation = timezone.localtime(run.created_at).tzname()
    assert abbreviation in ("PST", "PDT")
    client.force_login(alice)
    page = client.get(reverse("admin:jada_pipelinerun_changelist")).content.decode()
    shown = date_format(timezone.localtime(run.created_at), "DATETIME_FORMAT")
    assert shown.endswith(abbreviation) and shown in page


def test_stage_timings_read_in_minutes_and_seconds(client, alice, failed_run):
    started = timezone.now()
    StageRun.objects.filter(run=failed_run, stage=Stage.CREW_NOTIFY).update(
        started_at=started, finished_at=started + timedelta(seconds=125)
    )
    client.force_login(alice)
    html = client.get(reverse("admin:jada_pipelinerun_change", args=[failed_run.pk])).content
    assert "2 min 5 s" in html.decode()
    assert "125.0 s" not in html.decode()
