"""The crew portal's reads: a member's assignments as plain frozen cards, in two queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from bookings import formatting
from crew.models import (
    Assignment,
    AssignmentState,
    ChecklistItem,
    CrewMember,
    EventStatus,
    Role,
    Slot,
    first_name_of,
)

# Past charters shown in the portal (older ones stay in the calendar feed).
PAST_WINDOW = timedelta(days=90)

_ROLE_LABELS = dict(Role.choices)
_STATE_LABELS = dict(AssignmentState.choices)


@dataclass(frozen=True)
class CardCharter:
    """What a crew card shows of the charter (the crew event; never the booking)."""

    title: str
    starts_at: datetime
    duration_minutes: int
    guest_count: int
    dock_name: str
    dock_address: str
    dock_map_url: str
    dock_directions: str
    notes: str
    status: str
    version: int
    vessel_name: str

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED


@dataclass(frozen=True)
class Shipmate:
    """Someone else on the charter, as crew call each other, with their answer so far."""

    first_name: str
    role: str
    state: str = AssignmentState.PENDING

    @property
    def role_label(self) -> str:
        return str(_ROLE_LABELS.get(self.role, self.role))

    @property
    def state_label(self) -> str:
        return str(_STATE_LABELS.get(self.state, self.state)).lower()


@dataclass(frozen=True)
class OpenSlot:
    """A place on the charter nobody holds yet (the captain sees these)."""

    role: str
    call_at: datetime

    @property
    def role_label(self) -> str:
        return str(_ROLE_LABELS.get(self.role, self.role))


@dataclass(frozen=True)
class ChecklistLine:
    id: int
    text: str
    done_at: datetime | None

    @property
    def tick_url(self) -> str:
        return reverse("crew-checklist-tick", args=[self.id])


@dataclass(frozen=True)
class AssignmentCard:
    """One of the member's assignments as the portal shows it; texts are derived on render."""

    id: int
    role: str
    state: str
    call_at: datetime
    shift_minutes: int
    decline_reason: str
    removed: bool
    event: CardCharter
    captain_name: str | None = None
    shipmates: tuple[Shipmate, ...] = ()
    checklist: tuple[ChecklistLine, ...] = ()
    # For crew on the charter: the captain's phone; the office's on every card.
    captain_phone: str = ""
    office_phone: str = ""
    open_slots: tuple[OpenSlot, ...] = ()  # shown to the captain only
    captain_state: str = ""

    @property
    def url(self) -> str:
        return reverse("crew-assignment", args=[self.id])

    @property
    def respond_url(self) -> str:
        return reverse("crew-respond", args=[self.id])

    @property
    def role_label(self) -> str:
        return str(_ROLE_LABELS.get(self.role, self.role))

    @property
    def shift_ends_at(self) -> datetime:
        return self.call_at + timedelta(minutes=self.shift_minutes)

    @property
    def date_text(self) -> str:
        # Off the charter: the day they were called for, not wherever the charter has moved since.
        return formatting.date_text(self.call_at if self.removed else self.event.starts_at)

    @property
    def open(self) -> bool:
        """Answers and ticks are taken (not removed, charter not cancelled)."""
        return not self.removed and not self.event.is_cancelled

    @property
    def can_tick(self) -> bool:
        """Checklist controls: only on a live place the member has not declined."""
        return self.open and self.state != AssignmentState.DECLINED

    @property
    def is_captain(self) -> bool:
        return self.role == Role.CAPTAIN

    @property
    def captain_state_label(self) -> str:
        return str(_STATE_LABELS.get(self.captain_state, self.captain_state)).lower()

    @property
    def badge(self) -> tuple[str, str]:
        if self.removed:
            return ("cancelled", "You are no longer on this charter")
        if self.event.is_cancelled:
            return ("cancelled", "Charter cancelled")
        return (self.state, str(_STATE_LABELS.get(self.state, self.state)))

    @property
    def call_text(self) -> str:
        return formatting.when_text(self.call_at)

    @property
    def shift_text(self) -> str:
        return formatting.minutes_text(self.shift_minutes)

    @property
    def shift_end_text(self) -> str:
        return formatting.time_text(self.shift_ends_at)

    @property
    def charter_start_text(self) -> str:
        return formatting.time_text(self.event.starts_at)

    @property
    def charter_length_text(self) -> str:
        return formatting.minutes_text(self.event.duration_minutes)

    @property
    def progress(self) -> str:
        done = sum(1 for item in self.checklist if item.done_at is not None)
        return f"{done}/{len(self.checklist)}"


@dataclass(frozen=True)
class Portal:
    first_name: str
    feed_token: str
    upcoming: tuple[AssignmentCard, ...]  # full cards, by call time
    past: tuple[AssignmentCard, ...]  # one line each, most recent first


# The columns a card is built from: the assignment, its member and its event, as one row.
_COLUMNS = (
    "pk",
    "event_id",
    "member_id",
    "role",
    "state",
    "call_at",
    "shift_minutes",
    "decline_reason",
    "removed_at",
    "member__name",
    "member__code",
    "event__title",
    "event__starts_at",
    "event__duration_minutes",
    "event__guest_count",
    "event__dock_name",
    "event__dock_address",
    "event__dock_map_url",
    "event__dock_directions",
    "event__notes",
    "event__status",
    "event__version",
    "event__vessel_name",
    "member__phone",
)
_EVENT = slice(11, 23)  # the CardCharter's columns


def _rows_with_crew(member: CrewMember, mine: Q, *, keep: Q | None = None) -> list[tuple]:
    """Rows of every active assignment on the events of the member's assignments in `mine`.

    One query for the member's own rows and their shipmates alike; `keep` adds rows that are
    kept even when removed (the member's own, on its own page).
    """
    events = Assignment.objects.filter(mine, member=member).values("event_id")
    wanted = Q(removed_at__isnull=True) if keep is None else Q(removed_at__isnull=True) | keep
    return list(
        Assignment.objects.filter(wanted, event_id__in=events)
        .order_by("call_at", "pk")
        .values_list(*_COLUMNS)
    )


def _checklists(assignment_ids: list[int]) -> dict[int, list[ChecklistLine]]:
    """The live checklist of each assignment, in one query however many."""
    lines: dict[int, list[ChecklistLine]] = {pk: [] for pk in assignment_ids}
    if assignment_ids:
        rows = (
            ChecklistItem.objects.filter(assignment_id__in=assignment_ids, obsolete=False)
            .order_by("position", "pk")
            .values_list("pk", "assignment_id", "text", "done_at")
        )
        for pk, assignment_id, text, done_at in rows:
            lines[assignment_id].append(ChecklistLine(id=pk, text=text, done_at=done_at))
    return lines


def _card(row: tuple, crew=None, checklist=(), open_slots=()) -> AssignmentCard:
    """A card from one row of `_COLUMNS`; with `crew` (that event's rows), a full one.

    Members who declined are left out of the crew; the captain also sees the open slots.
    """
    pk, _event_id, _member_id, role, state, call_at, shift, reason, removed_at = row[:9]
    name, code = row[9], row[10]
    event = CardCharter(*row[_EVENT])
    captain, captain_phone, captain_state, shipmates = None, "", "", []
    for other in crew or ():
        if other[0] == pk or other[4] == AssignmentState.DECLINED:
            continue
        first = first_name_of(other[9], other[10])
        if other[3] == Role.CAPTAIN and captain is None:
            captain, captain_phone, captain_state = first, other[-1], other[4]
        else:
            shipmates.append(Shipmate(first_name=first, role=other[3], state=other[4]))
    if role == Role.CAPTAIN:
        captain, captain_phone, captain_state = first_name_of(name, code), "", ""
    return AssignmentCard(
        id=pk,
        role=role,
        state=state,
        call_at=call_at,
        shift_minutes=shift,
        decline_reason=reason,
        removed=removed_at is not None,
        event=event,
        captain_name=captain if crew is not None else None,
        shipmates=tuple(shipmates),
        checklist=tuple(checklist),
        captain_phone=captain_phone if crew is not None else "",
        office_phone=settings.OFFICE_PHONE,
        open_slots=tuple(open_slots) if role == Role.CAPTAIN else (),
        captain_state=captain_state if crew is not None else "",
    )


def _open_slots(rows: list[tuple]) -> dict[int, list[OpenSlot]]:
    """Event id → its open slots, for the events where a card's member is the captain.

    No query at all when the member captains none of them.
    """
    events = {row[1] for row in rows if row[3] == Role.CAPTAIN}
    found: dict[int, list[OpenSlot]] = {}
    if events:
        slots = (
            Slot.objects.filter(
                event_id__in=events, filled_at__isnull=True, withdrawn_at__isnull=True
            )
            .order_by("call_at", "pk")
            .values_list("event_id", "role", "call_at")
        )
        for event_id, role, call_at in slots:
            found.setdefault(event_id, []).append(OpenSlot(role=role, call_at=call_at))
    return found


def portal_for(member: CrewMember, *, now: datetime) -> Portal:
    """The member's current assignments: upcoming first by call time, then recent past.

    Only upcoming ones get the card's details (checklist, crew): past ones are listed by date,
    role, dock and state, linking to their own page. Two queries however many charters.
    """
    mine = Q(removed_at__isnull=True, call_at__gte=now - PAST_WINDOW)
    rows = _rows_with_crew(member, mine)
    crew: dict[int, list[tuple]] = {}
    own = []
    for row in rows:
        crew.setdefault(row[1], []).append(row)
        if row[2] == member.pk:
            own.append(row)
    upcoming = [r for r in own if r[5] + timedelta(minutes=r[6]) >= now]
    past = [r for r in own if r[5] + timedelta(minutes=r[6]) < now]
    checklists = _checklists([r[0] for r in upcoming])
    slots = _open_slots(upcoming)
    return Portal(
        first_name=member.first_name,
        feed_token=member.feed_token,
        upcoming=tuple(
            _card(r, crew[r[1]], checklists[r[0]], slots.get(r[1], ())) for r in upcoming
        ),
        past=tuple(_card(r) for r in reversed(past)),
    )


def assignment_for(member: CrewMember, pk: int) -> AssignmentCard | None:
    """One of the member's assignments (removed ones included), or None if not theirs."""
    rows = _rows_with_crew(member, Q(pk=pk), keep=Q(pk=pk))
    found = next((row for row in rows if row[0] == pk), None)
    if found is None:
        return None
    if found[8] is not None:
        # Taken off the charter: what it became since is no longer theirs to see.
        return _card(found)
    crew = [row for row in rows if row[1] == found[1] and row[8] is None]
    slots = _open_slots([found]).get(found[1], ())
    return _card(found, crew, _checklists([pk])[pk], slots)
