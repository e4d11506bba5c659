"""The entry point: `start()` does the database stages and records the run."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from bookings.selectors import OperationalBooking, booking_operational
from crew.models import CrewMember
from crew.services import (
    CrewSyncResult,
    PlannedAssignment,
    crew_event_sync,
    crew_events_create_many,
)
from guests.services import guest_page_ensure, guest_pages_create_many
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.pipeline.dispatch import BROKER_ERRORS, _broker_check, dispatch

logger = logging.getLogger(__name__)

# Booking fields the guest page shows; a change to any of them re-publishes it.
GUEST_FIELDS = frozenset(
    {
        "guest_name",
        "guest_email",
        "guest_count",
        "starts_at",
        "duration_minutes",
        "dock",
        "vessel",
        "status",
    }
)


def start(
    booking_id: int,
    *,
    changed: Iterable[str] = (),
    created: bool = False,
    crew_plan: Sequence[PlannedAssignment] | None = None,
    reason: str | None = None,
    new_booking: OperationalBooking | None = None,
    crews: list[CrewSyncResult] | None = None,
) -> PipelineRun:
    """Record the database stages now and queue the outside-world stages after commit.

    A charter whose start has passed keeps its crew's record, but its outside-world stages
    are skipped: no crew email, guest email, guest page or summary for the past.

    `new_booking`: the projection of a booking just created (nothing of its pipeline exists
    yet), whose stages are then recorded without reading anything first (`start_many`).
    `crews`: given, the crew sync's result is appended to it (a new charter's first crew, which
    its "created" audit entry lists, as written: no read back).
    """
    if new_booking is not None:
        [(run, crew)] = start_many([new_booking], changed=changed, crew_plans=[crew_plan])
        if crews is not None:
            crews.append(crew)
        return run
    changed = frozenset(changed)
    with transaction.atomic():
        booking = booking_operational(booking_id)
        crew = crew_event_sync(booking=booking, plan=crew_plan)
        if crews is not None:
            crews.append(crew)
        guest_page_ensure(booking=booking)
        guest_needed = created or bool(changed & GUEST_FIELDS)
        now = timezone.now()
        if reason is None:
            reason = _reason(created=created, cancelled=booking.is_cancelled)
        run = PipelineRun.objects.create(
            booking_id=booking_id,
            reason=reason,
            changed=sorted(changed | crew.changed),
        )
        quiet = booking.starts_at <= now
        StageRun.objects.bulk_create(
            _stage_rows(run, crew, guest_needed=guest_needed, now=now, quiet=quiet)
        )
        transaction.on_commit(lambda: dispatch(run.pk))
        return run


def _reason(*, created: bool, cancelled: bool) -> str:
    if created:
        return "created"
    return "cancelled" if cancelled else "changed"


def start_many(
    bookings: Sequence[OperationalBooking],
    *,
    changed: Iterable[str],
    crew_plans: Sequence[Sequence[PlannedAssignment] | None],
    members: dict[str, CrewMember] | None = None,
) -> list[tuple[PipelineRun, CrewSyncResult]]:
    """`start(created=True)` for many new bookings: nine statements for all, one dispatch.

    `members`: those the plans name, by code, when the caller has them (one read fewer).
    """
    changed = frozenset(changed)
    with transaction.atomic(savepoint=False):
        crews = crew_events_create_many(bookings=bookings, plans=crew_plans, members=members)
        guest_pages_create_many(booking_ids=[booking.id for booking in bookings])
        now = timezone.now()
        runs = [
            PipelineRun(
                booking_id=booking.id,
                reason=_reason(created=True, cancelled=booking.is_cancelled),
                changed=sorted(changed | crew.changed),
            )
            for booking, crew in zip(bookings, crews, strict=True)
        ]
        PipelineRun.objects.bulk_create(runs)
        StageRun.objects.bulk_create(
            [
                row
                for run, crew, booking in zip(runs, crews, bookings, strict=True)
                for row in _stage_rows(
                    run, crew, guest_needed=True, now=now, quiet=booking.starts_at <= now
                )
            ]
        )
        run_ids = [run.pk for run in runs]
        transaction.on_commit(lambda: _dispatch(run_ids))
    return list(zip(runs, crews, strict=True))


def _dispatch(run_ids: list[int]) -> None:
    """Queue the runs' stages: one run at once; many in one message to a worker."""
    if len(run_ids) == 1:
        dispatch(run_ids[0])
        return
    # An import does not wait for each run's canvas; a refused message leaves them to the sweeper.
    from jada.tasks import dispatch_runs  # the task module imports this package

    try:
        _broker_check()
        dispatch_runs.delay(run_ids)
    except BROKER_ERRORS as e:
        logger.warning("%s pipeline runs not queued (%s); the sweeper will", len(run_ids), e)


def _stage_rows(
    run: PipelineRun, crew: CrewSyncResult, *, guest_needed: bool, now: datetime, quiet: bool
) -> list[StageRun]:
    """The run's stage rows; `quiet` (the charter has started) skips every outside stage."""
    done = {"state": StageState.SUCCEEDED, "started_at": now, "finished_at": now}
    skipped = {"state": StageState.SKIPPED, "finished_at": now, "detail": "nothing changed"}
    crew_notify = {} if crew.notify_needed else skipped
    guest_publish = {} if guest_needed else skipped
    summary: dict = {}
    if quiet:
        passed = {**skipped, "detail": "charter has passed: nothing sent"}
        crew_notify = guest_publish = summary = passed
    return [
        StageRun(run=run, stage=Stage.BOOKING, **done),
        StageRun(run=run, stage=Stage.CREW_EVENT, detail=f"version {crew.event.version}", **done),
        StageRun(run=run, stage=Stage.CHECKLIST, **done),
        StageRun(run=run, stage=Stage.CREW_NOTIFY, **crew_notify),
        StageRun(run=run, stage=Stage.GUEST_PUBLISH, **guest_publish),
        StageRun(run=run, stage=Stage.SUMMARY, **summary),
    ]
