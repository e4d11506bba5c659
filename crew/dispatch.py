"""Open slots and who they are offered to: the crew side of "every charter ends fully crewed".

A slot opens when a member declines, is removed or deactivated, or when the operator or the API
asks for one. With CREW_AUTO_OFFER (and the charter's own switch) on, an open slot of an
upcoming charter is offered at once to every eligible member; emails go after commit, from
Celery tasks, never inside a transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from bookings.formatting import local
from crew import once
from crew.models import (
    Assignment,
    AssignmentState,
    CrewEvent,
    CrewMember,
    EventStatus,
    Offer,
    Slot,
    SlotOrigin,
    Unavailability,
)
from crew.selectors import crew_roster
from crew.signals import crew_changed_by_operator

logger = logging.getLogger(__name__)

# Crew are called this long before boarding (crew.services.CALL_LEAD, which imports this module).
CALL_LEAD_FOR_SLOTS = timedelta(minutes=60)
# Offers emailed per task: a roster of 200 is sent by several workers at once.
OFFER_BATCH = 25
# Origins the operators are emailed about at once: someone left a place.
VACATED = frozenset({SlotOrigin.DECLINED, SlotOrigin.REMOVED, SlotOrigin.DEACTIVATED})


def _after_commit(task_name: str, *args: object) -> None:
    """Queue a crew task once the transaction commits; a broker outage is logged, not raised.

    The beat task (`send_alerts`) sends what a lost task left unsent.
    """

    def queue() -> None:
        from crew import tasks

        try:
            getattr(tasks, task_name).delay(*args)
        except Exception:
            logger.exception("crew task %s%r not queued; the beat sweep sends it", task_name, args)

    transaction.on_commit(queue)


def shift_days(call_at: datetime, ends_at: datetime) -> list[date]:
    """The operator-zone days a shift touches (a member unavailable on any of them is out)."""
    first, last = local(call_at).date(), local(ends_at - timedelta(seconds=1)).date()
    days = [first]
    while days[-1] < last:
        days.append(days[-1] + timedelta(days=1))
    return days


def is_upcoming(event: CrewEvent, now: datetime) -> bool:
    return event.status == EventStatus.SCHEDULED and event.starts_at > now


def offering_on(event: CrewEvent) -> bool:
    return bool(settings.CREW_AUTO_OFFER) and event.auto_offer


def slot_is_live(slot: Slot, now: datetime) -> bool:
    """Whether the slot can still be taken: open, on a scheduled charter not yet started."""
    return slot.is_open and is_upcoming(slot.event, now)


def busy_members(*, call_at: datetime, ends_at: datetime, exclude_event_id: int | None = None):
    """Assignments that keep a member busy during [call_at, ends_at) (a subquery base)."""
    shifts = Assignment.objects.filter(
        removed_at__isnull=True, call_at__lt=ends_at, ends_at__gt=call_at
    ).exclude(event__status=EventStatus.CANCELLED)
    if exclude_event_id is not None:
        shifts = shifts.exclude(event_id=exclude_event_id)
    return shifts.exclude(state=AssignmentState.DECLINED)


def eligible_members(slot: Slot) -> list[CrewMember]:
    """Active members who hold the role, are not on the charter, are free and available.

    One query however large the roster: every rule is a subquery. Roles are filtered here in
    Python because SQLite has no JSON containment.
    """
    ends_at = slot.shift_ends_at
    on_charter = Assignment.objects.filter(
        member=OuterRef("pk"), event_id=slot.event_id, removed_at__isnull=True
    )
    busy = busy_members(call_at=slot.call_at, ends_at=ends_at).filter(member=OuterRef("pk"))
    away = Unavailability.objects.filter(
        member=OuterRef("pk"), day__in=shift_days(slot.call_at, ends_at)
    )
    offered = Offer.objects.filter(slot_id=slot.pk, member=OuterRef("pk"))
    candidates = (
        CrewMember.objects.filter(active=True)
        .filter(~Exists(on_charter), ~Exists(busy), ~Exists(away), ~Exists(offered))
        .exclude(pk=slot.vacated_by_id or 0)
        .only("pk", "code", "name", "email", "roles")
        .order_by("code")
    )
    return [m for m in candidates if slot.role in (m.roles or [])]


def slot_fan_out(*, slot: Slot, now: datetime) -> list[Offer]:
    """Offer the slot to every eligible member not offered it yet; emails go after commit.

    The same number of queries for 2 eligible members or 200.
    """
    if not slot_is_live(slot, now):
        return []
    members = eligible_members(slot)
    offers = Offer.objects.bulk_create(
        [Offer(slot=slot, member=m, created_at=now) for m in members]
    )
    slot.offered_at = now
    Slot.objects.filter(pk=slot.pk).update(offered_at=now)
    # In batches, so several workers send a large roster's emails side by side.
    for start in range(0, len(offers), OFFER_BATCH):
        _after_commit("send_offers", slot.pk, [o.pk for o in offers[start : start + OFFER_BATCH]])
    logger.info("slot %s offered to %d member(s)", slot.pk, len(offers))
    return offers


def slot_open(
    *,
    event: CrewEvent,
    role: str,
    call_at: datetime,
    shift_minutes: int,
    origin: str,
    reason: str = "",
    vacated_by: CrewMember | None = None,
    now: datetime | None = None,
) -> Slot:
    """Open a slot in the caller's transaction; offer it if offering is on; tell operators."""
    now = now or timezone.now()
    slot = Slot.objects.create(
        event=event,
        role=role,
        call_at=call_at,
        shift_minutes=shift_minutes,
        origin=origin,
        reason=reason[:300],
        vacated_by=vacated_by,
        opened_at=now,
    )
    slot.event = event
    if offering_on(event):
        slot_fan_out(slot=slot, now=now)
    if origin in VACATED:
        _after_commit("announce_slot", slot.pk)
    return slot


def slot_open_for(
    *,
    assignment: Assignment,
    origin: str,
    reason: str = "",
    now: datetime,
    call_at: datetime | None = None,
) -> Slot | None:
    """Open the place an assignment leaves (decline, removal, deactivation) on an upcoming charter.

    Nothing opens for a past or cancelled charter, nor twice for the same member's place.
    """
    event = assignment.event
    if not is_upcoming(event, now):
        return None
    already = Slot.objects.filter(
        event=event, vacated_by_id=assignment.member_id, withdrawn_at__isnull=True
    ).filter(Q(filled_at__isnull=True) | Q(filled_by__removed_at__isnull=True))
    if already.exists():
        return None
    return slot_open(
        event=event,
        role=assignment.role,
        call_at=call_at or assignment.call_at,
        shift_minutes=assignment.shift_minutes,
        origin=origin,
        reason=reason,
        vacated_by=assignment.member,
        now=now,
    )


class PlaceTaken(Exception):
    """The member's place went to someone else after they declined."""


def slot_reclaim(*, assignment: Assignment, now: datetime) -> None:
    """A member who declined accepts after all: withdraw the slot their decline opened.

    Raises PlaceTaken when another member has taken it meanwhile.
    """
    slots = Slot.objects.select_for_update().filter(
        event_id=assignment.event_id,
        vacated_by_id=assignment.member_id,
        origin=SlotOrigin.DECLINED,
        withdrawn_at__isnull=True,
    )
    for slot in slots:
        if slot.filled_at is not None:
            raise PlaceTaken("Your place on this charter has been taken; ask the operator.")
        slot.withdrawn_at = now
        slot.save(update_fields=["withdrawn_at"])


def slot_add(
    *, event: CrewEvent, role: str, origin: str = SlotOrigin.OPERATOR, now: datetime | None = None
) -> Slot:
    """The operator (or the API) asks for one more member in `role` on the charter."""
    from crew.services import CALL_LEAD, default_shift_minutes

    with transaction.atomic():
        locked = CrewEvent.objects.select_for_update().get(pk=event.pk)
        return slot_open(
            event=locked,
            role=role,
            call_at=locked.starts_at - CALL_LEAD,
            shift_minutes=default_shift_minutes(locked.duration_minutes),
            origin=origin,
            now=now,
        )


def slot_withdraw(*, slot: Slot, now: datetime | None = None) -> bool:
    """The slot is no longer needed; its offers die. False when it was not open."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Slot.objects.select_for_update().get(pk=slot.pk)
        if not locked.is_open:
            return False
        locked.withdrawn_at = now
        locked.save(update_fields=["withdrawn_at"])
    slot.withdrawn_at = now
    return True


def slot_reoffer(*, slot: Slot, now: datetime | None = None) -> int:
    """Offer an open slot again: new eligible members and everyone offered before, by email."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Slot.objects.select_for_update().select_related("event").get(pk=slot.pk)
        if not slot_is_live(locked, now):
            return 0
        on_charter = Assignment.objects.filter(
            event_id=locked.event_id, removed_at__isnull=True
        ).values("member_id")
        again = (
            Offer.objects.filter(slot=locked, member__active=True)
            .exclude(member_id__in=on_charter)
            .update(emailed_at=None)
        )
        new = slot_fan_out(slot=locked, now=now)
        if again and not new:
            _after_commit("send_offers", locked.pk)
        return again + len(new)


def event_offering_set(*, event: CrewEvent, on: bool, now: datetime | None = None) -> int:
    """Turn offering on or off for one charter; turning it on offers its open slots now."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = CrewEvent.objects.select_for_update().get(pk=event.pk)
        locked.auto_offer = on
        locked.save(update_fields=["auto_offer"])
        if not on or not settings.CREW_AUTO_OFFER:
            return 0
        offered = 0
        for slot in Slot.objects.select_for_update().filter(
            event=locked, filled_at__isnull=True, withdrawn_at__isnull=True
        ):
            slot.event = locked
            offered += len(slot_fan_out(slot=slot, now=now))
        return offered


def member_deactivated(
    *,
    member: CrewMember,
    by: AbstractBaseUser | None = None,
    via: str = "admin",
    now: datetime | None = None,
) -> list[Slot]:
    """A member leaves the roster: each of their upcoming places opens as a slot, and each
    charter's audit log says so as the change of `by` (the operator who deactivated them)."""
    now = now or timezone.now()
    opened = []
    with transaction.atomic():
        places = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("event", "member")
            .filter(member=member, removed_at__isnull=True)
            .filter(event__status=EventStatus.SCHEDULED, event__starts_at__gt=now)
            .exclude(state=AssignmentState.DECLINED)
        )
        for assignment in places:
            booking_id = assignment.event.booking_id
            before = crew_roster(booking_id)
            slot = slot_open_for(
                assignment=assignment,
                origin=SlotOrigin.DEACTIVATED,
                reason="no longer on the roster",
                now=now,
            )
            if slot is not None:
                opened.append(slot)
                crew_changed_by_operator.send(
                    sender=Slot,
                    booking_id=booking_id,
                    before=before,
                    after=crew_roster(booking_id),
                    by=by,
                    via=via,
                )
    return opened


def open_slots_of(event_ids: Iterable[int]) -> dict[int, list[Slot]]:
    """Event id → its open slots, in one query."""
    found: dict[int, list[Slot]] = {}
    rows = Slot.objects.filter(
        event_id__in=list(event_ids), filled_at__isnull=True, withdrawn_at__isnull=True
    ).order_by("call_at", "pk")
    for slot in rows:
        found.setdefault(slot.event_id, []).append(slot)
    return found


def offers_unsent(*, now: datetime | None = None) -> list[int]:
    """Slots with live offers whose email never went (a task lost with the broker)."""
    now = now or timezone.now()
    return list(
        Slot.objects.filter(
            filled_at__isnull=True,
            withdrawn_at__isnull=True,
            event__status=EventStatus.SCHEDULED,
            event__starts_at__gt=now,
            offers__emailed_at__isnull=True,
            offers__created_at__lte=now - timedelta(minutes=5),
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def each_offer_to_send(
    slot_id: int,
    send: Callable[[Offer], None],
    *,
    now: datetime,
    offer_ids: Iterable[int] | None = None,
) -> int:
    """Send each unsent offer of a live slot (or these of them) once, outside any transaction."""
    unsent = Offer.objects.filter(slot_id=slot_id, emailed_at__isnull=True, member__active=True)
    if offer_ids is not None:
        unsent = unsent.filter(pk__in=list(offer_ids))
    rows = list(unsent.select_related("slot__event", "member").order_by("pk"))
    sent = 0
    for offer in rows:
        if not slot_is_live(offer.slot, now):
            break
        # Filled or withdrawn since the rows were read: the claim fails and nothing goes.
        mine = Offer.objects.filter(
            pk=offer.pk, slot__filled_at__isnull=True, slot__withdrawn_at__isnull=True
        )
        if not once.claim(mine, "emailed_at", now):
            continue
        try:
            send(offer)
        except Exception:
            once.unclaim(mine, "emailed_at", now)
            raise
        sent += 1
    return sent
