"""Crew emails: plain text + HTML from templates, an ICS attachment, a magic link in the text."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import reverse

from bookings.formatting import minutes_text, when_text, zone_name
from crew.ics import invitation_ics
from crew.links import crew_answer_url, crew_login_url, valid_until_for
from crew.models import Assignment, AssignmentState, CrewMember, Role

# Email kinds, each with templates/emails/crew-<kind>-subject.txt, -body.txt and -body.html.
NEW = "new"
CHANGED = "changed"
CANCELLED = "cancelled"
UNANSWERED = "unanswered"
TOMORROW = "tomorrow"
LINK = "link"
# Kinds that carry the calendar invitation.
WITH_ICS = {NEW, CHANGED, CANCELLED, TOMORROW}


def message_id(*parts: object, recipient: str) -> str:
    """The same email gets the same Message-ID, however often it is sent.

    Keyed on what the email is (kind, assignment, version) and to whom: a resend after a
    worker died between the SMTP server's "accepted" and our record of it is dropped by mail
    systems as a duplicate.
    """
    whom = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or str(DNS_NAME)
    return f"<jada.{'.'.join(str(p) for p in parts)}.{whom}@{domain}>"


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Shipmate:
    first_name: str
    role: str


def crew_of(assignment: Assignment) -> list[Assignment]:
    """The event's other active assignments, captain first; members who declined left out."""
    others = (
        Assignment.objects.filter(event_id=assignment.event_id, removed_at__isnull=True)
        .exclude(pk=assignment.pk)
        .exclude(state=AssignmentState.DECLINED)
        .select_related("member")
    )
    return sorted(others, key=lambda a: (a.role != Role.CAPTAIN, a.call_at, a.pk))


def _render(kind: str, context: dict) -> tuple[str, str, str]:
    subject = render_to_string(f"emails/crew-{kind}-subject.txt", context)
    text = render_to_string(f"emails/crew-{kind}-body.txt", context)
    html = render_to_string(f"emails/crew-{kind}-body.html", context)
    return " ".join(subject.split()), text, html


def assignment_context(
    assignment: Assignment,
    *,
    kind: str,
    changes: Sequence[Change] = (),
    now: datetime,
    crew: Sequence[Assignment] | None = None,
) -> dict:
    """The templates' context; `crew` is `crew_of(assignment)` when the caller has read it."""
    event = assignment.event
    crew = crew_of(assignment) if crew is None else crew
    skipper = next((a.member for a in crew if a.role == Role.CAPTAIN), None)
    captain = skipper.first_name if skipper else None
    captain_phone = skipper.phone if skipper else ""
    if assignment.role == Role.CAPTAIN:
        captain, captain_phone = assignment.member.first_name, ""
    shipmates = [
        Shipmate(a.member.first_name, a.get_role_display()) for a in crew if a.role != Role.CAPTAIN
    ]
    path = reverse("crew-assignment", args=[assignment.pk])
    until = valid_until_for(event, now=now)
    open_for_answers = (
        kind != CANCELLED and assignment.removed_at is None and not event.is_cancelled
    )
    return {
        "kind": kind,
        "member": assignment.member,
        "first_name": assignment.member.first_name,
        "assignment": assignment,
        "event": event,
        "role": assignment.get_role_display(),
        "charter_when": when_text(event.starts_at),
        "charter_length": minutes_text(event.duration_minutes),
        "call_when": when_text(assignment.call_at),
        "shift_length": minutes_text(assignment.shift_minutes),
        "shift_ends": when_text(assignment.shift_ends_at),
        "zone_name": zone_name(),
        "captain": captain,
        "captain_phone": captain_phone,
        "office_phone": settings.OFFICE_PHONE,
        "shipmates": shipmates,
        "changes": list(changes),
        "cancelled": kind == CANCELLED,
        "pending": assignment.state == "pending",
        "link": crew_login_url(assignment.member, next_path=path, valid_until=until, now=now),
        "answer_link": (
            crew_answer_url(assignment, valid_until=until, now=now) if open_for_answers else None
        ),
        "portal_url": f"{settings.SITE_URL}{path}",
        "operator_name": settings.OPERATOR_NAME,
    }


def assignment_message(
    assignment: Assignment,
    *,
    kind: str,
    changes: Sequence[Change] = (),
    now: datetime,
    crew: Sequence[Assignment] | None = None,
) -> EmailMultiAlternatives:
    """The email about one assignment (new, changed, cancelled, or a reminder).

    `crew`: `crew_of(assignment)`, read under the same lock, when the caller has it already.
    """
    context = assignment_context(assignment, kind=kind, changes=changes, now=now, crew=crew)
    subject, text, html = _render(kind, context)
    key = message_id(
        "crew",
        kind,
        f"a{assignment.pk}",
        f"v{assignment.event.version}",
        recipient=assignment.member.email,
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[assignment.member.email],
        headers={"Auto-Submitted": "auto-generated", "Message-ID": key},
    )
    message.attach_alternative(html, "text/html")
    if kind in WITH_ICS:
        ics = invitation_ics(assignment, now=now).decode()
        # iMIP (RFC 6047): the part's content type repeats the calendar's METHOD, which mail
        # clients read to offer "accept" or "remove from calendar".
        method = "CANCEL" if "METHOD:CANCEL" in ics else "REQUEST"
        message.attach("charter.ics", ics, f"text/calendar; method={method}")
    return message


def link_message(member: CrewMember, *, now: datetime) -> EmailMultiAlternatives:
    """A fresh sign-in link, asked for on the portal's sign-in page."""
    context = {
        "member": member,
        "first_name": member.first_name,
        "link": crew_login_url(member, next_path=reverse("crew-portal"), now=now),
        "operator_name": settings.OPERATOR_NAME,
        "zone_name": zone_name(),
        "office_phone": settings.OFFICE_PHONE,
    }
    subject, text, html = _render(LINK, context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[member.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message
