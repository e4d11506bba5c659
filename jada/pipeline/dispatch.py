"""Dispatch: queue a run's pending outside-world stages, and the one Celery task that runs a stage.

Crew and guest run in parallel, then the summary: chord(group(run_stage, ...), run_stage). A stage
task never raises into the chord that joins them: a failure is recorded on the stage's row
(`stage_execute`) and the task returns, so the summary always runs. Only a retry (Celery's
`Retry`) leaves a task unfinished, and the chord waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import kombu.exceptions
import redis.exceptions
from celery import Task, chord, group, shared_task
from celery.canvas import Signature
from django.utils import timezone

from jada.celery import app
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.pipeline.engine import stage_execute
from jada.pipeline.retry import is_transient, task_backoff, task_retries
from jada.pipeline.stages import OUTSIDE_STAGES

logger = logging.getLogger(__name__)


# max_retries=None: the retry policy lives in jada.pipeline.retry (task_retries()), and each
# attempt is recorded on the stage's row; acks_late because every stage is idempotent.
@shared_task(bind=True, name="jada.tasks.run_stage", acks_late=True, max_retries=None)
def run_stage(self: Task, stage_run_id: int) -> str:
    """Run one outside-world stage (its row says which) and return the stage's state."""
    # Eager mode (no broker) never retries in-process: the request that saved the booking would
    # wait through every backoff. The stage is left failed and due for the sweeper instead.
    retries = None if self.request.is_eager else self.request.retries
    try:
        outcome = stage_execute(stage_run_id=stage_run_id, retries=retries)
    except Exception as exc:
        # Claiming or recording failed (the database, most likely), not the stage itself.
        if retries is not None and retries < task_retries() and is_transient(exc):
            raise self.retry(exc=exc, countdown=task_backoff(retries)) from exc
        logger.exception("stage row %s could not be run; the sweeper will retry", stage_run_id)
        return "error"
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


def stages_canvas(parallel: Sequence[int], summary: int | None) -> Signature | None:
    """chord(group(parallel stages), summary) for stage row ids; None if there is nothing.

    Immutable signatures (`si`): the summary reads the stages' rows, not their return values.
    """
    header = [run_stage.si(pk) for pk in parallel]
    if summary is not None:
        body = run_stage.si(summary)
        return chord(group(header), body) if header else body
    if not header:
        return None
    return group(header) if len(header) > 1 else header[0]


# Errors of a broker that is down or unreachable: the run waits for the sweeper.
BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.RedisError, OSError)


def _broker_check() -> None:
    """Raise at once when the broker is down.

    Publishing first registers the task with the result backend, which retries a dead Redis for
    20 seconds; the request that saved the booking must not wait that long.
    """
    if app.conf.task_always_eager:
        return
    with app.pool.acquire(block=True, timeout=5) as connection:
        connection.default_channel  # noqa: B018 (opening the channel pings the broker)


def run_queue(run_id: int) -> tuple[int, str]:
    """Queue the run's pending stages: (how many, why not when the broker refused them)."""
    pending = list(
        StageRun.objects.filter(
            run_id=run_id, state=StageState.PENDING, stage__in=OUTSIDE_STAGES
        ).values_list("pk", "stage")
    )
    parallel = [pk for pk, stage in pending if stage != Stage.SUMMARY]
    summary = next((pk for pk, stage in pending if stage == Stage.SUMMARY), None)
    canvas = stages_canvas(parallel, summary)
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


def dispatch_many(run_ids: Sequence[int]) -> int:
    """`dispatch()` for many runs committed together (an import): one read, one update.

    A broker that refuses leaves the runs not yet queued to the sweeper, as `dispatch` does.
    """
    pending: dict[int, list[tuple[int, str]]] = {run_id: [] for run_id in run_ids}
    rows = StageRun.objects.filter(
        run_id__in=run_ids, state=StageState.PENDING, stage__in=OUTSIDE_STAGES
    ).values_list("run_id", "pk", "stage")
    for run_id, pk, stage in rows.order_by("pk"):
        pending[run_id].append((pk, stage))
    queued: list[int] = []
    try:
        _broker_check()
        for run_id, stages in pending.items():
            parallel = [pk for pk, stage in stages if stage != Stage.SUMMARY]
            summary = next((pk for pk, stage in stages if stage == Stage.SUMMARY), None)
            canvas = stages_canvas(parallel, summary)
            if canvas is not None:
                canvas.apply_async()
            queued.append(run_id)
    except BROKER_ERRORS as e:
        logger.warning("%s pipeline runs not queued, broker unreachable (%s)", len(pending), e)
    except Exception:
        logger.exception("%s pipeline runs not queued; the sweeper will retry", len(pending))
    PipelineRun.objects.filter(pk__in=queued).update(dispatched_at=timezone.now())
    return sum(len(pending[run_id]) for run_id in queued)


def dispatch(run_id: int) -> int:
    """Queue a run's pending stages (crew and guest in parallel, then the summary); how many.

    Called after commit. Sets `dispatched_at` only once the broker took the canvas; a broker
    that is down is logged and leaves the run to the sweeper (`resume()`), never an error.
    """
    queued, _ = run_queue(run_id)
    return queued
