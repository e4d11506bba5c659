"""The reads the admin and the API need: runs, stage states, what needs the operator."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from crew.fill import Fill, fill_by_booking
from crew.selectors import event_id_for_booking
from guests.models import GuestPage
from jada.models import PipelineRun, StageRun, StageState
from jada.pipeline.retry import never_dispatched


def latest_run(booking_id: int) -> PipelineRun | None:
    """The booking's newest run, its stages prefetched."""
    return (
        PipelineRun.objects.filter(booking_id=booking_id)
        .prefetch_related("stages")
        .order_by("-created_at", "-pk")
        .first()
    )


def stage_states(booking_id: int) -> dict[str, str]:
    """Stage name → state of the booking's latest run (the API's `pipeline` object), one read."""
    latest = (
        PipelineRun.objects.filter(booking_id=booking_id)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    return dict(
        StageRun.objects.filter(run_id=Subquery(latest))
        .order_by("pk")
        .values_list("stage", "state")
    )


def booking_places(booking_id: int) -> list[tuple[str, str]]:
    """Where the rest of a booking lives: its crew event in the admin and its guest page."""
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
    """The booking's newest runs, their stages prefetched."""
    return list(
        PipelineRun.objects.filter(booking_id=booking_id)
        .prefetch_related("stages")
        .order_by("-created_at", "-pk")[:limit]
    )


def needs_attention_booking_ids(*, now: datetime | None = None) -> QuerySet:
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
    failing = StageRun.objects.filter(state__in=[StageState.FAILED, StageState.RETRYING]).filter(
        ~Exists(redone)
    )
    return (
        PipelineRun.objects.filter(
            Q(pk__in=failing.values("run_id")) | never_dispatched(now, run="")
        )
        .values_list("booking_id", flat=True)
        .distinct()
    )


def crew_fill(booking_ids: Iterable[int]) -> dict[int, Fill]:
    """Booking id → its crew's fill by state ("2 ✓ · 1 awaiting · 1 open"), for the calendar."""
    return fill_by_booking(booking_ids)
