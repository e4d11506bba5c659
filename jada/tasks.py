"""Celery tasks of the pipeline: thin, keyed by primary key, each calling one service."""

from __future__ import annotations


def dispatch_run(run_id: int) -> None:
    """Queue the outside-world stages of a run (filled in by the pipeline work)."""
