"""Reads of the crew's side that need care: visibility, prefetching, overlaps."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from crew import formatting
from crew.models import (
    Assignment,
    ChecklistItem,
    CrewEvent,
    CrewMember,
    EventStatus,
    Role,
    first_name_of,
)


def operator_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE_NAME)


def event_id_for_booking(booking_id: int) -> int | None:
    """The crew event id of a booking, or None when it has none yet."""
    return CrewEvent.objects.filter(booking_id=booking_id).values_list("pk", flat=True).first()


def _span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    start, end = start.astimezone(zone), end.astimezone(zone)
    if start.date() == end.date():
        return f"{start:%a %d %b %Y %H:%M} to {end:%H:%M}"
    return f"{start:%a %d %b %Y %H:%M} to {end:%a %d %b %H:%M}"


# Overlaps listed per event; past this, one line says how many more (a roster pasted twice
# must not turn one save into a read of every shift on record).
OVERLAP_LIST_LIMIT = 10


def event_overlap_warnings(event: CrewEvent) -> list[str]:
    """Warnings for the event's active assignments whose shifts overlap another event's.

    Shifts are half-open [call_at, ends_at): back-to-back shifts do not overlap.
    Removed assignments and cancelled events never count.
    """
    if event.status == EventStatus.CANCELLED:
        return []
    mine = list(
        Assignment.objects.filter(event=event, removed_at__isnull=True)
        .select_related("member")
        .order_by("call_at", "pk")
    )
    if not mine:
        return []
    clash = Q()
    for a in mine:
        clash |= Q(member_id=a.member_id, call_at__lt=a.ends_at, ends_at__gt=a.call_at)
    others = (
        Assignment.objects.filter(clash, removed_at__isnull=True)
        .exclude(event=event)
        .exclude(event__status=EventStatus.CANCELLED)
    )
    rows = list(
        others.order_by("call_at", "pk").values_list(
            "member_id", "call_at", "ends_at", "event__title"
        )[: OVERLAP_LIST_LIMIT + 1]
    )
    zone = operator_zone()
    warnings = []
    for assignment in mine:
        for member_id, call_at, ends_at, title in rows:
            if member_id != assignment.member_id:
                continue
            if call_at < assignment.ends_at and assignment.call_at < ends_at:
                warnings.append(
                    f"{assignment.member.name} ({assignment.member.code}): shift "
                    f"{_span(assignment.call_at, assignment.ends_at, zone)} overlaps "
                    f"{title} (shift {_span(call_at, ends_at, zone)}), times in {zone.key}"
                )
    if len(rows) > OVERLAP_LIST_LIMIT:
        del warnings[OVERLAP_LIST_LIMIT:]
        more = others.count() - OVERLAP_LIST_LIMIT
        warnings.append(f"… and {more} more overlapping shift(s) of this crew.")
    return warnings


def overlap_warnings(*, booking_id: int) -> list[str]:
    """Human-readable overlap warnings for the booking's crew event (empty when none)."""
    event = CrewEvent.objects.filter(booking_id=booking_id).first()
    if event is None:
        return []
    return event_overlap_warnings(event)


# --- The portal: a member sees their own assignments only ---

# Past charters shown in the portal (older ones stay in the calendar feed).
PAST_WINDOW = timedelta(days=90)


def member_for_user(user) -> CrewMember | None:
    """The active crew member behind a signed-in user, or None (staff, strangers)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return CrewMember.objects.filter(user_id=user.pk, active=True).first()


def _load_card_details(assignments: list[Assignment]) -> None:
    """Set what a full card shows beyond its row, in two queries however many cards.

    `visible_items`: the live checklist as plain dicts (pk, text, done_at); `active_crew`: the
    event's active crew as (assignment pk, role, first name). No model instances are built:
    these rows are only read, and building them was most of the portal's query time.
    """
    if not assignments:
        return
    items: dict[int, list[dict]] = {a.pk: [] for a in assignments}
    rows = (
        ChecklistItem.objects.filter(assignment__in=list(items), obsolete=False)
        .order_by("position", "pk")
        .values("pk", "assignment_id", "text", "done_at")
    )
    for row in rows:
        items[row["assignment_id"]].append(row)
    crew: dict[int, list[tuple[int, str, str]]] = {a.event_id: [] for a in assignments}
    rows = (
        Assignment.objects.filter(event__in=list(crew), removed_at__isnull=True)
        .order_by("call_at", "pk")
        .values_list("event_id", "pk", "role", "member__name", "member__code")
    )
    for event_id, pk, role, name, code in rows:
        crew[event_id].append((pk, role, first_name_of(name, code)))
    for assignment in assignments:
        assignment.visible_items = items[assignment.pk]
        assignment.active_crew = crew[assignment.event_id]


_ROLE_LABELS = dict(Role.choices)

# A pk no row has, reversed once and cut out: every other pk's URL is then string assembly.
_SENTINEL_PK = 987654321


def _url_maker(name: str) -> Callable[[int], str]:
    """`pk -> reverse(name, args=[pk])` for a URL whose only argument is a pk, reversing once."""
    head, _, tail = reverse(name, args=[_SENTINEL_PK]).partition(str(_SENTINEL_PK))
    return lambda pk: f"{head}{pk}{tail}"


@dataclass(frozen=True)
class CardLinks:
    """The URLs a card links and posts to, each reversed once per page rather than per use."""

    page: Callable[[int], str]
    respond: Callable[[int], str]
    tick: Callable[[int], str]

    @classmethod
    def build(cls) -> CardLinks:
        return cls(
            page=_url_maker("crew-assignment"),
            respond=_url_maker("crew-respond"),
            tick=_url_maker("crew-checklist-tick"),
        )


def _summarize(assignment: Assignment, links: CardLinks) -> Assignment:
    """What a one-line listing shows: the date, the link and the state badge."""
    assignment.url = links.page(assignment.pk)
    # Off the charter: the day they were called for, not wherever the charter has moved since.
    day = assignment.call_at if assignment.removed_at else assignment.event.starts_at
    assignment.date_text = formatting.date_text(day)
    assignment.open = assignment.removed_at is None and not assignment.event.is_cancelled
    if assignment.removed_at is not None:
        assignment.badge = ("cancelled", "You are no longer on this charter")
    elif assignment.event.is_cancelled:
        assignment.badge = ("cancelled", "Charter cancelled")
    else:
        assignment.badge = (assignment.state, assignment.get_state_display())
    return assignment


def _annotate(assignment: Assignment, links: CardLinks) -> Assignment:
    """A full card: times as text, crew first names, checklist progress and form URLs."""
    _summarize(assignment, links)
    event = assignment.event
    assignment.respond_url = links.respond(assignment.pk)
    assignment.call_text = formatting.when_text(assignment.call_at)
    assignment.shift_text = formatting.minutes_text(assignment.shift_minutes)
    assignment.shift_end_text = formatting.time_text(assignment.shift_ends_at)
    assignment.charter_start_text = formatting.time_text(event.starts_at)
    assignment.charter_length_text = formatting.minutes_text(event.duration_minutes)
    others = [(role, first) for pk, role, first in assignment.active_crew if pk != assignment.pk]
    captain = next((first for role, first in others if role == Role.CAPTAIN), None)
    assignment.captain_name = (
        assignment.member.first_name if assignment.role == Role.CAPTAIN else captain
    )
    assignment.shipmates = [
        f"{first} ({_ROLE_LABELS.get(role, role)})"
        for role, first in others
        if role != Role.CAPTAIN
    ]
    items = assignment.visible_items
    for item in items:
        item["tick_url"] = links.tick(item["pk"])
    assignment.progress = f"{sum(1 for i in items if i['done_at'] is not None)}/{len(items)}"
    return assignment


@dataclass(frozen=True)
class Portal:
    member: CrewMember
    upcoming: list[Assignment]  # full cards
    past: list[Assignment]  # one line each; the full card is on the assignment's own page


def portal_for(member: CrewMember, *, now: datetime) -> Portal:
    """The member's current assignments: upcoming first by call time, then recent past.

    Only upcoming ones get the card's details (checklist, crew): past ones are listed by date,
    role, dock and state, linking to their own page.
    """
    rows = (
        Assignment.objects.filter(
            member=member, removed_at__isnull=True, call_at__gte=now - PAST_WINDOW
        )
        .select_related("event")
        .order_by("call_at", "pk")
    )
    links = CardLinks.build()
    upcoming, past = [], []
    for assignment in rows:
        assignment.member = member  # the filter's own member: no join needed
        (upcoming if assignment.shift_ends_at >= now else past).append(assignment)
    _load_card_details(upcoming)
    for assignment in upcoming:
        _annotate(assignment, links)
    for assignment in past:
        _summarize(assignment, links)
    past.reverse()
    return Portal(member=member, upcoming=upcoming, past=past)


def assignment_for(member: CrewMember, pk: int) -> Assignment | None:
    """One of the member's assignments (removed ones included), or None if not theirs."""
    found = (
        Assignment.objects.filter(member=member, pk=pk).select_related("event", "member").first()
    )
    if found is None:
        return None
    if found.removed_at is not None:
        # Taken off the charter: what it became since is no longer theirs to see.
        found.gone = True
        return _summarize(found, CardLinks.build())
    _load_card_details([found])
    return _annotate(found, CardLinks.build())


def assignment_owned(member: CrewMember, pk: int) -> Assignment | None:
    """One of the member's assignments, without the portal's details (for writes)."""
    return Assignment.objects.filter(member=member, pk=pk).first()


def assignment_with_member(pk: int) -> Assignment | None:
    """An assignment with its event and member (for links that carry their own token)."""
    return Assignment.objects.filter(pk=pk).select_related("event", "member").first()


def checklist_item_for(member: CrewMember, pk: int) -> ChecklistItem | None:
    return ChecklistItem.objects.filter(assignment__member=member, pk=pk).first()


def feed_member(token: str) -> CrewMember | None:
    """The member whose calendar feed secret is `token` (constant-time confirmed), or None."""
    member = CrewMember.objects.filter(feed_token=token, active=True).first()
    if member is None or not hmac.compare_digest(member.feed_token.encode(), token.encode()):
        return None
    return member


def feed_assignments(member: CrewMember) -> list[Assignment]:
    return list(
        Assignment.objects.filter(member=member)
        .select_related("event", "member")
        .order_by("call_at")
    )


def event_ticks(event: CrewEvent) -> list[ChecklistItem]:
    """The event's ticked live checklist items with their members, in the order ticked."""
    return list(
        ChecklistItem.objects.filter(
            assignment__event=event,
            assignment__removed_at__isnull=True,
            obsolete=False,
            done_at__isnull=False,
        )
        .select_related("assignment__member")
        .order_by("done_at", "pk")
    )


def event_progress(event: CrewEvent) -> dict[int, str]:
    """Assignment id → "done/total" of its live checklist items, in one query."""
    rows = (
        ChecklistItem.objects.filter(assignment__event=event, obsolete=False)
        .values("assignment_id")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(done_at__isnull=False)))
        .order_by()
    )
    return {row["assignment_id"]: f"{row['done']}/{row['total']}" for row in rows}
