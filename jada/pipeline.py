"""The one place that knows every stage of a booking's pipeline.

`start()` runs inside the transaction that saved the booking: it builds the crew event and
checklists, makes sure the guest page record exists, and records a PipelineRun with one row per
stage. The outside-world stages (crew emails, guest page publish, summary) are queued on commit
by `dispatch()`: crew and guest in parallel, then the summary (a Celery chord, jada/tasks.py).

Retries, as decided here:
* A transient error (SMTP, the network, S3 or CloudFront throttling and 5xx, a webhook timeout
  or 5xx, a database lock) is retried by the stage's task itself, PIPELINE_TASK_RETRIES (5)
  times with exponential backoff and jitter: about 10, 20, 40, 80 and 160 s. Meanwhile the stage
  shows `failed` with its error and `next_attempt_at`.
* When those are used up the sweeper takes over: it queues the stage again after a longer
  backoff (15 min, doubling, at most 6 h) until the stage has had PIPELINE_MAX_ATTEMPTS (30)
  attempts; after that only the operator retries it (admin action "retry failed stages").
* A permanent error (anything else: an address refused for good, a 4xx answer, a missing crew
  event, a bug) fails the stage at once; only the operator retries it.
* In eager mode (no broker) a task never retries in-process, so a request is never held up by
  an outage: the failed stage waits for `manage.py resume_pipelines` or the operator.
* The sweeper (`resume()`: the beat task every minute and `manage.py resume_pipelines`) also
  queues runs never dispatched (the broker was down at save time) and takes back stages left
  `running` by a worker that died.
"""

from __future__ import annotations

import logging
import random
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import botocore.exceptions
import kombu.exceptions
import redis.exceptions
import requests
from django import db
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from bookings.selectors import booking_operational
from crew.selectors import event_id_for_booking
from crew.services import PlannedAssignment, crew_event_sync, crew_notify
from guests.services import guest_notify, guest_page_ensure, guest_page_publish
from jada.models import PARALLEL_STAGES, PipelineRun, Stage, StageRun, StageState

logger = logging.getLogger(__name__)

# Booking fields the guest page shows; a change to any of them re-publishes it.
GUEST_FIELDS = frozenset(
    {"guest_name", "guest_email", "guest_count", "starts_at", "duration_minutes", "dock", "status"}
)


def start(
    booking_id: int,
    *,
    changed: Iterable[str] = (),
    created: bool = False,
    crew_plan: Sequence[PlannedAssignment] | None = None,
    reason: str | None = None,
) -> PipelineRun:
    """Record the database stages now and queue the outside-world stages after commit."""
    changed = frozenset(changed)
    with transaction.atomic():
        booking = booking_operational(booking_id)
        crew = crew_event_sync(booking=booking, plan=crew_plan)
        guest_page_ensure(booking=booking)
        guest_needed = created or bool(changed & GUEST_FIELDS)
        now = timezone.now()
        if reason is None:
            reason = "created" if created else "cancelled" if booking.is_cancelled else "changed"
        run = PipelineRun.objects.create(
            booking_id=booking_id,
            reason=reason,
            changed=sorted(changed | crew.changed),
        )
        done = {"state": StageState.SUCCEEDED, "started_at": now, "finished_at": now}
        skipped = {"state": StageState.SKIPPED, "finished_at": now, "detail": "nothing changed"}
        StageRun.objects.bulk_create(
            [
                StageRun(run=run, stage=Stage.BOOKING, **done),
                StageRun(
                    run=run,
                    stage=Stage.CREW_EVENT,
                    detail=f"version {crew.event.version}",
                    **done,
                ),
                StageRun(run=run, stage=Stage.CHECKLIST, **done),
                StageRun(
                    run=run, stage=Stage.CREW_NOTIFY, **({} if crew.notify_needed else skipped)
                ),
                StageRun(run=run, stage=Stage.GUEST_PUBLISH, **({} if guest_needed else skipped)),
                StageRun(run=run, stage=Stage.SUMMARY),
            ]
        )
        transaction.on_commit(lambda: dispatch(run.pk))
        return run


# --- Running the outside-world stages ------------------------------------------------------------

OUTSIDE_STAGES = (*PARALLEL_STAGES, Stage.SUMMARY)


def _knob(name: str, default: float) -> float:
    # Retry knobs with defaults here; settings (or a test) may override any of them.
    return getattr(settings, name, default)


def task_retries() -> int:
    """How often a stage's task retries a transient error itself before the sweeper takes over."""
    return int(_knob("PIPELINE_TASK_RETRIES", 5))


def max_attempts() -> int:
    """Attempts after which only the operator retries a stage."""
    return int(_knob("PIPELINE_MAX_ATTEMPTS", 30))


def stale_after() -> timedelta:
    return timedelta(seconds=settings.PIPELINE_STALE_AFTER_SECONDS)


def stuck_after() -> timedelta:
    """A stage `running` for longer than this was lost with its worker."""
    return timedelta(seconds=_knob("PIPELINE_STUCK_AFTER_SECONDS", 15 * 60))


def _jittered(seconds: float) -> float:
    # "Equal jitter": at least half the backoff, so retries of a burst spread out but never bunch.
    return seconds / 2 + random.uniform(0, seconds / 2)


def task_backoff(retry: int) -> float:
    """Seconds before the task's own retry number `retry` + 1 (about 10, 20, 40, 80, 160 s)."""
    base = _knob("PIPELINE_RETRY_BASE_SECONDS", 10)
    return _jittered(min(_knob("PIPELINE_RETRY_MAX_SECONDS", 300), base * 2**retry))


def sweep_backoff(attempts: int) -> float:
    """Seconds before the sweeper retries a stage whose task gave up (15 min doubling, ≤ 6 h)."""
    rounds = max(0, -(-attempts // (task_retries() + 1)) - 1)
    base = _knob("PIPELINE_SWEEP_BACKOFF_SECONDS", 15 * 60)
    return _jittered(min(_knob("PIPELINE_SWEEP_BACKOFF_MAX_SECONDS", 6 * 3600), base * 2**rounds))


# Error codes of AWS (S3, CloudFront) that mean "later", not "never".
AWS_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "TooManyInvalidationsInProgress",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
    }
)


def is_transient(exc: BaseException) -> bool:
    """Whether a later try may succeed: network, SMTP, throttling, 5xx; not bad data or bugs."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False  # every address refused: retrying sends nothing new
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code < 500  # 4xx: try again later; 5xx: refused for good
    if isinstance(exc, smtplib.SMTPException):
        return True  # disconnected and the like
    if isinstance(exc, requests.RequestException):
        # Before OSError: every requests error is one, a 4xx answer included.
        if isinstance(exc, requests.HTTPError):
            status = exc.response.status_code if exc.response is not None else 500
            return status >= 500 or status == 429
        return isinstance(exc, requests.Timeout | requests.ConnectionError)
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return error.get("Code") in AWS_TRANSIENT_CODES or status >= 500 or status == 429
    if isinstance(exc, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError):
        return True  # EndpointConnectionError, timeouts, connections closed
    if isinstance(exc, db.OperationalError | db.InterfaceError):
        return True  # a lock timeout, a deadlock, a connection lost
    return isinstance(exc, OSError)  # ConnectionError, TimeoutError, socket errors


@dataclass(frozen=True)
class StageOutcome:
    state: str  # the stage's state after this call ("gone" when its run was deleted)
    ran: bool  # False: nothing done (finished already, or another worker is running it)
    retry_in: float | None = None  # seconds until the caller's own retry, when one is due
    error: str = ""


def stage_execute(
    *,
    stage_run_id: int,
    fn: Callable[[StageRun], str | None],
    retries: int | None = None,
    now: datetime | None = None,
) -> StageOutcome:
    """Run one stage once: claim its row, run `fn(stage)`, record how it went.

    Safe under redelivery: a stage that succeeded or was skipped is not run again, nor one that
    another worker started less than `stuck_after()` ago. `fn` runs outside any transaction of
    ours, so what it records as it goes (each email sent) survives its failure. `retries` is how
    often the calling task has retried so far (None: it does not retry); when a transient error
    deserves another try of the task, the outcome carries `retry_in`. `fn` returns a short note.
    """
    clock = (lambda: now) if now is not None else timezone.now
    started = clock()
    with transaction.atomic():
        stage = (
            StageRun.objects.select_for_update(of=("self",))
            .select_related("run")
            .filter(pk=stage_run_id)
            .first()
        )
        if stage is None:
            return StageOutcome("gone", ran=False)
        if stage.state in (StageState.SUCCEEDED, StageState.SKIPPED):
            return StageOutcome(stage.state, ran=False)
        if (
            stage.state == StageState.RUNNING
            and stage.started_at is not None
            and stage.started_at > started - stuck_after()
        ):
            return StageOutcome(stage.state, ran=False)
        stage.state = StageState.RUNNING
        stage.attempts += 1
        stage.started_at = started
        stage.finished_at = stage.next_attempt_at = None
        stage.save(
            update_fields=["state", "attempts", "started_at", "finished_at", "next_attempt_at"]
        )
        PipelineRun.objects.filter(pk=stage.run_id).update(finished_at=None)
    attempt = stage.attempts
    mine = StageRun.objects.filter(pk=stage.pk, state=StageState.RUNNING, attempts=attempt)
    try:
        note = fn(stage)
    except Exception as exc:
        finished = clock()
        transient = is_transient(exc)
        retry_in = next_at = None
        if transient and retries is not None and retries < task_retries():
            retry_in = task_backoff(retries)
            next_at = finished + timedelta(seconds=retry_in)
        elif transient and attempt < max_attempts():
            next_at = finished + timedelta(seconds=sweep_backoff(attempt))
        error = f"{type(exc).__name__}: {exc}"[:2000]
        recorded = mine.update(
            state=StageState.FAILED, last_error=error, finished_at=finished, next_attempt_at=next_at
        )
        then = (
            f"task retry in {retry_in:.0f} s"
            if retry_in is not None
            else f"sweeper retry at {next_at:%Y-%m-%d %H:%M:%S} UTC"
            if next_at
            else "left to the operator"
        )
        log = logger.warning if transient else logger.error
        log(
            "stage %s of run %s (booking %s) failed, attempt %s, %s: %s",
            stage.stage,
            stage.run_id,
            stage.run.booking_id,
            attempt,
            then,
            error,
            exc_info=not transient,
        )
        _run_settle(stage.run_id, now=finished)
        return StageOutcome(
            StageState.FAILED, ran=True, retry_in=retry_in if recorded else None, error=error
        )
    finished = clock()
    mine.update(
        state=StageState.SUCCEEDED,
        finished_at=finished,
        next_attempt_at=None,
        detail=(note or "")[:255],
    )
    logger.info(
        "stage %s of run %s (booking %s) succeeded, attempt %s: %s",
        stage.stage,
        stage.run_id,
        stage.run.booking_id,
        attempt,
        note or "done",
    )
    _run_settle(stage.run_id, now=finished)
    return StageOutcome(StageState.SUCCEEDED, ran=True)


def _run_settle(run_id: int, *, now: datetime) -> None:
    """Note when a run has nothing left in progress or scheduled."""
    busy = StageRun.objects.filter(run_id=run_id).filter(
        Q(state__in=[StageState.PENDING, StageState.RUNNING])
        | Q(state=StageState.FAILED, next_attempt_at__isnull=False)
    )
    if not busy.exists():
        PipelineRun.objects.filter(pk=run_id, finished_at__isnull=True).update(finished_at=now)


# What each outside-world stage does: one service call each, with a note for the admin.


def crew_stage(stage: StageRun) -> str:
    """Stage 2 outside: email every crew member what they have not been told yet."""
    event_id = event_id_for_booking(stage.run.booking_id)
    if event_id is None:
        raise LookupError(f"booking {stage.run.booking_id} has no crew event")
    sent = crew_notify(event_id=event_id)
    return f"{sent} crew email(s) sent"


def guest_stage(stage: StageRun) -> str:
    """Stage 3: publish the guest page (upload + invalidation when it changed), then the email."""
    booking_id = stage.run.booking_id
    result = guest_page_publish(booking_id=booking_id)
    emailed = guest_notify(booking_id=booking_id, published=True)
    notes = ["page uploaded" if result.uploaded else "page unchanged"]
    if result.invalidation_id:
        notes.append(f"invalidation {result.invalidation_id}")
    notes.append("guest emailed" if emailed else "no guest email")
    return ", ".join(notes)


def summary_stage(stage: StageRun) -> str:
    """The operator's summary of the run (email, and the webhook when configured)."""
    from jada.summary import summary_send

    return summary_send(run_id=stage.run_id)


# Errors of a broker that is down or unreachable: the run waits for the sweeper.
BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.RedisError, OSError)


def _broker_check() -> None:
    """Raise at once when the broker is down.

    Publishing first registers the task with the result backend, which retries a dead Redis for
    20 seconds; the request that saved the booking must not wait that long.
    """
    from jada.celery import app

    if app.conf.task_always_eager:
        return
    with app.pool.acquire(block=True, timeout=5) as connection:
        connection.default_channel  # noqa: B018 (opening the channel pings the broker)


def _dispatch(run_id: int) -> tuple[int, str]:
    from jada import tasks

    pending = list(
        StageRun.objects.filter(
            run_id=run_id, state=StageState.PENDING, stage__in=OUTSIDE_STAGES
        ).values_list("pk", "stage")
    )
    parallel = [(pk, stage) for pk, stage in pending if stage != Stage.SUMMARY]
    canvas = tasks.stages_canvas(
        run_id, parallel, summary=any(stage == Stage.SUMMARY for _, stage in pending)
    )
    if canvas is not None:
        try:
            _broker_check()
            canvas.apply_async()
        except BROKER_ERRORS as e:
            logger.warning(
                "pipeline run %s not queued, broker unreachable (%s); the sweeper retries",
                run_id,
                e,
            )
            return 0, f"broker unreachable: {e}"
        except Exception as e:
            logger.exception("pipeline run %s not queued; the sweeper will retry", run_id)
            return 0, f"{type(e).__name__}: {e}"
    PipelineRun.objects.filter(pk=run_id).update(dispatched_at=timezone.now())
    return len(pending), ""


def dispatch(run_id: int) -> int:
    """Queue a run's pending stages (crew and guest in parallel, then the summary); how many.

    Called after commit. Sets `dispatched_at` only once the broker took the canvas; a broker
    that is down is logged and leaves the run to the sweeper (`resume()`), never an error.
    """
    queued, _ = _dispatch(run_id)
    return queued


# --- The sweeper and the operator's retry --------------------------------------------------------


def _due(stage: StageRun, run: PipelineRun, now: datetime) -> str | None:
    """Why the sweeper should queue this stage now, or None."""
    stale = now - stale_after()
    if stage.state == StageState.PENDING:
        if run.dispatched_at is None and run.created_at <= stale:
            return "never dispatched"
        if run.dispatched_at is not None and run.dispatched_at <= stale:
            return "queued but never started"
    elif stage.state == StageState.FAILED:
        # The margin lets a task's own scheduled retry run first.
        if stage.next_attempt_at is not None and stage.next_attempt_at <= stale:
            return "retry due"
    elif stage.state == StageState.RUNNING:
        if stage.started_at is not None and stage.started_at <= now - stuck_after():
            return "stuck running"
    return None


def _settled(stage: StageRun) -> bool:
    """Nothing more will happen to this stage without the sweeper or the operator."""
    if stage.state == StageState.FAILED:
        return stage.next_attempt_at is None
    return stage.state in (StageState.SUCCEEDED, StageState.SKIPPED)


def _newer_runs(run: PipelineRun) -> dict[str, int]:
    """Stage → newest later run of the booking that runs it too (Stage.SUMMARY: any later run)."""
    later = StageRun.objects.filter(
        run__booking_id=run.booking_id, run_id__gt=run.pk, stage__in=OUTSIDE_STAGES
    )
    newer = dict(
        later.exclude(state=StageState.SKIPPED)
        .values("stage")
        .annotate(latest=Max("run_id"))
        .values_list("stage", "latest")
    )
    newest = later.aggregate(latest=Max("run_id"))["latest"]
    newer.pop(Stage.SUMMARY, None)
    if newest is not None:
        newer[Stage.SUMMARY] = newest
    return newer


def _supersede(stage: StageRun, newer_run_id: int, why: str, now: datetime) -> None:
    """A later run of the booking does this stage again: stop retrying this one."""
    stage.detail = f"superseded by run {newer_run_id}"
    stage.next_attempt_at = None
    if stage.state == StageState.PENDING:
        stage.state = StageState.SKIPPED
        stage.finished_at = now
    elif stage.state == StageState.RUNNING:
        stage.state = StageState.FAILED
        stage.last_error = f"{why} since {stage.started_at:%Y-%m-%d %H:%M:%S} UTC"
        stage.finished_at = now
    stage.save(update_fields=["state", "detail", "next_attempt_at", "last_error", "finished_at"])


def _resume_run(run_id: int, *, now: datetime) -> tuple[int, str]:
    with transaction.atomic():
        run = PipelineRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            return 0, ""
        stages = {
            s.stage: s
            for s in StageRun.objects.select_for_update().filter(run=run, stage__in=OUTSIDE_STAGES)
        }
        newer = _newer_runs(run)
        notes: list[str] = []
        requeue: list[StageRun] = []
        for name in OUTSIDE_STAGES:
            stage = stages.get(name)
            why = _due(stage, run, now) if stage is not None else None
            if why is None:
                continue
            if name in newer:
                _supersede(stage, newer[name], why, now)
                notes.append(f"{name} {why}, superseded by run {newer[name]}")
                continue
            if name == Stage.SUMMARY and not (
                requeue or all(_settled(stages[n]) for n in PARALLEL_STAGES if n in stages)
            ):
                continue  # the summary waits for the stages it reports on
            if why == "stuck running":
                stage.last_error = f"stuck running since {stage.started_at:%Y-%m-%d %H:%M:%S} UTC"
            stage.state = StageState.PENDING
            stage.next_attempt_at = None
            stage.save(update_fields=["state", "next_attempt_at", "last_error"])
            requeue.append(stage)
            notes.append(f"{name} {why}")
        if not requeue:
            _run_settle(run.pk, now=now)
    if not notes:
        return 0, ""
    line = f"run {run.pk} (booking {run.booking_id}, {run.reason}): " + "; ".join(notes)
    if not requeue:
        return 0, line
    queued, error = _dispatch(run.pk)
    return queued, line + (
        f" → queued {queued} stage(s)" if not error else f" → not queued, {error}"
    )


def resume(
    *, now: datetime | None = None, report: Callable[[str], object] | None = None, limit: int = 500
) -> int:
    """The sweeper: queue what is due; returns how many stages were queued.

    * runs never dispatched (the broker was down at save time) older than
      PIPELINE_STALE_AFTER_SECONDS, and pending stages queued that long ago but never started;
    * failed stages whose next attempt is due (a transient error after the task's own retries;
      permanent errors and stages past `max_attempts()` wait for the operator's retry);
    * stages `running` for longer than `stuck_after()` (their worker died).

    A stage that a later run of the booking does again is marked superseded instead. The summary
    is queued only with, or after, the stages it reports on. `report` receives one line per run.
    """
    now = now or timezone.now()
    stale = now - stale_after()
    due = (
        Q(state=StageState.PENDING, run__dispatched_at__isnull=True, run__created_at__lte=stale)
        | Q(state=StageState.PENDING, run__dispatched_at__lte=stale)
        | Q(state=StageState.FAILED, next_attempt_at__lte=stale)
        | Q(state=StageState.RUNNING, started_at__lte=now - stuck_after())
    )
    run_ids = list(
        StageRun.objects.filter(due, stage__in=OUTSIDE_STAGES)
        .order_by("run_id")
        .values_list("run_id", flat=True)
        .distinct()[:limit]
    )
    queued = 0
    for run_id in run_ids:
        count, line = _resume_run(run_id, now=now)
        queued += count
        if line:
            logger.info("sweeper: %s", line)
            if report is not None:
                report(line)
    return queued


def _retry(stages) -> int:
    """Reset failed stages to pending and queue their runs after commit; how many were reset."""
    with transaction.atomic():
        failed = list(
            stages.select_for_update(of=("self",)).filter(
                state=StageState.FAILED, stage__in=OUTSIDE_STAGES
            )
        )
        for stage in failed:
            stage.state = StageState.PENDING
            stage.next_attempt_at = None
            stage.detail = ""
            stage.save(update_fields=["state", "next_attempt_at", "detail"])
        for run_id in sorted({stage.run_id for stage in failed}):
            PipelineRun.objects.filter(pk=run_id).update(finished_at=None)
            transaction.on_commit(partial(dispatch, run_id))
    return len(failed)


def retry_failed(booking_id: int) -> int:
    """The operator's retry: every failed stage of the booking's runs, queued again; how many."""
    return _retry(StageRun.objects.filter(run__booking_id=booking_id))


def run_retry_failed(run_id: int) -> int:
    """The operator's retry of one run's failed stages; how many."""
    return _retry(StageRun.objects.filter(run_id=run_id))


def latest_run(booking_id: int) -> PipelineRun | None:
    return (
        PipelineRun.objects.filter(booking_id=booking_id)
        .prefetch_related("stages")
        .order_by("-created_at", "-pk")
        .first()
    )


def stage_states(booking_id: int) -> dict[str, str]:
    """Stage name → state of the booking's latest run (the API's `pipeline` object)."""
    run = latest_run(booking_id)
    return {s.stage: s.state for s in run.stages.all()} if run else {}


def booking_places(booking_id: int) -> list[tuple[str, str]]:
    """Where the rest of a booking lives: its crew event in the admin and its guest page."""
    from django.urls import reverse

    from guests.models import GuestPage

    places = []
    event_id = event_id_for_booking(booking_id)
    if event_id is not None:
        url = reverse("admin:crew_crewevent_change", args=[event_id])
        places.append(("Crew: assignments, answers, checklists", url))
    page = GuestPage.objects.filter(booking_id=booking_id).first()
    if page is not None:
        places.append((f"Guest page ({page.get_state_display().lower()})", page.url))
    return places


def runs_for_booking(booking_id: int, *, limit: int = 10) -> list[PipelineRun]:
    return list(
        PipelineRun.objects.filter(booking_id=booking_id)
        .prefetch_related("stages")
        .order_by("-created_at", "-pk")[:limit]
    )


def needs_attention_booking_ids(*, now: datetime | None = None):
    """Bookings whose pipeline needs the operator (a values queryset usable in `pk__in`).

    A stage that failed in the booking's latest run doing that stage (a later run that does it
    again supersedes the failure), or a run never dispatched for PIPELINE_STALE_AFTER_SECONDS.
    """
    now = now or timezone.now()
    redone = StageRun.objects.filter(
        run__booking_id=OuterRef("run__booking_id"),
        stage=OuterRef("stage"),
        run_id__gt=OuterRef("run_id"),
    ).exclude(state=StageState.SKIPPED)
    failing = StageRun.objects.filter(state=StageState.FAILED).filter(~Exists(redone))
    return (
        PipelineRun.objects.filter(
            Q(pk__in=failing.values("run_id"))
            | Q(dispatched_at__isnull=True, created_at__lte=now - stale_after())
        )
        .values_list("booking_id", flat=True)
        .distinct()
    )


def crew_fill(booking_ids: Iterable[int]) -> dict[int, str]:
    """Booking id → "accepted/assigned" over active assignments, in one query (the calendar)."""
    from django.db.models import Count, Q

    from crew.models import Assignment, AssignmentState

    rows = (
        Assignment.objects.filter(event__booking_id__in=list(booking_ids), removed_at__isnull=True)
        .values("event__booking_id")
        .annotate(
            assigned=Count("pk"), accepted=Count("pk", filter=Q(state=AssignmentState.ACCEPTED))
        )
        .order_by()
    )
    return {row["event__booking_id"]: f"{row['accepted']}/{row['assigned']}" for row in rows}
