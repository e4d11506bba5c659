"""The one place that knows every stage of a booking's pipeline.

`start()` runs inside the transaction that saved the booking: it builds the crew event and
checklists, makes sure the guest page record exists, and records a PipelineRun with one row per
stage. The outside-world stages (crew emails, guest page publish, summary) are queued on commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from bookings.selectors import booking_operational
from crew.services import PlannedAssignment, crew_event_sync
from guests.services import guest_page_ensure
from jada.models import PipelineRun, Stage, StageRun, StageState

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


def dispatch(run_id: int) -> None:
    """Queue a run's pending stages; a broker that is down leaves the run for the sweeper."""
    from jada import tasks

    tasks.dispatch_run(run_id)


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


def runs_for_booking(booking_id: int, *, limit: int = 10) -> list[PipelineRun]:
    return list(
        PipelineRun.objects.filter(booking_id=booking_id)
        .prefetch_related("stages")
        .order_by("-created_at", "-pk")[:limit]
    )


def needs_attention_booking_ids():
    """Bookings with a failed stage in any run (a values queryset usable in `pk__in`)."""
    return (
        StageRun.objects.filter(state=StageState.FAILED)
        .values_list("run__booking_id", flat=True)
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
