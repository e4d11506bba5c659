"""Calendar files for crew: one event per assignment, stable UID, SEQUENCE = event version."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from bookings.formatting import minutes_text, when_text
from crew.models import Assignment, AssignmentState

PRODID = "-//JADA//Crew calendar//EN"
PARTSTAT = {
    AssignmentState.PENDING: "NEEDS-ACTION",
    AssignmentState.ACCEPTED: "ACCEPTED",
    AssignmentState.DECLINED: "DECLINED",
}


def assignment_uid(assignment: Assignment) -> str:
    return f"assignment-{assignment.pk}@jada"


def is_cancelled(assignment: Assignment) -> bool:
    return assignment.removed_at is not None or assignment.event.is_cancelled


def _description(assignment: Assignment) -> str:
    event = assignment.event
    if assignment.removed_at is not None:
        # Taken off the charter: later changes to it are no longer theirs to see.
        return "You are no longer on this charter."
    lines = [
        f"{assignment.get_role_display()}, shift {minutes_text(assignment.shift_minutes)}.",
        f"Call time: {when_text(assignment.call_at)}.",
        f"Charter: {when_text(event.starts_at)}, {minutes_text(event.duration_minutes)}, "
        f"{event.guest_count} guests.",
    ]
    if event.vessel_name:
        lines.append(f"Vessel: {event.vessel_name}.")
    if event.dock_directions:
        lines.append(f"Directions: {event.dock_directions}")
    if event.notes:
        lines.append(f"Notes: {event.notes}")
    lines.append(f"Details: {settings.SITE_URL}{reverse('crew-assignment', args=[assignment.pk])}")
    return "\n".join(lines)


def feed_status(assignment: Assignment) -> str:
    """In the feed: accepted CONFIRMED, awaiting an answer TENTATIVE, declined or off CANCELLED."""
    if is_cancelled(assignment) or assignment.state == AssignmentState.DECLINED:
        return "CANCELLED"
    if assignment.state == AssignmentState.ACCEPTED:
        return "CONFIRMED"
    return "TENTATIVE"


def assignment_event(assignment: Assignment, *, now: datetime, feed: bool = False) -> Event:
    """The VEVENT of one assignment: the member's shift at the dock."""
    event = assignment.event
    vevent = Event()
    vevent.add("uid", assignment_uid(assignment))
    vevent.add("sequence", event.version)
    vevent.add("dtstamp", now)
    vevent.add("dtstart", assignment.call_at)
    vevent.add("dtend", assignment.shift_ends_at)
    vevent.add("summary", f"{assignment.get_role_display()}: {event.title}")
    if assignment.removed_at is None:
        location = ", ".join(part for part in (event.dock_name, event.dock_address) if part)
        vevent.add("location", location)
    vevent.add("description", _description(assignment))
    status = feed_status(assignment) if feed else None
    if status is None:
        status = "CANCELLED" if is_cancelled(assignment) else "CONFIRMED"
    vevent.add("status", status)
    vevent.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    organizer_name, organizer_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{organizer_address}")
    organizer.params["cn"] = vText(settings.OPERATOR_NAME or organizer_name)
    vevent["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{assignment.member.email}")
    attendee.params["cn"] = vText(assignment.member.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText(PARTSTAT.get(assignment.state, "NEEDS-ACTION"))
    if assignment.state == AssignmentState.PENDING and not is_cancelled(assignment):
        # RFC 5545 §3.2.17: an answer is expected (accept or decline on the crew page).
        attendee.params["rsvp"] = "TRUE"
    vevent.add("attendee", attendee, encode=0)
    return vevent


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def invitation_ics(assignment: Assignment, *, now: datetime | None = None) -> bytes:
    """An email attachment: METHOD:REQUEST, or METHOD:CANCEL when the shift is off."""
    now = now or timezone.now()
    calendar = _calendar("CANCEL" if is_cancelled(assignment) else "REQUEST")
    calendar.add_component(assignment_event(assignment, now=now))
    return calendar.to_ical()


def feed_ics(assignments: Iterable[Assignment], *, name: str, now: datetime | None = None) -> bytes:
    """A member's subscription feed: every assignment, cancelled ones as STATUS:CANCELLED."""
    now = now or timezone.now()
    calendar = _calendar(None, name=name)
    for assignment in assignments:
        calendar.add_component(assignment_event(assignment, now=now, feed=True))
    return calendar.to_ical()
