"""The CSV import's plan: what saving new bookings would do, decided from reads alone.

For payloads whose bookings are not on file, `ImportPlan.plan_new` builds and checks each
booking, decides the vessel's time against the table and the rows before it, builds the crew
event and assignments, and words every warning the API would give (a past charter, a loss,
overlapping shifts, crew away that day, calendar holds) — with the functions the API's save
uses. Nothing is written. The import writes exactly what was planned (`apply`), a dry run stops
here; so both report the same lines. A dry run also plans a row that amends a booking planned
earlier, when the amendment leaves its vessel, time, status and crew as they are (`amend`);
anything else needs the write to know, and is the caller's to save for real.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from bookings.holds import HoldsNear
from bookings.intervals import Intervals
from bookings.models import Booking
from bookings.selectors import booking_next_id, booking_projection
from bookings.services import (
    OPERATIONAL_FIELDS,
    BookingData,
    booking_changes,
    bookings_build_new,
)
from bookings.vessels import BookedTimes
from crew.availability import events_availability_warnings
from crew.dispatch_plans import slot_items
from crew.models import Assignment, CrewEvent, CrewMember, EventStatus
from crew.selectors import overlap_lines
from crew.services import CrewSyncResult, PlannedAssignment, default_shift_minutes
from crew.services.events import new_event, new_roster
from jada.intake import IntakeConflict, IntakeRejected, IntakeResult, ValidIntake, model_errors
from jada.lookups import members_named
from jada.models import PipelineRun
from jada.services import booking_warnings, bookings_save_planned

Key = tuple[str, str]


@dataclass
class Planned:
    """A new booking of the plan: built, checked, not written."""

    seq: int  # its place among the plan's bookings: the order they are written in
    data: BookingData  # as last given (a dry run's amendment replaces it)
    booking: Booking  # built from `data`, with its money (`booking.financials`)
    plan: tuple[PlannedAssignment, ...] | None  # the crew it is created with
    event: CrewEvent
    roster: list[Assignment]  # in the order they are written
    expected_id: int | None = None
    hold_warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.booking.source, self.booking.external_ref)


def _key(valid: ValidIntake) -> Key:
    return (valid.data.source, valid.data.external_ref)


class ImportPlan:
    """New bookings planned and not written yet, with what later rows must see of them."""

    def __init__(self, *, expect_ids: bool = False) -> None:
        self.expect_ids = expect_ids  # a dry run names the ids bookings would get
        self.reset()

    def reset(self) -> None:
        """Forget the plan (written, or abandoned): later rows read the table again."""
        self.pending: dict[Key, Planned] = {}
        self._seq = 0
        self._times = BookedTimes()
        self._holds = HoldsNear()
        # Member id → shifts: (order, member id, call, end, event title, planned seq or None).
        self._shifts = Intervals()
        self._shifts_read: set[int] = set()
        self._next_id: int | None = None
        self._members: dict[str, CrewMember] = {}

    def plan_new(self, valids: Sequence[ValidIntake]) -> list[IntakeResult | IntakeRejected]:
        """Each payload's result as `booking_intake` would give it, saved in turn after the plan.

        The payloads' keys are neither on file nor planned already, nor repeated here.
        """
        built = bookings_build_new([valid.data for valid in valids])
        self._times.read([b for b in built if isinstance(b, Booking)])
        results: list[IntakeResult | IntakeRejected | Planned] = []
        fresh: list[Planned] = []
        for valid, booking in zip(valids, built, strict=True):
            if isinstance(booking, ValidationError):
                results.append(IntakeRejected(model_errors(booking)))
                continue
            message = self._times.conflict(booking)
            if message is not None:
                results.append(IntakeConflict({"starts_at": [message]}))
                continue
            event = new_event(booking_projection(booking))
            planned = Planned(
                seq=self._seq,
                data=valid.data,
                booking=booking,
                plan=valid.plan,
                event=event,
                roster=[],
            )
            self._seq += 1
            fresh.append(planned)
            results.append(planned)
        members = members_named([p.plan or () for p in fresh])
        self._members |= members
        for p in fresh:
            p.roster = new_roster(p.event, p.plan or (), members)
        self._read_shifts(fresh)
        self._holds.read([p.booking for p in fresh])
        # Each roster as the API's save reads it back: by call time, then as written.
        away = events_availability_warnings([(p.event, _by_call(p)) for p in fresh])
        warnings: dict[int, list[str]] = {}
        for p, away_lines in zip(fresh, away, strict=True):
            # In order: each sees the table and the rows before it, as when saved in turn.
            overlaps = self._overlaps(p)
            self._add_shifts(p)
            p.hold_warnings = self._holds.warnings(p.booking)
            p.expected_id = self._expected_id()
            self.pending[p.key] = p
            warnings[p.seq] = [*overlaps, *away_lines]
        return [_created(r, warnings[r.seq]) if isinstance(r, Planned) else r for r in results]

    def amend(self, valid: ValidIntake) -> IntakeResult | IntakeRejected | None:
        """A row naming a booking planned earlier, as `booking_intake` would answer it then.

        None when the answer needs the write (the vessel, time, status or crew would change,
        or open slots are involved): the caller writes the plan and saves the row for real.
        """
        p = self.pending.get(_key(valid))
        data = valid.data
        if p is None:
            return None
        before = p.booking
        vessel = data.vessel or before.vessel
        same_time = (vessel.pk, data.starts_at, data.duration_minutes, data.status) == (
            before.vessel_id,
            before.starts_at,
            before.duration_minutes,
            before.status,
        )
        if not same_time or (valid.plan is not None and not _same_crew(p, valid.plan)):
            return None
        data = replace(data, vessel=vessel)
        [after] = bookings_build_new([data])
        if isinstance(after, ValidationError):
            return IntakeRejected(model_errors(after))
        changed, money_changed = booking_changes(before, after)
        p.data, p.booking = data, after
        saved = booking_warnings(after)
        return IntakeResult(
            booking=after,
            created=False,
            changed=changed,
            money_changed=money_changed,
            warnings=[
                *saved["warnings"],
                *saved["money_warnings"],
                # Its shifts against every other, the rows after it included (all are saved).
                *self._overlaps(p, everyone=True),
                *events_availability_warnings([(p.event, _by_call(p))])[0],
                *p.hold_warnings,  # its time is the same: so are its conflicts
            ],
            expected_id=p.expected_id,
        )

    def apply(
        self, *, by: AbstractBaseUser | None = None, via: str, by_name: str = ""
    ) -> dict[Key, tuple[Booking, PipelineRun, CrewSyncResult]]:
        """Write the planned bookings, in plan order, and start their pipelines; then reset.

        Raises IntegrityError, having written nothing, when a key or a vessel's time was taken
        meanwhile by someone else.
        """
        planned = list(self.pending.values())
        try:
            if not planned:
                return {}
            started = bookings_save_planned(
                items=[(p.booking, p.plan) for p in planned],
                by=by,
                via=via,
                by_name=by_name,
                members=self._members,
            )
        finally:
            self.reset()
        return {
            p.key: (p.booking, run, crew) for p, (run, crew) in zip(planned, started, strict=True)
        }

    def _expected_id(self) -> int | None:
        if not self.expect_ids:
            return None
        if self._next_id is None:
            self._next_id = booking_next_id()
        self._next_id += 1
        return self._next_id - 1

    def _read_shifts(self, fresh: Iterable[Planned]) -> None:
        """The table's shifts around the new ones (one read), as the API's save compares them."""
        shifts = [a for p in fresh if not p.event.is_cancelled for a in p.roster]
        if not shifts:
            return
        rows = (
            Assignment.objects.filter(
                member_id__in={a.member_id for a in shifts},
                call_at__lt=max(a.ends_at for a in shifts),
                ends_at__gt=min(a.call_at for a in shifts),
                removed_at__isnull=True,
            )
            .exclude(event__status=EventStatus.CANCELLED)
            .values_list("pk", "member_id", "call_at", "ends_at", "event__title")
        )
        for pk, member_id, call_at, ends_at, title in rows:
            if pk not in self._shifts_read:
                self._shifts_read.add(pk)
                # Rows on file come before the plan's (their ids are lower).
                row = ((0, pk), member_id, call_at, ends_at, title, None)
                self._shifts.add(member_id, call_at, ends_at, row)

    def _add_shifts(self, p: Planned) -> None:
        if p.event.is_cancelled:
            return  # a cancelled charter's shifts never overlap anything
        for index, a in enumerate(p.roster):
            row = ((1, p.seq, index), a.member_id, a.call_at, a.ends_at, p.event.title, p.seq)
            self._shifts.add(a.member_id, a.call_at, a.ends_at, row)

    def _overlaps(self, p: Planned, *, everyone: bool = False) -> list[str]:
        """`event_overlap_warnings` of a planned event: against the shifts known so far."""
        if p.event.is_cancelled or not p.roster:
            return []
        mine = _by_call(p)
        found = {
            row[0]: row[:5]
            for a in mine
            for row in self._shifts.overlapping(a.member_id, a.call_at, a.ends_at)
            if row[5] != p.seq and (everyone or row[5] is None or row[5] < p.seq)
        }
        return overlap_lines(mine, found.values())


def _by_call(p: Planned) -> list[Assignment]:
    """The roster by call time, then in the order written (the assignments' own ordering)."""
    return sorted(p.roster, key=lambda a: a.call_at)


def _same_crew(p: Planned, plan: Sequence[PlannedAssignment]) -> bool:
    """Whether `plan` leaves the planned event's crew exactly as it is (no open slots)."""
    if slot_items(plan) or slot_items(p.plan or ()):
        return False
    minutes = default_shift_minutes(p.booking.duration_minutes)
    wanted = {x.member_code: (x.role, x.shift_minutes or minutes) for x in plan if x.member_code}
    return wanted == {a.member.code: (a.role, a.shift_minutes) for a in p.roster}


def _created(p: Planned, crew_warnings: list[str]) -> IntakeResult:
    saved = booking_warnings(p.booking)
    return IntakeResult(
        booking=p.booking,
        created=True,
        changed=frozenset(OPERATIONAL_FIELDS),
        money_changed=True,
        crew_changed=p.plan is not None,
        # In the order the API gives them: the save's own, the crew's, the holds'.
        warnings=[
            *saved["warnings"],
            *saved["money_warnings"],
            *crew_warnings,
            *p.hold_warnings,
        ],
        expected_id=p.expected_id,
    )
