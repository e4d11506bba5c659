"""The sweeper and the operator's retry: queue again what the workers did not finish.

The sweeper (`resume()`: the beat task every minute and `manage.py resume_pipelines`) queues runs
never dispatched (the broker was down at save time), failed stages whose next attempt is due, and
takes back stages left `running` by a worker that died; `retry.due_reasons()` says which.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial, reduce
from operator import or_

from django.db import transaction
from django.db.models import Case, CharField, Max, QuerySet, Value, When
from django.utils import timezone

from jada.models import PARALLEL_STAGES, PipelineRun, Stage, StageRun, StageState
from jada.pipeline.dispatch import dispatch, run_queue
from jada.pipeline.engine import run_settle
from jada.pipeline.retry import due_reasons, settled
from jada.pipeline.stages import OUTSIDE_STAGES

logger = logging.getLogger(__name__)


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
    elif stage.state == StageState.RETRYING:
        stage.state = StageState.FAILED  # no next attempt now: the later run does it
    elif stage.state == StageState.RUNNING:
        stage.state = StageState.FAILED
        stage.last_error = f"{why} since {stage.started_at:%Y-%m-%d %H:%M:%S} UTC"
        stage.finished_at = now
    stage.save(update_fields=["state", "detail", "next_attempt_at", "last_error", "finished_at"])


def _reported_stages_settled(run: PipelineRun) -> bool:
    """Whether the stages the summary reports on have come to rest."""
    unsettled = StageRun.objects.filter(run=run, stage__in=PARALLEL_STAGES).exclude(settled())
    return not unsettled.exists()


def _resume_run(run_id: int, *, now: datetime) -> tuple[int, str]:
    why_due = Case(
        *(When(rule, then=Value(why)) for why, rule in due_reasons(now).items()),
        default=None,
        output_field=CharField(),
    )
    with transaction.atomic():
        run = PipelineRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            return 0, ""
        stages = {
            s.stage: s
            for s in StageRun.objects.select_for_update(of=("self",))
            .filter(run=run, stage__in=OUTSIDE_STAGES)
            .annotate(why=why_due)
        }
        newer = _newer_runs(run)
        notes: list[str] = []
        requeue: list[StageRun] = []
        for name in OUTSIDE_STAGES:
            stage = stages.get(name)
            if stage is None or stage.why is None:
                continue
            why = stage.why
            if name in newer:
                _supersede(stage, newer[name], why, now)
                notes.append(f"{name} {why}, superseded by run {newer[name]}")
                continue
            if name == Stage.SUMMARY and not (requeue or _reported_stages_settled(run)):
                continue  # the summary waits for the stages it reports on
            if why == "stuck running":
                stage.last_error = f"stuck running since {stage.started_at:%Y-%m-%d %H:%M:%S} UTC"
            stage.state = StageState.PENDING
            stage.next_attempt_at = None
            stage.save(update_fields=["state", "next_attempt_at", "last_error"])
            requeue.append(stage)
            notes.append(f"{name} {why}")
        if not requeue:
            run_settle(run.pk, now=now)
    if not notes:
        return 0, ""
    line = f"run {run.pk} (booking {run.booking_id}, {run.reason}): " + "; ".join(notes)
    if not requeue:
        return 0, line
    queued, error = run_queue(run.pk)
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
    due = reduce(or_, due_reasons(now).values())
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


def _retry(stages: QuerySet[StageRun]) -> int:
    """Reset failed stages to pending and queue their runs after commit; how many were reset."""
    with transaction.atomic():
        failed = list(
            stages.select_for_update(of=("self",)).filter(
                state__in=[StageState.FAILED, StageState.RETRYING], stage__in=OUTSIDE_STAGES
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
