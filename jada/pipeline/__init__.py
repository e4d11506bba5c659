"""The one place that knows every stage of a booking's pipeline.

`start()` (entry.py) runs inside the transaction that saved the booking: it builds the crew
event and checklists, makes sure the guest page record exists, and records a PipelineRun with one
row per stage. On commit, `dispatch()` (dispatch.py) queues the outside-world stages, one
`run_stage` task each: crew and guest in parallel, then the summary. What each stage does is the
stage table (stages.py); claiming, running and recording one is the engine (engine.py); when a
failed stage is tried again is the retry policy (retry.py); the sweeper and the operator's retry
queue what the workers did not finish (sweeper.py); the admin's and the API's reads are in
selectors.py.
"""

from __future__ import annotations

from jada.pipeline.dispatch import dispatch, dispatch_many, run_stage
from jada.pipeline.engine import StageOutcome, stage_execute
from jada.pipeline.entry import start, start_many
from jada.pipeline.retry import is_transient, sweep_backoff, task_backoff, task_retries
from jada.pipeline.selectors import (
    booking_places,
    crew_fill,
    latest_run,
    needs_attention_booking_ids,
    runs_for_booking,
    stage_states,
)
from jada.pipeline.stages import OUTSIDE_STAGES
from jada.pipeline.sweeper import resume, retry_failed, run_retry_failed

__all__ = [
    "OUTSIDE_STAGES",
    "StageOutcome",
    "booking_places",
    "crew_fill",
    "dispatch",
    "dispatch_many",
    "is_transient",
    "latest_run",
    "needs_attention_booking_ids",
    "resume",
    "retry_failed",
    "run_retry_failed",
    "run_stage",
    "runs_for_booking",
    "stage_execute",
    "stage_states",
    "start",
    "start_many",
    "sweep_backoff",
    "task_backoff",
    "task_retries",
]
