"""The attention board: what needs the operator in the next 14 days, in a fixed number of queries.

Failed or stuck pipeline stages, crew gaps (open slots, declined or overdue crew answers, no
accepted captain), guest emails that did not go, guest pages not published, charters a
marketplace's calendar hold overlaps. One row per charter and kind of problem, naming the charter
and linking to where it is fixed. No money: the dispatcher reads the same board.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from bookings.formatting import local, stamp_span_text, stamp_text
from bookings.models import Booking, HoldConflict, Status
from crew.models import Assignment, AssignmentState, CrewEvent, Role, Slot
from guests.models import GuestPage, PageState
from jada.models import StageRun, StageState
from jada.pipeline.retry import never_dispatched, stuck_running
from jada.pipeline.stages import OUTSIDE_STAGES

BOARD_DAYS = 14


@dataclass(frozen=True)
class AttentionRow:
    booking_id: int
    charter: str  # "Boatsetter BS-1"
    starts: str  # "Sun 2026-12-13 09:00 PST"
    starts_at: datetime
    kind: str  # pipeline, crew, guest, fleet
    problems: tuple[str, ...]  # one readable sentence each, of this kind, for this charter
    fix_url: str
    fix_label: str
    retry: bool = False  # a failed stage the operator may queue again

    @property
    def problem(self) -> str:
        return " ".join(self.problems)


def _local(value: datetime) -> str:
    return stamp_text(value)


def _failing_stages(booking_ids: list[int], now: datetime) -> list[StageRun]:
    """Failed stages not redone by a later run, stuck ones, and runs never queued."""
    redone = StageRun.objects.filter(
        run__booking_id=OuterRef("run__booking_id"),
        stage=OuterRef("stage"),
        run_id__gt=OuterRef("run_id"),
    ).exclude(state=StageState.SKIPPED)
    return list(
        StageRun.objects.filter(run__booking_id__in=booking_ids, stage__in=OUTSIDE_STAGES)
        .filter(
            Q(state__in=[StageState.FAILED, StageState.RETRYING])
            | stuck_running(now)
            | (Q(state=StageState.PENDING) & never_dispatched(now))
        )
        .filter(~Exists(redone))
        .select_related("run")
        .order_by("run_id", "pk")
    )


def attention_rows(*, now: datetime | None = None, days: int = BOARD_DAYS) -> list[AttentionRow]:
    """Everything that needs the operator for charters starting in the next `days` days."""
    now = now or timezone.now()
    bookings = {
        b.pk: b
        for b in Booking.objects.filter(
            status=Status.CONFIRMED, starts_at__gte=now, starts_at__lt=now + timedelta(days=days)
        ).only("id", "source", "external_ref", "starts_at", "guest_email")
    }
    if not bookings:
        return []
    ids = list(bookings)
    # One row per charter and kind of problem; a second problem of the kind joins the row.
    found: dict[tuple[int, str], AttentionRow] = {}

    def row(booking_id: int, kind: str, problem: str, url: str, label: str, **kw) -> None:
        b = bookings[booking_id]
        known = found.get((booking_id, kind))
        if known is not None:
            if known.fix_url != url:
                # Problems fixed in different places (two pipeline runs): the booking lists both.
                url, label = reverse("admin:bookings_booking_change", args=[booking_id]), "Booking"
            found[booking_id, kind] = replace(
                known,
                problems=(*known.problems, problem),
                fix_url=url,
                fix_label=label,
                retry=known.retry or kw.get("retry", False),
            )
            return
        found[booking_id, kind] = AttentionRow(
            booking_id=booking_id,
            charter=str(b),
            starts=_local(b.starts_at),
            starts_at=b.starts_at,
            kind=kind,
            problems=(problem,),
            fix_url=url,
            fix_label=label,
            **kw,
        )

    for stage in _failing_stages(ids, now):
        url = reverse("admin:jada_pipelinerun_change", args=[stage.run_id])
        name = stage.get_stage_display()
        if stage.state in (StageState.FAILED, StageState.RETRYING):
            problem = f"{name} failed after {stage.attempts} attempt(s): {stage.last_error[:160]}"
            if stage.state == StageState.RETRYING and stage.next_attempt_at:
                problem += f" (next try {_local(stage.next_attempt_at)})"
            row(stage.run.booking_id, "pipeline", problem, url, "Pipeline run", retry=True)
        elif stage.state == StageState.RUNNING:
            problem = f"{name} has been running since {_local(stage.started_at)}: stuck."
            row(stage.run.booking_id, "pipeline", problem, url, "Pipeline run")
        else:
            problem = f"{name} was never queued (the task queue was unreachable)."
            row(stage.run.booking_id, "pipeline", problem, url, "Pipeline run")

    _crew_rows(bookings, row, now=now)

    pages = {p.booking_id: p for p in GuestPage.objects.filter(booking_id__in=ids)}
    for booking_id in ids:
        page = pages.get(booking_id)
        if page is None or page.state != PageState.PUBLISHED:
            state = page.get_state_display().lower() if page else "not created"
            url = (
                reverse("admin:guests_guestpage_change", args=[page.pk])
                if page
                else reverse("admin:bookings_booking_change", args=[booking_id])
            )
            row(booking_id, "guest", f"Guest page {state}.", url, "Guest page")
        elif bookings[booking_id].guest_email and page.emailed_at is None:
            url = reverse("admin:guests_guestpage_change", args=[page.pk])
            row(booking_id, "guest", "The guest's email did not go out.", url, "Guest page")

    _conflict_rows(bookings, row)
    # Insertion order within a charter: pipeline, crew, guest, fleet.
    return sorted(found.values(), key=lambda r: (r.starts_at, r.booking_id))


def _crew_rows(bookings: dict[int, Booking], row: Callable[..., None], *, now: datetime) -> None:
    """A charter's crew problems, one row: declined, overdue answers, open slots, no captain.

    A member asked lately whose answer is not due yet needs nothing from the operator; a
    captain who declined or has not answered in time, or an open captain slot, carries the
    "no captain" sentence rather than a row of its own.
    """
    ids = list(bookings)
    events = dict(
        CrewEvent.objects.filter(booking_id__in=ids).values_list("pk", "booking_id").order_by()
    )
    event_of = {booking_id: pk for pk, booking_id in events.items()}
    accepted: set[int] = set()  # charters with a captain who accepted
    waiting: set[int] = set()  # a captain asked, the answer not due yet
    problems: dict[int, list[str]] = {}
    captain_line: dict[int, int] = {}  # where the "no captain" sentence goes
    nudge = now - timedelta(hours=settings.CREW_NUDGE_AFTER_HOURS)
    soon = now + timedelta(hours=settings.CREW_ALERT_WITHIN_HOURS)

    def add(booking_id: int, problem: str, *, captain: bool) -> None:
        lines = problems.setdefault(booking_id, [])
        if captain:
            captain_line.setdefault(booking_id, len(lines))
        lines.append(problem)

    for a in (
        Assignment.objects.filter(event_id__in=list(events), removed_at__isnull=True)
        .select_related("member")
        .order_by("call_at", "pk")
    ):
        booking_id = events[a.event_id]
        captain = a.role == Role.CAPTAIN
        if a.state == AssignmentState.ACCEPTED:
            if captain:
                accepted.add(booking_id)
        elif a.state == AssignmentState.DECLINED:
            why = f": “{a.decline_reason}”" if a.decline_reason else ""
            add(booking_id, f"{a.member.name} declined{why}.", captain=captain)
        elif a.state == AssignmentState.PENDING:
            due = a.notified_at is not None and (
                a.notified_at <= nudge or bookings[booking_id].starts_at <= soon
            )
            if due:
                role = a.get_role_display().lower()
                asked = f" (asked {_local(a.notified_at)})"
                add(
                    booking_id,
                    f"{a.member.name} ({role}) has not answered{asked}.",
                    captain=captain,
                )
            elif captain:
                waiting.add(booking_id)
    for slot in Slot.objects.filter(
        event_id__in=list(events), filled_at__isnull=True, withdrawn_at__isnull=True
    ).select_related("vacated_by"):
        left = f", left by {slot.vacated_by.name}" if slot.vacated_by else ""
        role, origin = slot.get_role_display().lower(), slot.get_origin_display().lower()
        add(
            events[slot.event_id],
            f"Open {role} slot ({origin}{left}).",
            captain=slot.role == Role.CAPTAIN,
        )
    for booking_id in ids:
        lines = problems.get(booking_id, [])
        if booking_id not in accepted:
            if booking_id in captain_line:
                lines[captain_line[booking_id]] += " No captain has accepted."
            elif booking_id not in waiting:
                lines.insert(0, "No captain has accepted.")
        event_id = event_of.get(booking_id)
        url = (
            reverse("admin:crew_crewevent_change", args=[event_id])
            if event_id
            else reverse("admin:bookings_booking_change", args=[booking_id])
        )
        for line in lines:
            row(booking_id, "crew", line, url, "Crew")


def _conflict_rows(bookings: dict[int, Booking], row: Callable[..., None]) -> None:
    """One row per charter a marketplace's calendar hold overlaps: the first hold, and how many."""
    by_booking: dict[int, list[HoldConflict]] = {}
    for conflict in (
        HoldConflict.objects.filter(booking_id__in=list(bookings))
        .select_related("hold__subscription", "hold__vessel")
        .order_by("hold__starts_at", "pk")
    ):
        by_booking.setdefault(conflict.booking_id, []).append(conflict)
    calendar = reverse("admin:bookings_booking_calendar")
    for booking_id, conflicts in by_booking.items():
        hold = conflicts[0].hold
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        problem = (
            f"Conflicts with a hold in the {hold.get_source_display()} calendar "
            f"“{hold.subscription.name}”, {stamp_span_text(hold.starts_at, hold.ends_at)}{more}: "
            "check with the marketplace, then move or cancel one."
        )
        # The charter's month in the calendar, its vessel only: charter and hold side by side.
        month = f"{local(bookings[booking_id].starts_at):%Y-%m}"
        url = f"{calendar}?{urlencode({'month': month, 'vessel': hold.vessel.code})}"
        row(booking_id, "fleet", problem, url, "Calendar")
