"""The crew's side of a charter: who works it, when, and what they must do. No money here."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from bookings.formatting import date_text
from crew.placeholders import validate_placeholders


class Role(models.TextChoices):
    CAPTAIN = "captain", "Captain"
    MATE = "mate", "Mate"
    DECKHAND = "deckhand", "Deckhand"
    STEWARD = "steward", "Steward"
    CHEF = "chef", "Chef"


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


def first_name_of(name: str, code: str) -> str:
    """What crew call each other: the first word of the name, else the roster code."""
    return name.split()[0] if name else code


class CrewMember(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crew_member"
    )
    code = models.CharField(max_length=20, unique=True, help_text="Roster id such as CAP_001.")
    name = models.CharField(max_length=120)
    email = models.EmailField(unique=True)
    phone = models.CharField(max_length=40, blank=True)
    roles = models.JSONField(default=list, blank=True, help_text="Roles this member can take.")
    active = models.BooleanField(default=True)
    # Secret for the personal calendar feed; regenerate to revoke a leaked URL.
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def first_name(self) -> str:
        return first_name_of(self.name, self.code)


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class CrewEvent(models.Model):
    """The operational copy of a booking (the write-up's SCC event), built from its projection."""

    # A plain id, not a foreign key: there is no ORM path from crew to the booking's money.
    booking_id = models.BigIntegerField(unique=True)
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField(db_index=True)
    duration_minutes = models.PositiveIntegerField()
    dock_name = models.CharField(max_length=120)
    vessel_name = models.CharField(max_length=80, blank=True)
    dock_address = models.CharField(max_length=255, blank=True)
    dock_directions = models.TextField(blank=True)
    dock_map_url = models.URLField(blank=True)
    guest_count = models.PositiveSmallIntegerField()
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=EventStatus.choices, default=EventStatus.SCHEDULED
    )
    # Rises on every change that matters to crew; drives emails and ICS SEQUENCE.
    version = models.PositiveIntegerField(default=1)
    auto_offer = models.BooleanField(
        default=True,
        help_text="Offer this charter's open slots to the roster at once (with CREW_AUTO_OFFER).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        # The charter's own (operator's) date: a 4 PM PST charter is not the next UTC day's.
        return f"{self.title} {date_text(self.starts_at)}"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED


class AssignmentState(models.TextChoices):
    PENDING = "pending", "Awaiting answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class Assignment(models.Model):
    event = models.ForeignKey(CrewEvent, on_delete=models.CASCADE, related_name="assignments")
    member = models.ForeignKey(CrewMember, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.DECKHAND)
    call_at = models.DateTimeField(help_text="When this member must be at the dock.")
    # A shift may be longer than the charter (prep and clean-up), as in the write-up.
    shift_minutes = models.PositiveIntegerField()
    # call_at + shift, kept by save(): overlap checks then narrow in the database, with an index,
    # however many shifts a member has on record.
    ends_at = models.DateTimeField(editable=False)
    state = models.CharField(
        max_length=10, choices=AssignmentState.choices, default=AssignmentState.PENDING
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)
    # Removed assignments are kept so the member can be sent a cancellation.
    removed_at = models.DateTimeField(null=True, blank=True)
    # What the member was last told: the event version and a snapshot to diff "what changed".
    notified_version = models.PositiveIntegerField(default=0)
    notified_snapshot = models.JSONField(default=dict, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    reminded_unanswered_at = models.DateTimeField(null=True, blank=True)
    reminded_day_before_at = models.DateTimeField(null=True, blank=True)
    # The email being sent (its Message-ID) and since when, recorded before the send: a run
    # after a lost worker resends it with the same Message-ID, a concurrent run waits for it.
    sending_key = models.CharField(max_length=200, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "member"], name="assignment_unique_member"),
        ]
        indexes = [models.Index(fields=["member", "call_at", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.member} as {self.get_role_display()}"

    def save(self, *args, **kwargs) -> None:
        self.ends_at = self.shift_ends_at
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"call_at", "shift_minutes"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "ends_at"}
        super().save(*args, **kwargs)

    @property
    def shift_ends_at(self) -> datetime:
        return self.call_at + timedelta(minutes=self.shift_minutes)


class ChecklistTemplate(models.Model):
    """A task for a role; `{guest_count}`, `{dock}` and `{start}` are filled from the event."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True, help_text="Blank: all")
    text = models.CharField(
        max_length=200,
        help_text="Placeholders filled from the charter: {guest_count}, {dock}, {start}.",
        validators=[validate_placeholders],
    )
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class ChecklistItem(models.Model):
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="checklist_items"
    )
    template = models.ForeignKey(
        ChecklistTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Items that no longer apply are kept (with their tick) but hidden from the portal.
    obsolete = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "template"],
                condition=models.Q(template__isnull=False),
                name="checklist_item_unique_template",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


def new_offer_token() -> str:
    return secrets.token_urlsafe(24)


class SlotOrigin(models.TextChoices):
    DECLINED = "declined", "Declined"
    REMOVED = "removed", "Removed"
    DEACTIVATED = "deactivated", "Member deactivated"
    OPERATOR = "operator", "Added by the operator"
    API = "api", "Asked for by the API"


class Slot(models.Model):
    """A role on a charter that needs a person; filled by the first member to take its offer."""

    event = models.ForeignKey(CrewEvent, on_delete=models.CASCADE, related_name="slots")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.DECKHAND)
    call_at = models.DateTimeField()
    shift_minutes = models.PositiveIntegerField()
    origin = models.CharField(max_length=12, choices=SlotOrigin.choices)
    reason = models.CharField(max_length=300, blank=True)
    # The member who left the place (a decline, a removal, a deactivation).
    vacated_by = models.ForeignKey(
        CrewMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    filled_by = models.OneToOneField(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="filled_slot"
    )
    filled_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    # What the operators were told, so a retried task tells them once.
    opened_told_at = models.DateTimeField(null=True, blank=True)
    filled_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "pk"]
        indexes = [models.Index(fields=["event", "filled_at", "withdrawn_at"])]

    def __str__(self) -> str:
        return f"open {self.get_role_display()} slot"

    @property
    def is_open(self) -> bool:
        return self.filled_at is None and self.withdrawn_at is None

    @property
    def shift_ends_at(self) -> datetime:
        return self.call_at + timedelta(minutes=self.shift_minutes)


class Offer(models.Model):
    """A slot offered to one member; its secret token is the link in their email."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="offers")
    member = models.ForeignKey(CrewMember, on_delete=models.CASCADE, related_name="offers")
    token = models.CharField(max_length=64, unique=True, default=new_offer_token)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "member"], name="offer_unique_member"),
        ]

    def __str__(self) -> str:
        return f"offer to {self.member_id}"


class Unavailability(models.Model):
    """A day (in the operator's zone) a member has said they cannot work."""

    member = models.ForeignKey(
        CrewMember, on_delete=models.CASCADE, related_name="unavailable_days"
    )
    day = models.DateField()

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="unavailability_unique_day"),
        ]

    def __str__(self) -> str:
        return f"unavailable {self.day:%Y-%m-%d}"


class AlertCondition(models.TextChoices):
    NO_CAPTAIN = "no_captain", "No accepted captain"
    OPEN_SLOT = "open_slot", "Open slot"
    UNANSWERED = "unanswered", "Unanswered invitation"


class CrewAlert(models.Model):
    """An alert the operators got about a charter close at hand: one per condition."""

    event = models.ForeignKey(CrewEvent, on_delete=models.CASCADE, related_name="alerts")
    condition = models.CharField(max_length=12, choices=AlertCondition.choices)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "condition"], name="crew_alert_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_condition_display()} alert"


class LinkRequest(models.Model):
    """An attempt crew.limits counts: "send me a new link", or a failed admin sign-in."""

    email_hash = models.CharField(max_length=64, db_index=True)
    client = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"link request at {self.at:%Y-%m-%d %H:%M}"
