"""Emails to the operators (OPERATOR_EMAILS) about crew: a place left, a slot filled, an alert.

Each is sent once: the row is marked (claimed) first, the email goes outside any transaction,
and the mark is put back when sending fails so the task's retry sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bookings.formatting import minutes_text, when_text, zone_name
from crew import dispatch, once
from crew.models import CrewEvent, Slot, SlotOrigin

logger = logging.getLogger(__name__)

# The word an operator scans the inbox for.
VERB = {
    SlotOrigin.DECLINED: "declined",
    SlotOrigin.REMOVED: "removed",
    SlotOrigin.DEACTIVATED: "removed",
}


def event_admin_url(event: CrewEvent) -> str:
    return f"{settings.SITE_URL}{reverse('admin:crew_crewevent_change', args=[event.pk])}"


def charter_context(event: CrewEvent) -> dict:
    """The charter as the operators read it: reference, date and time with zone, dock."""
    return {
        "event": event,
        "reference": event.title.removeprefix("Charter · "),
        "charter_when": when_text(event.starts_at),
        "charter_length": minutes_text(event.duration_minutes),
        "admin_url": event_admin_url(event),
        "zone_name": zone_name(),
        "operator_name": settings.OPERATOR_NAME,
    }


def _message(name: str, context: dict) -> EmailMultiAlternatives:
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{name}-body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(settings.OPERATOR_EMAILS),
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string(f"emails/{name}-body.html", context), "text/html")
    return message


def slot_context(slot: Slot) -> dict:
    offered = [
        f"{o.member.name} ({o.member.code})"
        for o in slot.offers.select_related("member").order_by("member__code")
    ]
    event = slot.event
    if offered:
        next_step = (
            f"The slot was offered to {len(offered)} member(s): {', '.join(offered)}. "
            "The first to take it gets it, and you will get an email saying who."
        )
    elif not dispatch.offering_on(event):
        next_step = (
            "Offering is off for this charter: the slot waits for you. Assign someone, or offer "
            "the slot from the admin."
        )
    else:
        next_step = (
            "No other member who holds the role is free and available then: the slot waits for "
            "you. Assign someone from the admin."
        )
    member = slot.vacated_by
    return {
        **charter_context(event),
        "slot": slot,
        "verb": VERB.get(slot.origin, "left"),
        "who": f"{member.name} ({member.code})" if member else "A member",
        "role": slot.get_role_display(),
        "call_when": when_text(slot.call_at),
        "shift_length": minutes_text(slot.shift_minutes),
        "reason": slot.reason or "none given",
        "next_step": next_step,
        "offered": offered,
    }


def _send_once(slot_id: int, field: str, build) -> bool:
    now = timezone.now()
    mine = Slot.objects.filter(pk=slot_id)
    if not once.claim(mine, field, now):
        return False
    slot = Slot.objects.select_related("event", "vacated_by", "filled_by__member").get(pk=slot_id)
    try:
        build(slot).send()
    except Exception:
        once.unclaim(mine, field, now)
        raise
    return True


def slot_announce(*, slot_id: int) -> bool:
    """Tell the operators a member left a place (declined, removed, deactivated); once."""
    return _send_once(
        slot_id, "opened_told_at", lambda slot: _message("crew-slot-opened", slot_context(slot))
    )


def slot_filled_announce(*, slot_id: int) -> bool:
    """Tell the operators who filled a slot; once."""

    def build(slot: Slot) -> EmailMultiAlternatives:
        taker = slot.filled_by.member
        context = {
            **slot_context(slot),
            "taker": f"{taker.name} ({taker.code})",
            "filled_when": when_text(slot.filled_at),
        }
        return _message("crew-slot-filled", context)

    return _send_once(slot_id, "filled_told_at", build)


def alert_message(
    event: CrewEvent, *, condition: str, label: str, details: Sequence[str]
) -> EmailMultiAlternatives:
    """One alert about a charter close at hand that still has a gap in its crew."""
    context = {
        **charter_context(event),
        "condition": condition,
        "label": label,
        "details": list(details),
        "within_hours": settings.CREW_ALERT_WITHIN_HOURS,
    }
    return _message("crew-alert", context)
