"""The pipeline in eager mode: stages, retries, the sweeper, the operator's retry, changes."""

from __future__ import annotations

import smtplib
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import botocore.exceptions
import pytest
import requests
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking, Status
from crew.models import Assignment, ChecklistItem
from guests.models import GuestPage
from guests.storage import page_read
from jada import pipeline
from jada.celery import app as celery_app
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.services import booking_save
from tests.factories import SAME_SHIFT_PLAN, booking_data, create
from tests.workers import forget_connections

pytestmark = pytest.mark.django_db

PLAN = SAME_SHIFT_PLAN
OUTSIDE = ("crew_notify", "guest_publish", "summary")
RECORDED_SUCCESS = """UPDATE "jada_stagerun" SET "state" = 'succeeded'"""


def change(dock, **overrides):
    return booking_save(data=booking_data(dock, **overrides), via="test")


def states(booking: Booking) -> dict[str, str]:
    return pipeline.stage_states(booking.pk)


def outbox(roster) -> dict[str, list]:
    """The emails sent so far, by audience."""
    crew = {m.email for m in roster.values()}
    operators = set(django_settings.OPERATOR_EMAILS)
    kinds: dict[str, list] = {"crew": [], "guest": [], "operator": []}
    for message in mail.outbox:
        to = set(message.to)
        kinds["crew" if to <= crew else "operator" if to <= operators else "guest"].append(message)
    return kinds


def ics(message) -> str:
    return next(body for _, body, kind in message.attachments if kind.startswith("text/calendar"))


@pytest.fixture
def ready(dock, roster, templates):
    """The write-up's dock, roster and checklist templates."""


# --- A booking goes through every stage ---------------------------------------------------------


def test_a_new_booking_runs_every_stage_and_tells_everyone(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)

    assert states(booking) == {
        "booking": "succeeded",
        "crew_event": "succeeded",
        "checklist": "succeeded",
        "crew_notify": "succeeded",
        "guest_publish": "succeeded",
        "summary": "succeeded",
    }
    run = PipelineRun.objects.get(booking=booking)
    assert run.dispatched_at is not None and run.finished_at is not None
    assert run.state == StageState.SUCCEEDED
    kinds = outbox(roster)
    assert len(kinds["crew"]) == 3 and len(kinds["guest"]) == 1 and len(kinds["operator"]) == 1
    crew_stage = run.stages.get(stage=Stage.CREW_NOTIFY)
    assert (crew_stage.attempts, crew_stage.detail) == (1, "3 crew email(s) sent")
    assert "page uploaded" in run.stages.get(stage=Stage.GUEST_PUBLISH).detail


def test_running_a_stage_again_sends_nothing_twice(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    """Redelivery: the same stage row run again is skipped; a fresh row finds nothing to send."""
    from jada import tasks

    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    sent = len(mail.outbox)
    crew_row = StageRun.objects.get(run__booking=booking, stage=Stage.CREW_NOTIFY)
    summary_row = StageRun.objects.get(run__booking=booking, stage=Stage.SUMMARY)

    assert (
        tasks.run_stage.apply(args=[crew_row.pk]).get(disable_sync_subtasks=False)
        == StageState.SUCCEEDED
    )
    assert (
        tasks.run_stage.apply(args=[summary_row.pk]).get(disable_sync_subtasks=False)
        == StageState.SUCCEEDED
    )
    assert len(mail.outbox) == sent
    crew_row.refresh_from_db()
    assert crew_row.attempts == 1
    # Even reset to pending (as the operator's retry does), the service itself sends nothing.
    StageRun.objects.filter(pk=crew_row.pk).update(state=StageState.PENDING)
    tasks.run_stage.apply(args=[crew_row.pk])
    assert len(mail.outbox) == sent
    crew_row.refresh_from_db()
    assert (crew_row.state, crew_row.attempts, crew_row.detail) == (
        "succeeded",
        2,
        "0 crew email(s) sent",
    )


# --- Changes and cancellations reach everyone they concern --------------------------------------


def test_a_new_time_sends_changed_emails_and_republishes_the_guest_page(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    page = GuestPage.objects.get(booking_id=booking.pk)
    before = (page.published_hash, page_read(page.object_name))
    mail.outbox.clear()

    later = datetime(2030, 5, 30, 18, 30, tzinfo=UTC)  # 11:30 AM PDT instead of 9:00
    with django_capture_on_commit_callbacks(execute=True):
        change(dock, starts_at=later)

    run = pipeline.latest_run(booking.pk)
    assert run.reason == "changed" and "starts_at" in run.changed
    assert states(booking)["crew_notify"] == states(booking)["guest_publish"] == "succeeded"
    kinds = outbox(roster)
    assert len(kinds["crew"]) == 3
    assert all(m.subject.startswith("Changed:") for m in kinds["crew"])
    assert all("SEQUENCE:2" in ics(m) and "METHOD:REQUEST" in ics(m) for m in kinds["crew"])
    assert all("11:30" in m.body for m in kinds["crew"])
    page.refresh_from_db()
    html = page_read(page.object_name).decode()
    assert page.published_hash != before[0] and "11:30" in html and "9:00" not in html
    assert len(kinds["guest"]) == 1 and len(kinds["operator"]) == 1


def test_a_new_dock_reaches_crew_and_guests(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    from bookings.models import Dock

    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    mail.outbox.clear()
    marina = Dock.objects.create(name="Harbor Island West Marina", address="2040 Harbor Island Dr")

    with django_capture_on_commit_callbacks(execute=True):
        change(marina)  # booking_data's first argument is the dock

    kinds = outbox(roster)
    assert len(kinds["crew"]) == 3 and all("Harbor Island West" in m.body for m in kinds["crew"])
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert "Harbor Island West Marina" in page_read(page.object_name).decode()
    assert len(kinds["guest"]) == 1


def test_a_new_guest_count_updates_checklists_and_the_guest_page(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    live = ChecklistItem.objects.filter(assignment__event__booking_id=booking.pk, obsolete=False)
    assert set(live.filter(text__startswith="Brief").values_list("text", flat=True)) == {
        "Brief 4 guests"
    }

    with django_capture_on_commit_callbacks(execute=True):
        change(dock, guest_count=9)

    assert set(live.filter(text__startswith="Brief").values_list("text", flat=True)) == {
        "Brief 9 guests"
    }
    assert states(booking)["guest_publish"] == "succeeded"
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert "your party of 9" in page_read(page.object_name).decode()


def test_a_money_only_change_runs_no_stage_at_all(
    dock, roster, ready, s3_guest_storage, moto_requests, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    assert [r.method for r in moto_requests if r.service == "s3"] == ["PUT"]
    mail.outbox.clear()
    moto_requests.clear()
    runs = PipelineRun.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = change(dock, gross_revenue=Decimal("990.00"), crew_cost=Decimal("275.00"))

    assert result.money_changed and not result.changed
    assert PipelineRun.objects.count() == runs
    assert callbacks == []
    assert mail.outbox == []
    assert [r for r in moto_requests if r.service in {"s3", "cloudfront"}] == []
    assert (
        booking.financials.net_revenue != Booking.objects.get(pk=booking.pk).financials.net_revenue
    )


def test_a_cancellation_cancels_crew_invitations_and_the_guest_page_says_so(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        change(dock, status=Status.CANCELLED)

    run = pipeline.latest_run(booking.pk)
    assert run.reason == "cancelled"
    kinds = outbox(roster)
    assert len(kinds["crew"]) == 3
    assert all("METHOD:CANCEL" in ics(m) and "STATUS:CANCELLED" in ics(m) for m in kinds["crew"])
    page = GuestPage.objects.get(booking_id=booking.pk)
    html = page_read(page.object_name).decode()
    assert "<title>Cancelled:" in html
    assert len(kinds["guest"]) == 1 and "cancel" in kinds["guest"][0].subject.lower()
    summary = kinds["operator"][0]
    assert "cancelled" in summary.subject and "Cancelled" in summary.body
    # The crew cannot tick anything on a cancelled charter.
    assert not Assignment.objects.filter(event__booking_id=booking.pk, event__status="scheduled")


# --- How a stage fails ----------------------------------------------------------------------------


def smtp_down(*args, **kwargs):
    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_transient_failure_is_recorded_and_left_to_the_sweeper_in_eager_mode(
    dock, roster, ready, monkeypatch, django_capture_on_commit_callbacks
):
    """Eager mode never retries in-process: the request is not held up by an outage."""
    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", smtp_down)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    assert time.monotonic() - started < 5

    crew = StageRun.objects.get(run__booking=booking, stage=Stage.CREW_NOTIFY)
    guest = StageRun.objects.get(run__booking=booking, stage=Stage.GUEST_PUBLISH)
    summary = StageRun.objects.get(run__booking=booking, stage=Stage.SUMMARY)
    # Waiting for its next attempt: retrying, not failed (nothing for the operator yet).
    assert (crew.state, crew.attempts) == ("retrying", 1)
    assert crew.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    # The sweeper's longer backoff: 7.5 to 15 minutes after the first attempt.
    assert timedelta(minutes=7) < crew.next_attempt_at - crew.finished_at <= timedelta(minutes=15)
    # The guest page was uploaded before the email failed; one failing stage stops no other.
    assert guest.state == "retrying" and "page uploaded" not in guest.detail
    assert GuestPage.objects.get(booking_id=booking.pk).published_hash
    assert summary.state == "retrying"  # the summary email could not go out either
    assert booking.pk in set(pipeline.needs_attention_booking_ids())

    monkeypatch.undo()
    resumed = pipeline.resume(now=crew.next_attempt_at + timedelta(minutes=20))
    assert resumed == 3
    assert states(booking)["crew_notify"] == states(booking)["guest_publish"] == "succeeded"
    assert states(booking)["summary"] == "succeeded"
    assert len(outbox(roster)["crew"]) == 3 and len(outbox(roster)["operator"]) == 1
    assert booking.pk not in set(pipeline.needs_attention_booking_ids())


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (smtplib.SMTPServerDisconnected("closed"), True),
        (smtplib.SMTPResponseException(451, b"try later"), True),
        (smtplib.SMTPResponseException(554, b"rejected"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no such user")}), False),
        (ConnectionRefusedError(111, "refused"), True),
        (TimeoutError("timed out"), True),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True),
        (
            botocore.exceptions.ClientError(
                {"Error": {"Code": "TooManyInvalidationsInProgress"}}, "CreateInvalidation"
            ),
            True,
        ),
        (
            botocore.exceptions.ClientError(
                {"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}},
                "PutObject",
            ),
            True,
        ),
        (
            botocore.exceptions.ClientError(
                {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
                "PutObject",
            ),
            False,
        ),
        (requests.Timeout("read timed out"), True),
        (requests.ConnectionError("refused"), True),
        (ValueError("bad data"), False),
        (Booking.DoesNotExist("gone"), False),
        (LookupError("no crew event"), False),
    ],
)
def test_transient_errors_are_told_from_permanent_ones(error, transient):
    assert pipeline.is_transient(error) is transient


def test_http_errors_are_transient_only_when_the_server_is_at_fault():
    def http_error(status: int) -> requests.HTTPError:
        response = requests.Response()
        response.status_code = status
        return requests.HTTPError(f"{status}", response=response)

    assert pipeline.is_transient(http_error(503)) and pipeline.is_transient(http_error(429))
    assert not pipeline.is_transient(http_error(400)) and not pipeline.is_transient(http_error(404))


def test_a_permanent_failure_is_not_retried_but_left_to_the_operator(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    row = StageRun.objects.get(run__booking=booking, stage=Stage.GUEST_PUBLISH)
    StageRun.objects.filter(pk=row.pk).update(state=StageState.PENDING)

    def broken(stage):
        raise ValueError("the page template is broken")

    outcome = pipeline.stage_execute(stage_run_id=row.pk, fn=broken, retries=0)
    row.refresh_from_db()
    assert outcome.state == "failed" and outcome.retry_in is None
    assert (row.state, row.next_attempt_at) == ("failed", None)
    assert row.last_error == "ValueError: the page template is broken"
    assert pipeline.resume(now=timezone.now() + timedelta(days=2)) == 0
    assert booking.pk in set(pipeline.needs_attention_booking_ids())


def test_a_transient_failure_asks_the_task_to_retry_with_growing_jittered_backoff(
    dock, roster, ready, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    row = StageRun.objects.get(run__booking=booking, stage=Stage.GUEST_PUBLISH)

    def unreachable(stage):
        raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    waits = []
    for retries in range(pipeline.task_retries() + 1):
        StageRun.objects.filter(pk=row.pk).update(state=StageState.PENDING)
        outcome = pipeline.stage_execute(stage_run_id=row.pk, fn=unreachable, retries=retries)
        row.refresh_from_db()
        waits.append(outcome.retry_in)
        if outcome.retry_in is not None:
            delay = (row.next_attempt_at - row.finished_at).total_seconds()
            assert delay == pytest.approx(outcome.retry_in, abs=0.01)
    # 10·2^n seconds with equal jitter (half to all of it), then the task gives up.
    assert waits[-1] is None
    for n, wait in enumerate(waits[:-1]):
        assert 10 * 2**n / 2 <= wait <= 10 * 2**n
    assert row.attempts == 7 and row.state == "retrying"
    assert row.next_attempt_at - row.finished_at > timedelta(minutes=7)  # the sweeper's turn


def test_a_stage_run_by_another_worker_is_not_run_again(dock, roster, ready):
    with transaction.atomic():
        booking = booking_save(data=booking_data(dock), via="test").booking
    row = StageRun.objects.get(run__booking=booking, stage=Stage.CREW_NOTIFY)
    StageRun.objects.filter(pk=row.pk).update(state=StageState.RUNNING, started_at=timezone.now())
    calls = []
    outcome = pipeline.stage_execute(stage_run_id=row.pk, fn=calls.append)
    assert (outcome.ran, outcome.state, calls) == (False, "running", [])


def test_claiming_a_stage_reopens_a_settled_run_and_leaves_an_open_one_unwritten(
    dock, roster, ready
):
    with transaction.atomic():
        booking = booking_save(data=booking_data(dock), via="test").booking
    crew, guest = (
        StageRun.objects.get(run__booking=booking, stage=stage)
        for stage in (Stage.CREW_NOTIFY, Stage.GUEST_PUBLISH)
    )
    settled_at = timezone.now() - timedelta(minutes=1)
    PipelineRun.objects.filter(pk=crew.run_id).update(finished_at=settled_at)
    seen: list[datetime | None] = []

    def note(stage):
        seen.append(PipelineRun.objects.get(pk=stage.run_id).finished_at)

    pipeline.stage_execute(stage_run_id=crew.pk, fn=note)
    assert seen == [None]  # reopened while the stage ran
    # The run is open now (the guest stage is pending): claiming its sibling matches no run row
    # (the reopening names settled runs only), so the two parallel stages of a run never wait
    # on each other's claim for its row's lock.
    with CaptureQueriesContext(connection) as captured:
        pipeline.stage_execute(stage_run_id=guest.pk, fn=note)
    assert seen == [None, None]
    reopenings = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('UPDATE "jada_pipelinerun" SET "finished_at" = NULL')
    ]
    assert reopenings and all('"finished_at" IS NOT NULL' in sql for sql in reopenings)


def test_a_stage_s_success_is_recorded_with_one_read_of_its_run(dock, roster, ready):
    with transaction.atomic():
        booking = booking_save(data=booking_data(dock), via="test").booking
    rows = {
        row.stage: row for row in StageRun.objects.filter(run__booking=booking, stage__in=OUTSIDE)
    }
    for stage in OUTSIDE:
        with CaptureQueriesContext(connection) as captured:
            outcome = pipeline.stage_execute(stage_run_id=rows[stage].pk, fn=lambda row: "done")
        assert outcome.state == "succeeded"
        sql = [q["sql"] for q in captured.captured_queries]
        done = next(i for i, q in enumerate(sql) if q.startswith(RECORDED_SUCCESS))
        after = sql[done + 1 :]
        # What the last summary told and whether any stage is open, in one statement; then the
        # run's finish, once its last stage is done.
        [read] = [q for q in after if q.startswith("SELECT")]
        # The summary's own success has nothing to tell again: whether a stage is open, alone.
        assert ("summary_states" in read) == (stage != "summary")
        finished = [q for q in after if q.startswith('UPDATE "jada_pipelinerun"')]
        assert len(finished) == (stage == "summary")
    run = PipelineRun.objects.get(booking=booking)
    assert run.finished_at is not None


# --- The broker is down when the booking is saved -----------------------------------------------


@pytest.fixture
def broker_down(settings):
    """Tasks go to a broker on a closed port, as when Redis is down."""
    saved = {k: celery_app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    url = "redis://127.0.0.1:9/0"
    celery_app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    forget_connections(celery_app)
    yield url
    celery_app.conf.update(saved)
    forget_connections(celery_app)


def test_the_api_answers_201_quickly_when_the_broker_is_down(
    client, dock, roster, ready, broker_down, django_capture_on_commit_callbacks, caplog
):
    from tests.jada.intake_support import new_token, post, write_up

    token = new_token()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, write_up(), token=token)
    elapsed = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert elapsed < 3, f"the API waited {elapsed:.1f} s for a dead broker"
    run = PipelineRun.objects.get()
    assert run.dispatched_at is None
    assert {s.stage: s.state for s in run.stages.all() if s.stage in OUTSIDE} == dict.fromkeys(
        OUTSIDE, "pending"
    )
    assert "broker unreachable" in caplog.text
    # Not yet stale; later the booking needs attention until the sweeper gets through.
    assert run.booking_id not in set(pipeline.needs_attention_booking_ids())
    later = timezone.now() + timedelta(minutes=5)
    assert run.booking_id in set(pipeline.needs_attention_booking_ids(now=later))
    # The sweeper cannot get through either, and says so.
    lines = []
    assert pipeline.resume(now=later, report=lines.append) == 0
    assert "never dispatched" in lines[0] and "broker unreachable" in lines[0]


def test_the_sweeper_dispatches_a_run_saved_while_the_broker_was_down(
    dock, roster, ready, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        booking = create(dock)  # the on-commit dispatch never happens
    run = PipelineRun.objects.get(booking=booking)
    assert mail.outbox == []

    assert pipeline.resume() == 0  # too fresh: the on-commit dispatch may still be on its way
    lines = []
    stale = timezone.now() + timedelta(seconds=settings.PIPELINE_STALE_AFTER_SECONDS + 1)
    assert pipeline.resume(now=stale, report=lines.append) == 3

    assert lines == [
        f"run {run.pk} (booking {booking.pk}, created): crew_notify never dispatched; "
        "guest_publish never dispatched; summary never dispatched → queued 3 stage(s)"
    ]
    assert set(states(booking).values()) == {"succeeded"}
    assert len(outbox(roster)["crew"]) == 3
    assert pipeline.resume(now=stale) == 0  # nothing left


# --- The sweeper's other cases -------------------------------------------------------------------


def test_the_sweeper_takes_back_a_stage_stuck_running(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        booking = create(dock)
    run = PipelineRun.objects.get(booking=booking)
    now = timezone.now()
    PipelineRun.objects.filter(pk=run.pk).update(dispatched_at=now)
    StageRun.objects.filter(run=run, stage__in=OUTSIDE).update(
        state=StageState.RUNNING, started_at=now, attempts=1
    )
    assert pipeline.resume(now=now + timedelta(minutes=4)) == 0  # still plausibly running

    # PIPELINE_STUCK_AFTER_SECONDS (5 minutes): a lost stage comes back in minutes.
    assert pipeline.resume(now=now + timedelta(minutes=6)) == 3
    crew = run.stages.get(stage=Stage.CREW_NOTIFY)
    assert (crew.state, crew.attempts) == ("succeeded", 2)
    assert crew.last_error.startswith("stuck running since")
    assert len(outbox(roster)["crew"]) == 3


def test_the_summary_waits_for_a_stage_that_is_still_retrying(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        booking = create(dock)
    run = PipelineRun.objects.get(booking=booking)
    now = timezone.now()
    PipelineRun.objects.filter(pk=run.pk).update(dispatched_at=now - timedelta(minutes=10))
    StageRun.objects.filter(run=run, stage=Stage.CREW_NOTIFY).update(state=StageState.SUCCEEDED)
    StageRun.objects.filter(run=run, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, attempts=3, next_attempt_at=now + timedelta(seconds=40)
    )
    # The guest stage's task retries in 40 s; the chord then sends the summary.
    assert pipeline.resume(now=now) == 0
    assert states(booking)["summary"] == "pending"
    # Had the retry been lost, the sweeper queues both, the summary after the guest stage.
    assert pipeline.resume(now=now + timedelta(minutes=5)) == 2
    assert states(booking)["guest_publish"] == states(booking)["summary"] == "succeeded"
    summary = outbox(roster)["operator"][0]
    assert "Guest page publish: Succeeded after 4 attempts" in summary.body


def test_a_later_run_supersedes_a_failed_stage_of_an_earlier_one(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    first = PipelineRun.objects.get(booking=booking)
    StageRun.objects.filter(run=first, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, last_error="S3 down", next_attempt_at=timezone.now()
    )
    assert booking.pk in set(pipeline.needs_attention_booking_ids())

    with django_capture_on_commit_callbacks(execute=True):
        change(dock, guest_count=6)  # re-publishes the page in a new run

    assert booking.pk not in set(pipeline.needs_attention_booking_ids())
    lines = []
    assert pipeline.resume(now=timezone.now() + timedelta(hours=1), report=lines.append) == 0
    old = first.stages.get(stage=Stage.GUEST_PUBLISH)
    assert (old.state, old.detail, old.next_attempt_at) == (
        "failed",
        f"superseded by run {pipeline.latest_run(booking.pk).pk}",
        None,
    )
    assert "guest_publish retry due, superseded" in lines[0]


def test_a_later_run_that_skips_the_stage_does_not_hide_its_failure(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    first = PipelineRun.objects.get(booking=booking)
    StageRun.objects.filter(run=first, stage=Stage.GUEST_PUBLISH).update(state=StageState.FAILED)

    with django_capture_on_commit_callbacks(execute=True):
        change(dock, notes="Bring the birthday cake aboard")  # crew only; guest page unchanged

    assert states(booking)["guest_publish"] == "skipped"
    assert booking.pk in set(pipeline.needs_attention_booking_ids())


# --- The operator's retry ------------------------------------------------------------------------


def test_retry_failed_requeues_the_failed_stages_of_a_booking(
    dock, roster, ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    other = create(dock, external_ref="BS-OTHER", starts_at=datetime(2030, 6, 2, 16, tzinfo=UTC))
    StageRun.objects.filter(run__booking=booking, stage=Stage.CREW_NOTIFY).update(
        state=StageState.FAILED, last_error="SMTP down"
    )
    StageRun.objects.filter(run__booking=other, stage=Stage.CREW_NOTIFY).update(
        state=StageState.FAILED, last_error="SMTP down"
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.retry_failed(booking.pk) == 1

    row = StageRun.objects.get(run__booking=booking, stage=Stage.CREW_NOTIFY)
    assert (row.state, row.last_error) == ("succeeded", "SMTP down")
    assert row.detail == "0 crew email(s) sent"  # the crew had been told already
    assert mail.outbox == []  # and the run's summary had gone out already
    assert states(other)["crew_notify"] == "failed"
    assert pipeline.retry_failed(booking.pk) == 0


def test_backoffs_are_jittered_so_a_burst_of_retries_spreads_out():
    # Equal jitter: each wait is drawn from [half, all] of 10·2^n s; a burst must not retry as one.
    for retry in range(pipeline.task_retries()):
        full = 10 * 2**retry
        waits = {round(pipeline.task_backoff(retry), 3) for _ in range(50)}
        assert len(waits) > 1
        assert all(full / 2 <= wait <= full for wait in waits)
    sweeps = {round(pipeline.sweep_backoff(12), 1) for _ in range(50)}
    assert len(sweeps) > 1 and all(15 * 60 <= s <= 30 * 60 for s in sweeps)


def test_stage_messages_are_acknowledged_only_once_a_stage_has_run():
    # A worker that dies mid-stage leaves its message to be redelivered, not lost.
    from jada import tasks

    assert all(task.acks_late for task in [tasks.run_stage, tasks.resume_pipelines])
    assert celery_app.conf.task_reject_on_worker_lost is True
    assert celery_app.conf.worker_prefetch_multiplier == 1


def test_stage_states_are_the_latest_runs_in_one_read(
    dock, roster, templates, django_assert_num_queries
):
    booking = create(dock)
    first = PipelineRun.objects.get(booking=booking)
    pipeline.start(booking.pk, changed={"guest_count"})
    latest = PipelineRun.objects.exclude(pk=first.pk).get(booking=booking)
    StageRun.objects.filter(run=latest, stage=Stage.SUMMARY).update(state=StageState.FAILED)
    with django_assert_num_queries(1):
        states = pipeline.stage_states(booking.pk)
    assert states == {s.stage: s.state for s in latest.stages.order_by("pk")}
    assert states[Stage.SUMMARY] == StageState.FAILED
    assert list(states) == [s.stage for s in latest.stages.order_by("pk")]  # the run's order
