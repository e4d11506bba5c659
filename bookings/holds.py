"""Holds: events of marketplace calendars. Applying a fetched feed, linking, conflicts.

A hold from the same source as a booking starting at the same time is that booking (linked,
nothing said). Any other overlap of a hold and a confirmed booking of the vessel, turnaround
included, is a conflict: recorded once per pair, a warning in the API's answer, a mark on the
calendar and one operator email. Holds never block a write: the marketplace already sold it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookings.formatting import stamp_span_text
from bookings.models import Booking, CalendarSubscription, Hold, HoldConflict, Status, Vessel


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str


@dataclass(frozen=True)
class ApplyResult:
    created: int
    updated: int
    removed: int
    new_conflicts: int


@dataclass(frozen=True)
class _Busy:
    pk: int
    source: str
    starts_at: datetime
    blocked_until: datetime


def _bookings_busy(vessel_id: int, start: datetime, end: datetime) -> list[_Busy]:
    rows = (
        Booking.objects.filter(
            vessel_id=vessel_id,
            status=Status.CONFIRMED,
            starts_at__lt=end,
            blocked_until__gt=start,
        )
        .order_by("starts_at", "pk")
        .values_list("pk", "source", "starts_at", "blocked_until")
    )
    return [_Busy(*row) for row in rows]


def _overlapping(busy: Sequence[_Busy], ends: Sequence[datetime], hold: Hold) -> list[_Busy]:
    # Confirmed bookings of one vessel never overlap, so sorted by start they are sorted by end.
    found = []
    for entry in busy[bisect.bisect_right(ends, hold.starts_at) :]:
        if entry.starts_at >= hold.ends_at:
            break
        found.append(entry)
    return found


def holds_reconcile(*, vessel_id: int, holds: Iterable[Hold] | None = None) -> int:
    """Link holds to their bookings and record conflicts; returns how many conflicts are new.

    Runs in the caller's transaction; `holds` defaults to every hold of the vessel.
    """
    if holds is None:
        holds = Hold.objects.filter(vessel_id=vessel_id)
    holds = list(holds)
    if not holds:
        return 0
    busy = _bookings_busy(vessel_id, min(h.starts_at for h in holds), max(h.ends_at for h in holds))
    ends = [b.blocked_until for b in busy]
    wanted: set[tuple[int, int]] = set()
    linked: list[Hold] = []
    for hold in holds:
        overlapping = _overlapping(busy, ends, hold)
        if hold.booking_id is None:
            same = next(
                (
                    b
                    for b in overlapping
                    if b.source == hold.source and b.starts_at == hold.starts_at
                ),
                None,
            )
            if same is not None:
                hold.booking_id = same.pk
                linked.append(hold)
        wanted |= {(hold.pk, b.pk) for b in overlapping if b.pk != hold.booking_id}
    if linked:
        Hold.objects.bulk_update(linked, ["booking"])
    hold_ids = [h.pk for h in holds]
    existing = set(
        HoldConflict.objects.filter(hold_id__in=hold_ids).values_list("hold_id", "booking_id")
    )
    gone = existing - wanted
    for hold_id, booking_id in gone:
        HoldConflict.objects.filter(hold_id=hold_id, booking_id=booking_id).delete()
    new = [HoldConflict(hold_id=h, booking_id=b) for h, b in sorted(wanted - existing)]
    HoldConflict.objects.bulk_create(new)
    return len(new)


def booking_holds_reconcile(*, booking: Booking) -> int:
    """After a booking is written: its vessel's holds around its time, and those it was near.

    New conflicts are emailed to the operators once the transaction commits.
    """
    return bookings_holds_reconcile(bookings=[booking], stale_too=True)


def bookings_holds_reconcile(*, bookings: Sequence[Booking], stale_too: bool = False) -> int:
    """The holds near these bookings (one read, whatever their number), linked and checked."""
    if not bookings:
        return 0
    near = Q()
    for booking in bookings:
        near |= Q(
            vessel_id=booking.vessel_id,
            starts_at__lt=booking.blocked_until,
            ends_at__gt=booking.starts_at,
        )
    if stale_too:
        near |= Q(conflicts__booking__in=[b.pk for b in bookings])
    by_vessel: dict[int, list[Hold]] = {}
    for hold in Hold.objects.filter(near).distinct():
        by_vessel.setdefault(hold.vessel_id, []).append(hold)
    new = sum(holds_reconcile(vessel_id=v, holds=hs) for v, hs in by_vessel.items())
    if new:
        conflicts_alert_on_commit()
    return new


def holds_apply(
    *,
    subscription: CalendarSubscription,
    events: Sequence[FeedEvent],
    etag: str,
    last_modified: str,
    now: datetime | None = None,
) -> ApplyResult:
    """Make the subscription's holds what the feed says, in one transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        # One sync of a subscription at a time: the beat task and a manual run may meet.
        subscription = CalendarSubscription.objects.select_for_update().get(pk=subscription.pk)
        existing = {h.uid: h for h in Hold.objects.filter(subscription=subscription)}
        created: list[Hold] = []
        updated: list[Hold] = []
        for event in events:
            hold = existing.pop(event.uid, None)
            if hold is None:
                created.append(
                    Hold(
                        subscription=subscription,
                        vessel_id=subscription.vessel_id,
                        source=subscription.source,
                        uid=event.uid,
                        starts_at=event.starts_at,
                        ends_at=event.ends_at,
                        summary=event.summary[:500],
                    )
                )
            elif (hold.starts_at, hold.ends_at, hold.summary, hold.vessel_id) != (
                event.starts_at,
                event.ends_at,
                event.summary[:500],
                subscription.vessel_id,
            ):
                moved = (hold.starts_at, hold.ends_at) != (event.starts_at, event.ends_at)
                hold.starts_at, hold.ends_at = event.starts_at, event.ends_at
                hold.summary, hold.vessel_id = event.summary[:500], subscription.vessel_id
                hold.source = subscription.source
                if moved and hold.booking_id is not None:
                    # A moved hold is matched again: the booking may not have moved with it.
                    hold.booking = None
                hold.updated_at = now
                updated.append(hold)
        Hold.objects.bulk_create(created, batch_size=500)
        fields = ["starts_at", "ends_at", "summary", "vessel", "source", "booking", "updated_at"]
        Hold.objects.bulk_update(updated, fields, batch_size=100)
        removed = [h.pk for h in existing.values()]
        Hold.objects.filter(pk__in=removed).delete()
        subscription.etag, subscription.last_modified = etag[:200], last_modified[:100]
        subscription.last_synced_at, subscription.last_error = now, ""
        subscription.save(update_fields=["etag", "last_modified", "last_synced_at", "last_error"])
        new = holds_reconcile(
            vessel_id=subscription.vessel_id,
            holds=Hold.objects.filter(subscription=subscription),
        )
        if new:
            conflicts_alert_on_commit()
    return ApplyResult(len(created), len(updated), len(removed), new)


def subscription_failed(*, subscription: CalendarSubscription, error: str) -> None:
    """Record why the last sync failed; the subscription's holds stay as they were."""
    CalendarSubscription.objects.filter(pk=subscription.pk).update(
        last_error=error[:2000], last_error_at=timezone.now()
    )


def subscription_not_modified(*, subscription: CalendarSubscription) -> None:
    CalendarSubscription.objects.filter(pk=subscription.pk).update(
        last_synced_at=timezone.now(), last_error=""
    )


def conflicts_alert_on_commit() -> None:
    """Email the operators about new conflicts once the transaction that found them commits."""
    from bookings import tasks

    transaction.on_commit(tasks.send_hold_conflict_alerts.delay)


def conflict_sentence(conflict: HoldConflict) -> str:
    """One readable sentence about a conflict (the API's warning, the email, the calendar)."""
    hold, booking = conflict.hold, conflict.booking
    return (
        f"{hold.vessel.name} is also taken on {hold.subscription.name} "
        f"{stamp_span_text(hold.starts_at, hold.ends_at)}, overlapping "
        f"{booking.external_ref} ({stamp_span_text(booking.starts_at, booking.ends_at)}): "
        "check with the marketplace."
    )


def hold_warnings(booking_id: int) -> list[str]:
    """The conflicts of one booking with external calendar holds, as sentences."""
    conflicts = HoldConflict.objects.filter(booking_id=booking_id).select_related(
        "hold__vessel", "hold__subscription", "booking"
    )
    return [conflict_sentence(c) for c in conflicts.order_by("hold__starts_at", "pk")]


class HoldsNear:
    """Holds around new bookings, read once: the conflicts each would get, without writing.

    What `bookings_holds_reconcile` records for a new booking and `hold_warnings` then says:
    a hold of the vessel overlapping it, unless the hold is that booking (same source and
    start, not linked yet; the first booking to match it takes it).
    """

    def __init__(self) -> None:
        self._by_vessel: dict[int, dict[int, Hold]] = {}
        self._taken: set[int] = set()  # holds linked to a booking of the plan

    def read(self, bookings: Sequence[Booking]) -> None:
        confirmed = [b for b in bookings if b.status == Status.CONFIRMED]
        if not confirmed:
            return
        near = Hold.objects.filter(
            vessel_id__in={b.vessel_id for b in confirmed},
            starts_at__lt=max(b.blocked_until for b in confirmed),
            ends_at__gt=min(b.starts_at for b in confirmed),
        ).select_related("vessel", "subscription")
        for hold in near:
            self._by_vessel.setdefault(hold.vessel_id, {}).setdefault(hold.pk, hold)

    def warnings(self, booking: Booking) -> list[str]:
        """The new booking's conflicts as `hold_warnings` words them; it takes the hold it is."""
        if booking.status != Status.CONFIRMED:
            return []
        holds = self._by_vessel.get(booking.vessel_id, {}).values()
        found = []
        for hold in sorted(holds, key=lambda h: (h.starts_at, h.pk)):
            if not (hold.starts_at < booking.blocked_until and hold.ends_at > booking.starts_at):
                continue
            if (
                hold.booking_id is None
                and hold.pk not in self._taken
                and (hold.source, hold.starts_at) == (booking.source, booking.starts_at)
            ):
                self._taken.add(hold.pk)
                continue
            found.append(conflict_sentence(HoldConflict(hold=hold, booking=booking)))
        return found


def holds_starting_between(
    start: datetime, end: datetime, *, vessel_id: int | None = None
) -> list[Hold]:
    """Holds starting in [start, end), for the operator's calendar (with their conflicts)."""
    queryset = Hold.objects.filter(starts_at__gte=start, starts_at__lt=end)
    if vessel_id is not None:
        queryset = queryset.filter(vessel_id=vessel_id)
    return list(
        queryset.select_related("vessel", "subscription")
        .prefetch_related("conflicts")
        .order_by("starts_at", "pk")
    )


def conflicted_booking_ids(booking_ids: Sequence[int]) -> set[int]:
    """Which of these bookings overlap an external calendar hold."""
    if not booking_ids:
        return set()
    found = HoldConflict.objects.filter(booking_id__in=list(booking_ids))
    return set(found.values_list("booking_id", flat=True))


def vessel_rotate_feed_token(*, vessel: Vessel) -> Vessel:
    """A new secret for the vessel's feed: the old URL stops working at once."""
    from bookings.models import new_feed_token

    vessel.feed_token = new_feed_token()
    vessel.save(update_fields=["feed_token"])
    return vessel


def hold_link(*, hold: Hold, booking: Booking) -> None:
    """The hold is this booking (made from it in the admin): no conflict between the two."""
    with transaction.atomic():
        Hold.objects.filter(pk=hold.pk).update(booking=booking)
        HoldConflict.objects.filter(hold=hold, booking=booking).delete()
