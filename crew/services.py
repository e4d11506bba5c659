"""Writes to the crew's side: the crew event, assignments and checklists.

Crew code receives a booking only as `bookings.selectors.OperationalBooking`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from bookings.selectors import OperationalBooking
from crew import emails
from crew.formatting import minutes_text, when_text
from crew.models import (
    Assignment,
    AssignmentState,
    ChecklistItem,
    ChecklistTemplate,
    CrewEvent,
    CrewMember,
    EventStatus,
    LinkRequest,
    Role,
    new_feed_token,
)
from crew.placeholders import placeholders_fill

logger = logging.getLogger(__name__)

# Crew are called to the dock this long before guests board (prep, fuel, fenders).
CALL_LEAD = timedelta(minutes=60)
# Event fields whose change crew must be told about (a new version and a "changed" email).
EVENT_NOTIFY_FIELDS = (
    "starts_at",
    "duration_minutes",
    "dock_name",
    "dock_address",
    "dock_directions",
    "dock_map_url",
    "guest_count",
    "notes",
    "status",
)


@dataclass(frozen=True)
class PlannedAssignment:
    member_code: str
    role: str
    shift_minutes: int | None = None  # None: the charter plus prep and clean-up
    call_at: datetime | None = None  # None: CALL_LEAD before boarding


@dataclass(frozen=True)
class CrewSyncResult:
    event: CrewEvent
    created: bool
    changed: frozenset[str]  # event fields and "assignments" when the roster changed
    checklist_changed: bool

    @property
    def notify_needed(self) -> bool:
        return self.created or bool(self.changed)


def default_shift_minutes(duration_minutes: int) -> int:
    # Call time is an hour before boarding, and clean-up takes about as long again.
    return duration_minutes + 2 * int(CALL_LEAD.total_seconds() // 60)


def _event_values(booking: OperationalBooking) -> dict[str, object]:
    return {
        "title": f"Charter · {booking.source_label} {booking.external_ref}",
        "starts_at": booking.starts_at,
        "duration_minutes": booking.duration_minutes,
        "dock_name": booking.dock_name,
        "dock_address": booking.dock_address,
        "dock_directions": booking.dock_directions,
        "dock_map_url": booking.dock_map_url,
        "guest_count": booking.guest_count,
        "notes": booking.notes,
        "status": EventStatus.CANCELLED if booking.is_cancelled else EventStatus.SCHEDULED,
    }


def _apply_plan(
    *, event: CrewEvent, plan: Sequence[PlannedAssignment], now: datetime, new_event: bool = False
) -> bool:
    """Make the event's active assignments match the plan; returns whether anything changed.

    `new_event`: the event was just created, so it has no assignments to look up yet.
    """
    members = {m.code: m for m in CrewMember.objects.filter(code__in=[p.member_code for p in plan])}
    existing = (
        {} if new_event else {a.member.code: a for a in event.assignments.select_related("member")}
    )
    added: list[Assignment] = []
    changed = False
    for planned in plan:
        shift = planned.shift_minutes or default_shift_minutes(event.duration_minutes)
        assignment = existing.pop(planned.member_code, None)
        if assignment is None:
            call_at = planned.call_at or event.starts_at - CALL_LEAD
            added.append(
                Assignment(
                    event=event,
                    member=members[planned.member_code],
                    role=planned.role,
                    call_at=call_at,
                    shift_minutes=shift,
                    # bulk_create skips save(), which keeps ends_at otherwise.
                    ends_at=call_at + timedelta(minutes=shift),
                )
            )
            changed = True
            continue
        updates: dict[str, object] = {}
        if assignment.removed_at is not None:
            # Back on the charter: its call time is today's, not the one it was taken off with.
            updates["removed_at"] = None
            updates["call_at"] = planned.call_at or event.starts_at - CALL_LEAD
        if assignment.role != planned.role:
            updates["role"] = planned.role
        if assignment.shift_minutes != shift:
            updates["shift_minutes"] = shift
        if planned.call_at is not None and assignment.call_at != planned.call_at:
            updates["call_at"] = planned.call_at
        if updates:
            for name, value in updates.items():
                setattr(assignment, name, value)
            assignment.save(update_fields=list(updates))
            changed = True
    for assignment in existing.values():
        if assignment.removed_at is None:
            assignment.removed_at = now
            fields = ["removed_at"]
            told = assignment.notified_snapshot or {}
            if told.get("call_at") and not told.get("cancelled"):
                # Their cancellation and feed keep the shift they were invited for, not one the
                # charter moved to in this same change (or since they were last told).
                assignment.call_at = datetime.fromisoformat(told["call_at"])
                assignment.shift_minutes = told.get("shift_minutes", assignment.shift_minutes)
                fields += ["call_at", "shift_minutes"]
            assignment.save(update_fields=fields)
            changed = True
    if added:
        Assignment.objects.bulk_create(added)
    return changed


def _follow_move(event: CrewEvent, *, old_start: datetime) -> None:
    """Move every assignment with its charter, keeping each member's lead time.

    On another day the answers and ticks were for the old date: a member who could come then
    may not be free now, and the dock work is still to do, so they start over.
    """
    delta = event.starts_at - old_start
    zone = ZoneInfo(settings.TIME_ZONE_NAME)
    new_day = timezone.localdate(event.starts_at, zone) != timezone.localdate(old_start, zone)
    for assignment in event.assignments.filter(removed_at__isnull=True):
        assignment.call_at += delta
        # A new day deserves its own day-before reminder.
        assignment.reminded_day_before_at = None
        fields = ["call_at", "reminded_day_before_at"]
        if new_day:
            assignment.state = AssignmentState.PENDING
            assignment.responded_at = assignment.reminded_unanswered_at = None
            assignment.decline_reason = ""
            fields += ["state", "responded_at", "reminded_unanswered_at", "decline_reason"]
        assignment.save(update_fields=fields)
    if new_day:
        ChecklistItem.objects.filter(assignment__event=event, done_at__isnull=False).update(
            done_at=None, done_by=None
        )


def crew_event_sync(
    *,
    booking: OperationalBooking,
    plan: Sequence[PlannedAssignment] | None = None,
    now: datetime | None = None,
) -> CrewSyncResult:
    """Create or update the crew event of a booking (stage 2) and its checklists (stage 4).

    `plan` replaces the roster when given; None leaves assignments as they are.
    """
    now = now or timezone.now()
    with transaction.atomic():
        values = _event_values(booking)
        event = CrewEvent.objects.select_for_update().filter(booking_id=booking.id).first()
        created = event is None
        if created:
            event = CrewEvent.objects.create(booking_id=booking.id, **values)
            changed: set[str] = set()
        else:
            changed = {name for name in EVENT_NOTIFY_FIELDS if getattr(event, name) != values[name]}
            old_start, old_duration = event.starts_at, event.duration_minutes
            for name, value in values.items():
                setattr(event, name, value)
            if event.starts_at != old_start:
                _follow_move(event, old_start=old_start)
            if event.duration_minutes != old_duration and plan is None:
                # A longer (or shorter) charter lengthens each shift by as much; a new crew
                # plan sets the shifts itself.
                longer = event.duration_minutes - old_duration
                for assignment in event.assignments.filter(removed_at__isnull=True):
                    assignment.shift_minutes = max(1, assignment.shift_minutes + longer)
                    assignment.save(update_fields=["shift_minutes"])
        if plan is not None and _apply_plan(event=event, plan=plan, now=now, new_event=created):
            changed.add("assignments")
        if not created:
            # A new event was saved with these values just above.
            if changed:
                event.version += 1
            event.save()
        checklist_changed = checklist_sync(event=event)
        return CrewSyncResult(
            event=event,
            created=created,
            changed=frozenset(changed),
            checklist_changed=checklist_changed,
        )


def render_checklist_text(template: ChecklistTemplate, event: CrewEvent) -> str:
    local_start = timezone.localtime(event.starts_at)
    # A template saved before placeholders were checked must not stop the pipeline: any error
    # shows the text as written.
    values = {"guest_count": event.guest_count, "dock": event.dock_name}
    return placeholders_fill(template.text, values | {"start": f"{local_start:%H:%M}"})


def checklist_sync(*, event: CrewEvent) -> bool:
    """Generate each active assignment's items from templates, keeping ticks that still apply.

    An item whose text changes (a new guest count) loses its tick: the task is a new one.
    """
    templates = list(ChecklistTemplate.objects.filter(active=True))
    changed = False
    added: list[ChecklistItem] = []
    assignments = event.assignments.filter(removed_at__isnull=True).prefetch_related(
        "checklist_items"
    )
    for assignment in assignments:
        by_template = {i.template_id: i for i in assignment.checklist_items.all() if i.template_id}
        wanted = [t for t in templates if t.role in ("", assignment.role)]
        for template in wanted:
            text = render_checklist_text(template, event)
            item = by_template.pop(template.pk, None)
            if item is None:
                added.append(
                    ChecklistItem(
                        assignment=assignment,
                        template=template,
                        text=text,
                        position=template.position,
                    )
                )
                changed = True
            elif item.text != text or item.obsolete or item.position != template.position:
                if item.text != text:
                    item.done_at, item.done_by = None, None
                item.text, item.obsolete, item.position = text, False, template.position
                item.save()
                changed = True
        leftovers = [
            *by_template.values(),
            # Items whose template was deleted (the link is cleared) no longer apply either.
            *(i for i in assignment.checklist_items.all() if i.template_id is None),
        ]
        for item in leftovers:
            if not item.obsolete:
                item.obsolete = True
                item.save(update_fields=["obsolete"])
                changed = True
    if added:
        # One insert for every new item, in the order they were found.
        ChecklistItem.objects.bulk_create(added)
    return changed


def checklists_resync(*, now: datetime | None = None) -> int:
    """Bring the checklists of upcoming charters in line with edited templates; returns events."""
    now = now or timezone.now()
    events = CrewEvent.objects.filter(starts_at__gte=now, status=EventStatus.SCHEDULED)
    count = 0
    for event in events.order_by("starts_at"):
        with transaction.atomic():
            checklist_sync(event=event)
        count += 1
    return count


def member_codes_unknown(codes: Sequence[str]) -> list[str]:
    """Codes not on the active roster (for intake validation)."""
    active = CrewMember.objects.filter(code__in=codes, active=True)
    known = set(active.values_list("code", flat=True))
    return [code for code in codes if code not in known]


def roles() -> list[str]:
    return list(Role.values)


# --- The roster ---


def crew_member_create(
    *,
    code: str,
    name: str,
    email: str,
    phone: str = "",
    roles: Sequence[str] = (),
    active: bool = True,
) -> CrewMember:
    """Add a member (or update the one with this code) with a password-less user of their own.

    The user's password is unusable: crew sign in only through magic links.
    """
    with transaction.atomic():
        member = CrewMember.objects.select_for_update().filter(code=code).first()
        values = {"name": name, "email": email, "phone": phone, "roles": list(roles)}
        if member is not None:
            for field, value in values.items():
                setattr(member, field, value)
            member.active = active
            member.full_clean(exclude=["user"])
            member.save()
            if member.user.email != email:
                member.user.email = email
                member.user.save(update_fields=["email"])
            return member
        user = crew_user_create(code=code, email=email)
        member = CrewMember(user=user, code=code, active=active, **values)
        member.full_clean(exclude=["user"])
        member.save()
        return member


def crew_user_create(*, code: str, email: str = "") -> AbstractBaseUser:
    """The Django user behind a crew member: username from the code, unusable password."""
    user = get_user_model()(username=code.lower(), email=email)
    user.set_unusable_password()
    user.save()
    return user


def member_feed_token_regenerate(*, member: CrewMember) -> str:
    """A new calendar feed secret; the old feed URL stops working at once."""
    member.feed_token = new_feed_token()
    member.save(update_fields=["feed_token"])
    return member.feed_token


def member_links_revoke(*, member: CrewMember) -> None:
    """Invalidate every magic link sent so far (sesame keys tokens on the password hash)."""
    user = member.user
    user.set_unusable_password()
    user.save(update_fields=["password"])


# --- Notifications (the crew stage of the pipeline) ---

SNAPSHOT_LABELS = {
    "starts_at": "Charter date and time",
    "duration_minutes": "Charter length",
    "call_at": "Call time",
    "shift_minutes": "Shift",
    "role": "Role",
    "dock": "Dock",
    "dock_address": "Dock address",
    "directions": "Directions",
    "map": "Map",
    "guest_count": "Guests",
    "notes": "Notes",
    "crew": "Crew",
}


def assignment_snapshot(assignment: Assignment, crew: Sequence[Assignment]) -> dict:
    """What the member is told about their assignment (JSON-safe)."""
    event = assignment.event
    return {
        "version": event.version,
        "starts_at": event.starts_at.isoformat(),
        "duration_minutes": event.duration_minutes,
        "call_at": assignment.call_at.isoformat(),
        "shift_minutes": assignment.shift_minutes,
        "role": assignment.role,
        "dock": event.dock_name,
        "dock_address": event.dock_address,
        "directions": event.dock_directions,
        "map": event.dock_map_url,
        "guest_count": event.guest_count,
        "notes": event.notes,
        "crew": [f"{a.member.first_name} ({a.get_role_display()})" for a in crew],
        "cancelled": assignment.removed_at is not None or event.is_cancelled,
    }


def _shown(field: str, value: object) -> str:
    if value in (None, "", []):
        return "none"
    if field in ("starts_at", "call_at"):
        return when_text(datetime.fromisoformat(str(value)))
    if field in ("duration_minutes", "shift_minutes"):
        return minutes_text(int(value))  # type: ignore[arg-type]
    if field == "role":
        return str(Role(value).label) if value in Role.values else str(value)
    if field == "crew":
        return ", ".join(value)  # type: ignore[arg-type]
    return str(value)


def snapshot_changes(before: dict, after: dict) -> list[emails.Change]:
    """What changed between two snapshots, in words."""
    return [
        emails.Change(label, _shown(field, before.get(field)), _shown(field, after.get(field)))
        for field, label in SNAPSHOT_LABELS.items()
        if before.get(field) != after.get(field)
    ]


def _notice(assignment: Assignment, snapshot: dict) -> tuple[str | None, list[emails.Change]]:
    """Which email (if any) the assignment's member is owed now."""
    told = assignment.notified_snapshot or {}
    if snapshot["cancelled"]:
        if assignment.notified_version == 0 or told.get("cancelled"):
            return None, []  # never told about it, or already told it is off
        return emails.CANCELLED, []
    if assignment.notified_version == 0 or told.get("cancelled"):
        return emails.NEW, []
    if assignment.notified_version >= assignment.event.version:
        return None, []
    changes = snapshot_changes(told, snapshot)
    return (emails.CHANGED if changes else None), changes


def crew_notify(*, event_id: int, now: datetime | None = None) -> int:
    """Email every member what they have not been told yet about the event; returns emails sent.

    Safe to run twice: each assignment row is locked, compared with what its member was last
    told, and recorded right after its email goes out, so a retry after an SMTP error resends
    nothing already sent. Mail errors propagate for the caller to retry.
    """
    now = now or timezone.now()
    sent = 0
    # An inactive member gets no email: their links no longer sign in, and the operator is
    # told to replace them (crew admin) when they are deactivated.
    ids = list(
        Assignment.objects.filter(event_id=event_id, member__active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            assignment = (
                Assignment.objects.select_for_update(of=("self",))
                .select_related("event", "member")
                .get(pk=pk)
            )
            crew = emails.crew_of(assignment)
            snapshot = assignment_snapshot(assignment, crew)
            kind, changes = _notice(assignment, snapshot)
            if kind is not None:
                emails.assignment_message(assignment, kind=kind, changes=changes, now=now).send()
                sent += 1
                logger.info("crew %s email to assignment %s", kind, assignment.pk)
            if kind is not None or assignment.notified_version < assignment.event.version:
                # Also recorded when nothing that concerns this member changed in a new version.
                assignment.notified_version = assignment.event.version
                assignment.sequence = assignment.event.version
                assignment.notified_snapshot = snapshot
                if kind is not None:
                    assignment.notified_at = now
                assignment.save(
                    update_fields=[
                        "notified_version",
                        "sequence",
                        "notified_snapshot",
                        "notified_at",
                    ]
                )
    return sent


# --- What crew do in the portal ---


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
        current.state = AssignmentState.ACCEPTED if accepted else AssignmentState.DECLINED
        current.decline_reason = "" if accepted else reason.strip()[:300]
        current.responded_at = now
        current.save(update_fields=["state", "decline_reason", "responded_at"])
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
        if done and current.done_at is None:
            current.done_at, current.done_by = now, by
        elif not done:
            current.done_at, current.done_by = None, None
        current.save(update_fields=["done_at", "done_by"])
    item.done_at, item.done_by = current.done_at, current.done_by
    return item


# --- "Email me a new link" ---

LINK_REQUESTS_PER_ADDRESS = 3
LINK_REQUESTS_PER_CLIENT = 10
LINK_REQUEST_WINDOW = timedelta(hours=1)
# pg_advisory_xact_lock key of the link-request limiter (any constant of our own).
LINK_REQUEST_LOCK = 0x4A41444131


def _digest(kind: str, value: str) -> str:
    # Keyed, so the table does not reveal which addresses or clients asked.
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def link_request(*, email: str, client: str, now: datetime | None = None) -> bool:
    """Email a fresh sign-in link to the member with this address, if any.

    Returns False when rate limited (per address and per client); True otherwise, whether or
    not the address belongs to anyone, so callers answer the same either way.
    """
    now = now or timezone.now()
    address = email.strip().lower()
    email_hash, client_hash = _digest("email", address), _digest("client", client)
    since = now - LINK_REQUEST_WINDOW
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Count-then-insert must not interleave, or requests sent at once all pass the limit.
            # The lock is the transaction's; requests are few, so one lock for all is enough.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINK_REQUEST_LOCK])
        LinkRequest.objects.filter(at__lt=now - timedelta(days=1)).delete()
        recent = LinkRequest.objects.filter(at__gte=since)
        if recent.filter(email_hash=email_hash).count() >= LINK_REQUESTS_PER_ADDRESS:
            return False
        if recent.filter(client=client_hash).count() >= LINK_REQUESTS_PER_CLIENT:
            return False
        LinkRequest.objects.create(email_hash=email_hash, client=client_hash, at=now)
    member_id = (
        CrewMember.objects.filter(email__iexact=address, active=True)
        .values_list("pk", flat=True)
        .first()
    )
    if member_id is not None:
        from crew import tasks

        # Sent by a worker: the answer must not differ for a known address, neither in what it
        # says (a mail server that is down) nor in how long it takes (an SMTP round trip).
        try:
            tasks.send_sign_in_link.delay(member_id)
        except Exception:
            logger.exception("sign-in link for crew member %s not queued", member_id)
    return True


def link_send(*, member_id: int, now: datetime | None = None) -> bool:
    """Email a fresh sign-in link to an active member; False when there is none to send to."""
    member = CrewMember.objects.filter(pk=member_id, active=True).select_related("user").first()
    if member is None:
        return False
    emails.link_message(member, now=now or timezone.now()).send()
    return True


# --- Reminders ---


def _reminder_send(pk: int, *, field: str, kind: str, now: datetime, also: str | None) -> bool:
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("event", "member")
            .get(pk=pk)
        )
        if getattr(assignment, field) is not None:
            return False  # another run got here first
        emails.assignment_message(assignment, kind=kind, now=now).send()
        setattr(assignment, field, now)
        fields = [field]
        if also and assignment.state == AssignmentState.PENDING:
            # The day-before email asks for an answer too; one email is enough.
            setattr(assignment, also, getattr(assignment, also) or now)
            fields.append(also)
        assignment.save(update_fields=fields)
    return True


def member_upcoming_events(member: CrewMember, *, now: datetime | None = None) -> list[CrewEvent]:
    """The scheduled charters from now on that the member is still assigned to."""
    now = now or timezone.now()
    return list(
        CrewEvent.objects.filter(
            assignments__member=member,
            assignments__removed_at__isnull=True,
            status=EventStatus.SCHEDULED,
            starts_at__gte=now,
        ).order_by("starts_at")
    )


def reminders_send(*, now: datetime | None = None) -> int:
    """Day-before and unanswered reminders that are due; returns emails sent.

    None for past or cancelled charters, none twice, none sooner than
    CREW_REMINDER_MIN_NOTICE_HOURS after the member was assigned and told.
    """
    now = now or timezone.now()
    min_notice = now - timedelta(hours=settings.CREW_REMINDER_MIN_NOTICE_HOURS)
    unanswered_after = now - timedelta(hours=settings.CREW_UNANSWERED_REMINDER_HOURS)
    due = Assignment.objects.filter(
        removed_at__isnull=True,
        member__active=True,
        event__status=EventStatus.SCHEDULED,
        event__starts_at__gt=now,
        notified_version__gt=0,
        notified_at__lte=min_notice,
        created_at__lte=min_notice,
    ).order_by("pk")
    tomorrow = due.filter(
        event__starts_at__lte=now + timedelta(hours=24),
        reminded_day_before_at__isnull=True,
    ).exclude(state=AssignmentState.DECLINED)
    sent = 0
    for pk in list(tomorrow.values_list("pk", flat=True)):
        sent += _reminder_send(
            pk,
            field="reminded_day_before_at",
            kind=emails.TOMORROW,
            now=now,
            also="reminded_unanswered_at",
        )
    unanswered = due.filter(
        state=AssignmentState.PENDING,
        notified_at__lte=unanswered_after,
        reminded_unanswered_at__isnull=True,
    )
    for pk in list(unanswered.values_list("pk", flat=True)):
        sent += _reminder_send(
            pk, field="reminded_unanswered_at", kind=emails.UNANSWERED, now=now, also=None
        )
    return sent
