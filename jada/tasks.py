"""Celery tasks of jada: thin, keyed by primary key, each calling one service.

`run_stage`, the task of every outside-world stage, lives beside the dispatch that queues it
(jada.pipeline.dispatch); it is named here so the worker's task discovery finds it.
"""

from __future__ import annotations

from celery import shared_task

from jada import pipeline
from jada.pipeline import run_stage

__all__ = ["dispatch_runs", "resume_pipelines", "run_stage"]


@shared_task(name="jada.tasks.dispatch_runs", acks_late=True)
def dispatch_runs(run_ids: list[int]) -> int:
    """Queue the stages of runs committed together (an import): one message for them all."""
    return pipeline.dispatch_many(run_ids)


@shared_task(name="jada.tasks.resume_pipelines", acks_late=True)
def resume_pipelines() -> int:
    """The sweeper (beat, every minute): queue runs never dispatched and retries that are due."""
    return pipeline.resume()
