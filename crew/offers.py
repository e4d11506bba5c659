"""Offers of open slots: the email, the page behind its secret link, and taking the shift."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bookings.formatting import minutes_text, when_text, zone_name
from crew import dispatch
from crew.links import crew_login_url, valid_until_for
from crew.models import Assignment, AssignmentState, Offer, Slot
from crew.selectors import crew_roster
from crew.signals import crew_changed_by_member

logger = logging.getLogger(__name__)

# What a POST to an offer link came to.
TAKEN = "taken"  # this member has the shift now
GONE = "gone"  # someone else took it first
CLOSED = "closed"  # withdrawn, charter started or cancelled, member inactive
ALREADY = "already"  # the member is on this charter already


def offer_url(offer: Offer) -> str:
    return f"{settings.SITE_URL}{reverse('crew-offer', args=[offer.token])}"


def offer_by_token(token: str) -> Offer | None:
    """The offer whose secret is `token` (constant-time confirmed), with its slot and charter."""
    offer = (
        Offer.objects.filter(token=token)
        .select_related("slot__event", "slot__filled_by", "member")
        .first()
    )
    if offer is None or not hmac.compare_digest(offer.token.encode(), token.encode()):
        return None
    return offer


def offer_facts(offer: Offer) -> dict:
    """What an offer email and page show: operational facts only, times with the zone named."""
    slot, event = offer.slot, offer.slot.event
    return {
        "offer": offer,
        "slot": slot,
        "event": event,
        "member": offer.member,
        "first_name": offer.member.first_name,
        "role": slot.get_role_display(),
        "charter_when": when_text(event.starts_at),
        "charter_length": minutes_text(event.duration_minutes),
        "call_when": when_text(slot.call_at),
        "shift_length": minutes_text(slot.shift_minutes),
        "shift_ends": when_text(slot.shift_ends_at),
        "zone_name": zone_name(),
        "operator_name": settings.OPERATOR_NAME,
        "office_phone": settings.OFFICE_PHONE,
    }


def offer_state(offer: Offer, *, now: datetime) -> str | None:
    """None while the offer can be taken; otherwise why not (GONE, CLOSED or ALREADY)."""
    slot = offer.slot
    if slot.filled_at is not None:
        return TAKEN if slot.filled_by and slot.filled_by.member_id == offer.member_id else GONE
    if not dispatch.slot_is_live(slot, now) or not offer.member.active:
        return CLOSED
    return None


def offer_message(offer: Offer, *, now: datetime) -> EmailMultiAlternatives:
    """The offer email: the charter's facts and the link to take the shift."""
    context = {**offer_facts(offer), "link": offer_url(offer)}
    subject = " ".join(render_to_string("emails/crew-offer-subject.txt", context).split())
    text = render_to_string("emails/crew-offer-body.txt", context)
    html = render_to_string("emails/crew-offer-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[offer.member.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def offers_send(
    *, slot_id: int, offer_ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """Email each unsent offer of a live slot (or these of them) once; returns how many went."""
    now = now or timezone.now()
    return dispatch.each_offer_to_send(
        slot_id, lambda offer: offer_message(offer, now=now).send(), now=now, offer_ids=offer_ids
    )


@dataclass(frozen=True)
class TakeResult:
    outcome: str  # TAKEN, GONE, CLOSED or ALREADY
    assignment: Assignment | None = None


def offer_take(*, offer: Offer, now: datetime | None = None) -> TakeResult:
    """Take the offered shift: the first member to get here wins, under the slot's row lock.

    The taker gets an accepted assignment with its checklist; the invitation and the
    operators' "filled" email go after commit.
    """
    from crew.services import checklist_sync

    now = now or timezone.now()
    with transaction.atomic():
        slot = Slot.objects.select_for_update().select_related("event").get(pk=offer.slot_id)
        member = offer.member
        if slot.filled_at is not None:
            mine = Assignment.objects.filter(pk=slot.filled_by_id, member=member).first()
            return TakeResult(TAKEN, mine) if mine else TakeResult(GONE)
        if not dispatch.slot_is_live(slot, now) or not member.active:
            return TakeResult(CLOSED)
        assignment = (
            Assignment.objects.select_for_update().filter(event=slot.event, member=member).first()
        )
        if assignment is not None and assignment.removed_at is None:
            return TakeResult(ALREADY, assignment)
        booking_id = slot.event.booking_id
        before = crew_roster(booking_id)
        values = {
            "role": slot.role,
            "call_at": slot.call_at,
            "shift_minutes": slot.shift_minutes,
            "state": AssignmentState.ACCEPTED,
            "responded_at": now,
            "decline_reason": "",
            "removed_at": None,
            "reminded_unanswered_at": None,
            "reminded_day_before_at": None,
        }
        if assignment is None:
            assignment = Assignment.objects.create(event=slot.event, member=member, **values)
        else:
            # Back on a charter they were taken off: the old row keeps what they were told.
            for name, value in values.items():
                setattr(assignment, name, value)
            assignment.save()
        slot.filled_by, slot.filled_at = assignment, now
        slot.save(update_fields=["filled_by", "filled_at"])
        # The member's own act: the booking's audit log names them ("Jo Park took ...").
        crew_changed_by_member.send(
            sender=Slot,
            booking_id=booking_id,
            before=before,
            after=crew_roster(booking_id),
            by_name=member.name,
        )
        checklist_sync(event=slot.event)
        dispatch._after_commit("notify_crew", slot.event_id)
        dispatch._after_commit("announce_filled", slot.pk)
    logger.info("slot %s taken by crew member %s", slot.pk, member.pk)
    return TakeResult(TAKEN, assignment)


def taker_portal_link(assignment: Assignment, *, now: datetime | None = None) -> str:
    """A sign-in link that opens the taker's new card in the portal."""
    path = reverse("crew-assignment", args=[assignment.pk])
    until = valid_until_for(assignment.event, now=now)
    return crew_login_url(assignment.member, next_path=path, valid_until=until, now=now)
