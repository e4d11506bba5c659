"""The operator's authoritative record of a charter. Money lives only in `Financials`."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    BaseValidator,
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models

from bookings.money import settle


class Source(models.TextChoices):
    BOATSETTER = "boatsetter", "Boatsetter"
    GETMYBOAT = "getmyboat", "GetMyBoat"
    SAILO = "sailo", "Sailo"
    DIRECT = "direct", "Direct sale"
    OTHER = "other", "Other marketplace"


class Status(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"


DIRECTIONS_MAX_LENGTH = 600
# What the guest page shows of a dock, bounded in UTF-8 bytes so the page stays within 14 KB (one
# round trip) with every field at its longest, in any script: a dock's text is on the page, in
# its calendar link and its map link, so a byte of it costs up to 12 (tests/guests/test_render.py).
DOCK_NAME_MAX_BYTES = 120
DOCK_ADDRESS_MAX_BYTES = 160
DIRECTIONS_MAX_BYTES = 500
VESSEL_GUEST_NAME_MAX_BYTES = 60  # on the guest page too, within its 14 KB


class MaxBytesValidator(BaseValidator):
    """At most `limit_value` bytes once encoded as UTF-8, whatever the script."""

    message = (
        "Ensure this value has at most %(limit_value)d bytes (it has %(show_value)d): letters "
        "with accents take 2 bytes, most other scripts 3 and emoji 4."
    )
    code = "max_bytes"

    def compare(self, a: int, b: int) -> bool:
        return a > b

    def clean(self, x: str) -> int:
        return len(x.encode("utf-8"))


class Dock(models.Model):
    name = models.CharField(
        max_length=120, unique=True, validators=[MaxBytesValidator(DOCK_NAME_MAX_BYTES)]
    )
    address = models.CharField(
        max_length=255, blank=True, validators=[MaxBytesValidator(DOCK_ADDRESS_MAX_BYTES)]
    )
    directions = models.TextField(
        blank=True,
        max_length=DIRECTIONS_MAX_LENGTH,
        validators=[
            MaxLengthValidator(DIRECTIONS_MAX_LENGTH),
            MaxBytesValidator(DIRECTIONS_MAX_BYTES),
        ],
        help_text="Shown to guests and crew.",
    )
    map_url = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Vessel(models.Model):
    """A boat: what a charter is on. Operational facts only, no money."""

    code = models.CharField(
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9_]+$", "Capital letters, digits and _ only.")],
        help_text="Short id used by the API and the CSV import, e.g. JADA.",
    )
    name = models.CharField(max_length=80, help_text="What the crew and the operator call it.")
    guest_name = models.CharField(
        "guest-facing name",
        max_length=VESSEL_GUEST_NAME_MAX_BYTES,
        help_text="What the guest page calls it.",
        validators=[MaxBytesValidator(VESSEL_GUEST_NAME_MAX_BYTES)],
    )
    capacity = models.PositiveSmallIntegerField(
        help_text="Guests it may carry.", validators=[MinValueValidator(1), MaxValueValidator(150)]
    )
    home_dock = models.ForeignKey(
        Dock, on_delete=models.PROTECT, null=True, blank=True, related_name="vessels"
    )
    turnaround_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(24 * 60)],
        help_text="Kept free after each charter before the next may start.",
    )
    active = models.BooleanField(default=True)
    is_default = models.BooleanField(
        "default vessel",
        default=False,
        help_text="Bookings that name no vessel (API, CSV) go on this one.",
    )
    # Secret of the availability feed marketplaces import; rotate to revoke a leaked URL.
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="vessel_one_default",
                violation_error_message="Another vessel is already the default: untick it first.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# The longest charter: a day.
MAX_DURATION_MINUTES = 24 * 60


class Booking(models.Model):
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.DIRECT)
    external_ref = models.CharField(
        "external reference", max_length=100, help_text="The marketplace's booking id."
    )
    guest_name = models.CharField(max_length=200)
    guest_email = models.EmailField(blank=True)
    guest_phone = models.CharField(max_length=40, blank=True)
    guest_count = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(150)]
    )
    starts_at = models.DateTimeField(db_index=True)
    duration_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)]
    )
    dock = models.ForeignKey(Dock, on_delete=models.PROTECT, related_name="bookings")
    vessel = models.ForeignKey(Vessel, on_delete=models.PROTECT, related_name="bookings")
    # End plus the vessel's turnaround: what the no-overlap exclusion constraint compares
    # (PostgreSQL, migration 0006). Kept in step by bookings.services, never typed.
    blocked_until = models.DateTimeField(editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    notes = models.TextField(blank=True, help_text="Visible to crew.")
    internal_notes = models.TextField(blank=True, help_text="Operators only; never leaves here.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
        # Internal notes are the operator's own: granted with view_financials in the demo.
        permissions = [("view_internal_notes", "Can see and edit the internal notes")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"], name="booking_unique_source_ref"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.external_ref}"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == Status.CANCELLED

    def clean(self) -> None:
        vessel = self.vessel if self.vessel_id else None
        if vessel is not None and self.guest_count and self.guest_count > vessel.capacity:
            raise ValidationError(
                {"guest_count": f"{vessel.name} takes at most {vessel.capacity} guests."}
            )


def money_field(verbose_name: str) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )


class Financials(models.Model):
    """The only home of money. Guarded by bookings.view_financials / change_financials."""

    booking = models.OneToOneField(
        Booking, on_delete=models.CASCADE, primary_key=True, related_name="financials"
    )
    gross_revenue = money_field("gross revenue")
    crew_cost = money_field("crew cost")
    captain_cost = money_field("captain cost")
    fee_percent = models.DecimalField(
        "port or marketplace fee %",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    fee = models.DecimalField(max_digits=12, decimal_places=2, editable=False)
    # Net may be negative (a loss-making charter), so it carries no minimum.
    net_revenue = models.DecimalField(max_digits=12, decimal_places=2, editable=False)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        verbose_name_plural = "financials"

    def __str__(self) -> str:
        return f"Financials of {self.booking_id}"

    def recompute(self) -> None:
        """Fee and net always follow from the inputs; nobody types them."""
        result = settle(
            gross_revenue=Decimal(self.gross_revenue),
            crew_cost=Decimal(self.crew_cost),
            captain_cost=Decimal(self.captain_cost),
            fee_percent=Decimal(self.fee_percent),
        )
        self.fee = result.fee
        self.net_revenue = result.net_revenue


class AuditEntry(models.Model):
    """Who changed money or status, when, through what, before → after."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="audit_entries")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=20)  # admin, api, csv, demo
    # Who, when it was no signed-in user: the API token's name, the imported file.
    by_name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=20)  # created, changed
    # {field: [before, after]}; money values as strings so Decimal survives JSON.
    changes = models.JSONField(default=dict)
    touches_money = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} via {self.via} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def who(self) -> str:
        """The signed-in user and what they used (a CSV file), else the API token or the file."""
        if self.actor and self.by_name:
            return f"{self.actor.get_username()} ({self.by_name})"
        return self.actor.get_username() if self.actor else self.by_name or "—"


class CalendarSubscription(models.Model):
    """A marketplace's calendar of one vessel (an iCal URL), fetched by sync_calendars."""

    vessel = models.ForeignKey(Vessel, on_delete=models.CASCADE, related_name="subscriptions")
    name = models.CharField(max_length=120, help_text="e.g. Boatsetter listing of Jada.")
    url = models.URLField("iCal URL", max_length=1000)
    source = models.CharField(
        max_length=20,
        choices=Source.choices,
        help_text="Its events that match a booking of this source are that booking.",
    )
    active = models.BooleanField(default=True)
    # Conditional GET: what the server said last time, sent back so an unchanged feed is a 304.
    etag = models.CharField(max_length=200, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["vessel__code", "name"]

    def __str__(self) -> str:
        return self.name


class Hold(models.Model):
    """An event of a subscribed calendar: the vessel is taken elsewhere for that time."""

    subscription = models.ForeignKey(
        CalendarSubscription, on_delete=models.CASCADE, related_name="holds"
    )
    vessel = models.ForeignKey(Vessel, on_delete=models.CASCADE, related_name="holds")
    source = models.CharField(max_length=20, choices=Source.choices)
    uid = models.CharField(max_length=500)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    # Kept for the operator (it may name the guest); never in the availability feed.
    summary = models.CharField(max_length=500, blank=True)
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="holds"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "uid"], name="hold_unique_uid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} hold {self.starts_at:%Y-%m-%d %H:%M} UTC"


class HoldConflict(models.Model):
    """A hold overlapping a booking it is not: the operator is emailed once per pair."""

    hold = models.ForeignKey(Hold, on_delete=models.CASCADE, related_name="conflicts")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="hold_conflicts")
    noticed_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hold", "booking"], name="hold_conflict_unique"),
        ]

    def __str__(self) -> str:
        return f"Hold {self.hold_id} overlaps booking {self.booking_id}"
