"""How full a charter's crew is, by state: what the operator reads on the calendar and pages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crew.models import AssignmentState, CrewEvent, Role, Slot

GAP_STYLE = "color:#9b1c1c;font-weight:600"


@dataclass(frozen=True)
class Fill:
    """Counts of a charter's places: accepted, awaiting an answer, declined, open slots."""

    accepted: int = 0
    awaiting: int = 0
    declined: int = 0
    open: int = 0
    captain_accepted: bool = False

    @property
    def empty(self) -> bool:
        return not (self.accepted or self.awaiting or self.declined or self.open)

    @property
    def gap(self) -> bool:
        """Something the operator must still see to: an answer, a replacement, a captain."""
        return bool(self.awaiting or self.declined or self.open) or not self.captain_accepted

    @property
    def text(self) -> str:
        """ "2 ✓ · 1 awaiting · 1 open", with "no accepted captain" when there is none."""
        if self.empty:
            return "no crew assigned"
        parts = [f"{self.accepted} ✓"]
        parts += [f"{self.awaiting} awaiting"] if self.awaiting else []
        parts += [f"{self.declined} declined"] if self.declined else []
        parts += [f"{self.open} open"] if self.open else []
        if not self.captain_accepted:
            parts.append("no accepted captain")
        return " · ".join(parts)

    def __str__(self) -> str:
        return self.text

    def html(self) -> SafeString:
        """The text, styled so a gap stands out."""
        if self.gap:
            return format_html('<span class="crew-fill gap" style="{}">{}</span>', GAP_STYLE, self)
        return format_html('<span class="crew-fill">{}</span>', self)


def fill_annotations() -> dict:
    """CrewEvent annotations for a Fill (`fill_accepted`, … `fill_open`), for admin querysets."""
    live = Q(assignments__removed_at__isnull=True, assignments__member__active=True)
    state = "assignments__state"

    def count(extra: Q) -> Count:
        return Count("assignments", filter=live & extra, distinct=True)

    open_slots = (
        Slot.objects.filter(
            event_id=OuterRef("pk"), filled_at__isnull=True, withdrawn_at__isnull=True
        )
        .values("event_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return {
        "fill_accepted": count(Q(**{state: AssignmentState.ACCEPTED})),
        "fill_awaiting": count(Q(**{state: AssignmentState.PENDING})),
        "fill_declined": count(Q(**{state: AssignmentState.DECLINED})),
        "fill_captains": count(
            Q(**{state: AssignmentState.ACCEPTED, "assignments__role": Role.CAPTAIN})
        ),
        "fill_open": Subquery(open_slots),
    }


FILL_COLUMNS = ("fill_accepted", "fill_awaiting", "fill_declined", "fill_open", "fill_captains")


def fill_by_event(event_ids: Iterable[int]) -> dict[int, Fill]:
    """Crew event id → its Fill, in one query however many charters."""
    return _fill("pk", event_ids)


def fill_by_booking(booking_ids: Iterable[int]) -> dict[int, Fill]:
    """Booking id → the Fill of its crew event, in one query (the calendar)."""
    return _fill("booking_id", booking_ids)


def _fill(key: str, ids: Iterable[int]) -> dict[int, Fill]:
    ids = list(ids)
    if not ids:
        return {}
    rows = (
        CrewEvent.objects.filter(**{f"{key}__in": ids})
        .annotate(**fill_annotations())
        .values_list(key, *FILL_COLUMNS)
        .order_by()
    )
    return {
        pk: Fill(
            accepted=accepted,
            awaiting=awaiting,
            declined=declined,
            open=open_ or 0,
            captain_accepted=bool(captains),
        )
        for pk, accepted, awaiting, declined, open_, captains in rows
    }
