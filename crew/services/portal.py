"""What crew do in the portal: answer an assignment, tick a checklist item."""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from crew import dispatch
from crew.models import Assignment, AssignmentState, ChecklistItem, CrewMember, SlotOrigin
from crew.selectors import crew_roster
from crew.signals import crew_changed_by_member

logger = logging.getLogger(__name__)


class NotAllowed(Exception):
    """The assignment or item cannot be changed any more (removed, cancelled or obsolete)."""


def assignment_respond(
    *, assignment: Assignment, accepted: bool, reason: str = "", now: datetime | None = None
) -> Assignment:
    """Record the member's answer (accept, or decline with an optional reason)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Assignment.objects.select_for_update(of=("self",)).select_related("event")
        current = locked.get(pk=assignment.pk)
        if current.removed_at is not None or current.event.is_cancelled:
            raise NotAllowed("This charter is no longer yours to answer.")
        was = current.state
        # Declining, or taking a decline back, changes who is on the charter: audited (below).
        flips = accepted == (was == AssignmentState.DECLINED)
        booking_id = current.event.booking_id
        before = None
        if flips:
            before = crew_roster(booking_id)
            current.member = CrewMember.objects.get(pk=current.member_id)
        current.state = AssignmentState.ACCEPTED if accepted else AssignmentState.DECLINED
        current.decline_reason = "" if accepted else reason.strip()[:300]
        current.responded_at = now
        current.save(update_fields=["state", "decline_reason", "responded_at"])
        # A decline opens the place (operators told, offers out); taking it back closes it.
        if not accepted and was != AssignmentState.DECLINED:
            dispatch.slot_open_for(
                assignment=current,
                origin=SlotOrigin.DECLINED,
                reason=current.decline_reason,
                now=now,
            )
        elif accepted and was == AssignmentState.DECLINED:
            try:
                dispatch.slot_reclaim(assignment=current, now=now)
            except dispatch.PlaceTaken as e:
                raise NotAllowed(str(e)) from e
        if before is not None:
            crew_changed_by_member.send(
                sender=Assignment,
                booking_id=booking_id,
                before=before,
                after=crew_roster(booking_id),
                by_name=current.member.name,
            )
    for name in ("state", "decline_reason", "responded_at"):
        setattr(assignment, name, getattr(current, name))
    logger.info("assignment %s %s", assignment.pk, current.state)
    return assignment


def checklist_item_tick(
    *, item: ChecklistItem, by: AbstractBaseUser, done: bool, now: datetime | None = None
) -> ChecklistItem:
    """Tick or untick a checklist item, recording who and when."""
    now = now or timezone.now()
    with transaction.atomic():
        current = (
            ChecklistItem.objects.select_for_update(of=("self",))
            .select_related("assignment__event")
            .get(pk=item.pk)
        )
        assignment = current.assignment
        if current.obsolete or assignment.removed_at is not None or assignment.event.is_cancelled:
            raise NotAllowed("This item no longer applies.")
        if assignment.state == AssignmentState.DECLINED:
            raise NotAllowed("You declined this charter; its checklist is not yours to tick.")
        if done and current.done_at is None:
            current.done_at, current.done_by = now, by
        elif not done:
            current.done_at, current.done_by = None, None
        current.save(update_fields=["done_at", "done_by"])
    item.done_at, item.done_by = current.done_at, current.done_by
    return item
