"""Admin forms of the operator's record: parse and validate, then hand over to the service."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from bookings.audit_format import FIELD_LABELS, field_label
from bookings.formatting import HoursField, zone_name
from bookings.models import MAX_DURATION_MINUTES, Booking, Financials, Vessel
from bookings.services import (
    MONEY_INPUTS,
    OPERATIONAL_FIELDS,
    BookingData,
    UpsertResult,
    booking_lock,
    booking_upsert,
)
from bookings.vessels import booking_conflict, vessel_default

# How a form's booking is written: `booking_upsert`, or a service with its arguments that does
# more (the admin passes the one that also starts the pipeline).
Write = Callable[..., UpsertResult]

OPERATIONAL_FORM_FIELDS = ("source", "external_ref", *OPERATIONAL_FIELDS, "internal_notes")


def _money_field(label: str, *, max_value: Decimal | None = None) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0"),
        max_value=max_value,
        max_digits=5 if max_value is not None else 12,
        decimal_places=2,
    )


class BookingForm(forms.ModelForm):
    """Operational fields only: what staff without money permissions may see and edit."""

    duration_minutes = HoursField(
        what="charter",
        longest=MAX_DURATION_MINUTES,
        label=f"{field_label('duration_minutes')} (hours)",
        help_text="Hours, such as 4 or 4.5, or hours:minutes, such as 4:30.",
    )

    class Meta:
        model = Booking
        fields = OPERATIONAL_FORM_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in FIELD_LABELS.keys() & self.fields.keys() - {"duration_minutes"}:
            # The audit log's, pipeline pages' and summary email's word for the field.
            self.fields[name].label = field_label(name)
        if "starts_at" in self.fields:
            # Django's current zone is the operator's (settings.TIME_ZONE); say so on the form.
            self.fields["starts_at"].label = f"{field_label('starts_at')} ({zone_name()})"
        if "vessel" in self.fields:
            # Left empty, the booking goes on the default vessel, as from the API.
            field = self.fields["vessel"]
            field.required = False
            field.empty_label = "The default vessel"
            field.queryset = Vessel.objects.filter(active=True) | Vessel.objects.filter(
                pk=self.instance.vessel_id
            )

    def clean_vessel(self) -> Vessel:
        chosen = self.cleaned_data.get("vessel")
        if chosen is None and self.instance.pk is not None:
            return self.instance.vessel  # left empty on a change: where it is
        return chosen or vessel_default()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        values = {name: self._value(name) for name in ("starts_at", "duration_minutes", "status")}
        vessel = self._value("vessel")
        if vessel is not None and all(v is not None for v in values.values()):
            # The service checks again (and PostgreSQL's constraint holds it); here it is the
            # form's error rather than a failed save.
            message = booking_conflict(vessel=vessel, exclude_pk=self.instance.pk, **values)
            if message:
                self.add_error("starts_at" if "starts_at" in self.fields else None, message)
        return cleaned

    def _value(self, name: str) -> Any:
        # Fields shown read-only (source and reference once saved) are not in cleaned_data.
        if name in self.cleaned_data:
            return self.cleaned_data[name]
        if name in self.fields:
            return None  # the field's own error is shown already
        return getattr(self.instance, name, None)

    def booking_data(self, money: dict[str, Decimal]) -> BookingData:
        return BookingData(
            source=self._value("source"),
            external_ref=self._value("external_ref"),
            guest_name=self._value("guest_name"),
            guest_email=self._value("guest_email"),
            guest_phone=self._value("guest_phone"),
            guest_count=self._value("guest_count"),
            starts_at=self._value("starts_at"),
            duration_minutes=self._value("duration_minutes"),
            dock=self._value("dock"),
            vessel=self._value("vessel"),
            status=self._value("status"),
            notes=self._value("notes"),
            internal_notes=self._value("internal_notes"),
            **money,
        )

    def submit(self, *, by: Any, write: Write = booking_upsert) -> UpsertResult:
        """Save through the service, keeping the booking's money exactly as it is."""
        if self.instance.pk is None:
            # The admin only offers this form for changes; a new booking must carry its money.
            raise ValidationError("A new booking needs its financials.")
        with transaction.atomic():
            # Lock and re-read, as the service does before any write, so a concurrent money
            # change by an operator is not overwritten with the values read here.
            _, financials = booking_lock(pk=self.instance.pk)
            if financials is None:
                raise ValidationError("This booking no longer exists.")
            money = {name: getattr(financials, name) for name in MONEY_INPUTS}
            return write(data=self.booking_data(money), by=by, via="admin")


class BookingMoneyForm(BookingForm):
    """Operational fields plus the money inputs, for holders of bookings.change_financials."""

    gross_revenue = _money_field(field_label("gross_revenue"))
    crew_cost = _money_field(field_label("crew_cost"))
    captain_cost = _money_field(field_label("captain_cost"))
    fee_percent = _money_field(field_label("fee_percent"), max_value=Decimal("100"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.is_bound:
            financials = Financials.objects.filter(booking_id=self.instance.pk).first()
            if financials is not None:
                for name in MONEY_INPUTS:
                    self.initial.setdefault(name, getattr(financials, name))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        money = {name: cleaned.get(name) for name in MONEY_INPUTS}
        if all(value is not None for value in money.values()):
            # Fee and net follow from the inputs; check they fit before anything is written.
            financials = Financials(**money)
            financials.recompute()
            try:
                financials.full_clean(exclude=["booking"])
            except ValidationError as e:
                raise ValidationError(
                    [f"{name}: {'; '.join(msgs)}" for name, msgs in e.message_dict.items()]
                ) from e
        return cleaned

    def submit(self, *, by: Any, write: Write = booking_upsert) -> UpsertResult:
        money = {name: self.cleaned_data[name] for name in MONEY_INPUTS}
        return write(data=self.booking_data(money), by=by, via="admin")
