"""The engine: run one outside-world stage (claim its row, run its body, record how it went)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef
from django.utils import timezone

from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.pipeline.retry import is_transient, next_attempt, settled, stuck_running
from jada.pipeline.stages import STAGE_BODIES, StageBody

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageOutcome:
    state: str  # the stage's state after this call ("gone" when its run was deleted)
    ran: bool  # False: nothing done (finished already, or another worker is running it)
    retry_in: float | None = None  # seconds until the caller's own retry, when one is due
    error: str = ""


def stage_execute(
    *,
    stage_run_id: int,
    fn: StageBody | None = None,
    retries: int | None = None,
    now: datetime | None = None,
) -> StageOutcome:
    """Run one stage once: claim its row, run its body, record how it went.

    Safe under redelivery: a stage that succeeded or was skipped is not run again, nor one that
    another worker started less than `stuck_after()` ago. The body (`fn`, by default the stage
    table's) runs outside any transaction of ours, so what it records as it goes (each email
    sent) survives its failure, and returns a short note. `retries` is how often the calling
    task has retried so far (None: it does not retry); when a transient error deserves another
    try of the task, the outcome carries `retry_in`.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else timezone.now
    stage = _claim(stage_run_id, at=clock())
    if isinstance(stage, StageOutcome):
        return stage  # gone, finished already, or another worker's
    body = fn or STAGE_BODIES[stage.stage]
    try:
        note = body(stage)
    except Exception as exc:
        return _record_failure(stage, exc, retries=retries, at=clock())
    return _record_success(stage, note, at=clock())


def _claim(stage_run_id: int, *, at: datetime) -> StageRun | StageOutcome:
    """Lock the stage's row and mark it running, or say why it is not ours to run."""
    with transaction.atomic():
        stage = (
            StageRun.objects.select_for_update(of=("self",))
            .select_related("run")
            .annotate(stuck=ExpressionWrapper(stuck_running(at), output_field=BooleanField()))
            .filter(pk=stage_run_id)
            .first()
        )
        if stage is None:
            return StageOutcome("gone", ran=False)
        if stage.state in (StageState.SUCCEEDED, StageState.SKIPPED):
            return StageOutcome(stage.state, ran=False)
        if stage.state == StageState.RUNNING and not stage.stuck:
            return StageOutcome(stage.state, ran=False)
        stage.state = StageState.RUNNING
        stage.attempts += 1
        stage.started_at = at
        stage.finished_at = stage.next_attempt_at = None
        stage.save(
            update_fields=["state", "attempts", "started_at", "finished_at", "next_attempt_at"]
        )
        # Only a run noted as settled is written: the parallel stages of one run then never
        # queue on its row's lock, held until each claim commits.
        PipelineRun.objects.filter(pk=stage.run_id, finished_at__isnull=False).update(
            finished_at=None
        )
    return stage


def _this_attempt(stage: StageRun):
    # Only the attempt we claimed: the sweeper may have taken the row back meanwhile.
    return StageRun.objects.filter(pk=stage.pk, state=StageState.RUNNING, attempts=stage.attempts)


def _record_failure(
    stage: StageRun, exc: Exception, *, retries: int | None, at: datetime
) -> StageOutcome:
    transient = is_transient(exc)
    retry_in, next_at = next_attempt(exc, attempt=stage.attempts, retries=retries, at=at)
    error = f"{type(exc).__name__}: {exc}"[:2000]
    # Honest state: a stage whose next attempt is scheduled is retrying, not failed.
    state = StageState.RETRYING if next_at is not None else StageState.FAILED
    recorded = _this_attempt(stage).update(
        state=state, last_error=error, finished_at=at, next_attempt_at=next_at
    )
    if retry_in is not None:
        then = f"task retry in {retry_in:.0f} s"
    elif next_at is not None:
        then = f"sweeper retry at {next_at:%Y-%m-%d %H:%M:%S} UTC"
    else:
        then = "left to the operator"
    log = logger.warning if transient else logger.error
    log(
        "stage %s of run %s (booking %s) failed, attempt %s, %s: %s",
        stage.stage,
        stage.run_id,
        stage.run.booking_id,
        stage.attempts,
        then,
        error,
        exc_info=not transient,
    )
    run_settle(stage.run_id, now=at)
    if not recorded:
        retry_in = None
    return StageOutcome(state, ran=True, retry_in=retry_in, error=error)


def _record_success(stage: StageRun, note: str | None, *, at: datetime) -> StageOutcome:
    recorded = _this_attempt(stage).update(
        state=StageState.SUCCEEDED,
        finished_at=at,
        next_attempt_at=None,
        detail=(note or "")[:255],
    )
    if recorded and stage.stage != Stage.SUMMARY:
        # One read after the record: what the last summary told, and whether anything is open.
        told, open_ = (
            PipelineRun.objects.filter(pk=stage.run_id)
            .annotate(open=Exists(_open_stages(OuterRef("pk"))))
            .values_list("summary_states", "open")
            .first()
        ) or (None, False)
        if _summary_again_if_recovered(stage, told):
            open_ = True  # the summary is pending again
    else:
        open_ = _open_stages(stage.run_id).exists()
    logger.info(
        "stage %s of run %s (booking %s) succeeded, attempt %s: %s",
        stage.stage,
        stage.run_id,
        stage.run.booking_id,
        stage.attempts,
        note or "done",
    )
    if not open_:
        _run_finished(stage.run_id, now=at)
    return StageOutcome(StageState.SUCCEEDED, ran=True)


def _summary_again_if_recovered(stage: StageRun, told: dict | None) -> bool:
    """The summary told the operator this stage failed (or was retrying): tell them it recovered.

    `told` is the run's `summary_states`. Its summary stage, done, runs again; it sends a note
    of the recovery (jada.summary). True when it was queued again.
    """
    if (told or {}).get(stage.stage) not in (StageState.FAILED, StageState.RETRYING):
        return False
    again = StageRun.objects.filter(
        run_id=stage.run_id,
        stage=Stage.SUMMARY,
        state__in=[StageState.SUCCEEDED, StageState.FAILED, StageState.RETRYING],
    ).update(state=StageState.PENDING, next_attempt_at=None, detail="")
    if again:
        from jada.pipeline.dispatch import dispatch  # dispatch imports this module

        transaction.on_commit(partial(dispatch, stage.run_id))
    return bool(again)


def _open_stages(run_id: int | OuterRef):
    return StageRun.objects.filter(run_id=run_id).exclude(settled())


def _run_finished(run_id: int, *, now: datetime) -> None:
    PipelineRun.objects.filter(pk=run_id, finished_at__isnull=True).update(finished_at=now)


def run_settle(run_id: int, *, now: datetime) -> None:
    """Note when a run has nothing left in progress or scheduled."""
    if not _open_stages(run_id).exists():
        _run_finished(run_id, now=now)
