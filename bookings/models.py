"""The operator's authoritative record of a charter. Money lives only in `Financials`."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import (
    BaseValidator,
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
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
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    dock = models.ForeignKey(Dock, on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    notes = models.TextField(blank=True, help_text="Visible to crew.")
    internal_notes = models.TextField(blank=True, help_text="Operators only; never leaves here.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
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
        """The signed-in user, else what made the change (an API token, a CSV file)."""
        return self.actor.get_username() if self.actor else self.by_name or "—"
