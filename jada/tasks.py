"""Celery tasks of the pipeline: thin, keyed by primary key, each calling one service.

The stage tasks never raise into the chord that joins them: a failure is recorded on the stage's
row (jada.pipeline.stage_execute) and the task returns, so the summary always runs. Only a
retry (Celery's `Retry`) leaves a task unfinished, and the chord waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from celery import Task, chord, group, shared_task
from celery.canvas import Signature

from jada import pipeline
from jada.models import Stage, StageRun

logger = logging.getLogger(__name__)


def _run_stage(task: Task, stage_run_id: int, fn: Callable[[StageRun], str | None]) -> str:
    # Eager mode (no broker) never retries in-process: the request that saved the booking would
    # wait through every backoff. The stage is left failed and due for the sweeper instead.
    retries = None if task.request.is_eager else task.request.retries
    try:
        outcome = pipeline.stage_execute(stage_run_id=stage_run_id, fn=fn, retries=retries)
    except Exception as exc:
        # Claiming or recording failed (the database, most likely), not the stage itself.
        if retries is not None and retries < pipeline.task_retries() and pipeline.is_transient(exc):
            raise task.retry(exc=exc, countdown=pipeline.task_backoff(retries)) from exc
        logger.exception("stage row %s could not be run; the sweeper will retry", stage_run_id)
        return "error"
    if outcome.retry_in is not None:
        raise task.retry(countdown=outcome.retry_in)
    return outcome.state


# max_retries=None: the retry policy lives in jada.pipeline (task_retries()), which also records
# each attempt on the stage's row; acks_late because every stage is idempotent.


@shared_task(bind=True, name="jada.tasks.crew_notify_stage", acks_late=True, max_retries=None)
def crew_notify_stage(self: Task, stage_run_id: int) -> str:
    """Stage 2, outside: the crew's new/changed/cancelled emails."""
    return _run_stage(self, stage_run_id, pipeline.crew_stage)


@shared_task(bind=True, name="jada.tasks.guest_publish_stage", acks_late=True, max_retries=None)
def guest_publish_stage(self: Task, stage_run_id: int) -> str:
    """Stage 3: the guest page's upload and invalidation, then the guest's email."""
    return _run_stage(self, stage_run_id, pipeline.guest_stage)


@shared_task(bind=True, name="jada.tasks.summary_stage", acks_late=True, max_retries=None)
def summary_stage(self: Task, run_id: int) -> str:
    """The chord's callback: the operator's summary of the run (runs whatever the stages did)."""
    stage_run_id = (
        StageRun.objects.filter(run_id=run_id, stage=Stage.SUMMARY)
        .values_list("pk", flat=True)
        .first()
    )
    if stage_run_id is None:
        return "gone"
    return _run_stage(self, stage_run_id, pipeline.summary_stage)


@shared_task(name="jada.tasks.resume_pipelines", acks_late=True)
def resume_pipelines() -> int:
    """The sweeper (beat, every minute): queue runs never dispatched and retries that are due."""
    return pipeline.resume()


STAGE_TASKS = {Stage.CREW_NOTIFY: crew_notify_stage, Stage.GUEST_PUBLISH: guest_publish_stage}


def stages_canvas(
    run_id: int, parallel: Sequence[tuple[int, str]], *, summary: bool
) -> Signature | None:
    """chord(group(stages), summary) for (stage row id, stage name) pairs; None if nothing.

    Immutable signatures (`si`): the summary reads the stages' rows, not their return values.
    """
    header = [STAGE_TASKS[stage].si(pk) for pk, stage in parallel]
    if summary:
        body = summary_stage.si(run_id)
        return chord(group(header), body) if header else body
    if not header:
        return None
    return group(header) if len(header) > 1 else header[0]
