"""Field-by-field validation of an intake payload (the DESIGN.md JSON shape) with Django forms.

The fields are strict about JSON types: a number where a string belongs (or the reverse) is an
error, not something coerced. Money is Decimal from end to end: JSON numbers arrive as Decimal
(`json.loads(..., parse_float=Decimal)`), strings are parsed with a fixed pattern, and every
range is checked by comparison before any arithmetic, so no input can overflow a Decimal context.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from bookings.models import Source, Status
from crew.models import Role

CENT = Decimal("0.01")
# Each amount stays below a billion so that net revenue (gross minus three amounts) always fits
# the ledger's 12-digit columns.
MAX_AMOUNT = Decimal("999999999.99")
MAX_HOURS = Decimal(24)
# Charters outside this window are typos (a two-digit year, a swapped field), not bookings.
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2099, 12, 31)
MAX_CREW = 20

NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
MAX_NUMBER_TEXT = 32
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
TIME_TEXT = re.compile(r"[0-9]{2}:[0-9]{2}", re.ASCII)
# ISO 8601 / RFC 3339 with a mandatory offset; seconds and fractions optional.
DATETIME_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def _check_encodable(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        # Lone surrogates ("\ud800") are valid JSON but no database can store them.
        raise ValidationError("Contains characters that are not valid text.", code="text") from e


class Text(forms.CharField):
    """A JSON string; other JSON types are rejected rather than turned into text."""

    def to_python(self, value: Any) -> str:
        if value is None:
            return self.empty_value
        if not isinstance(value, str):
            raise ValidationError("Expected a string.", code="type")
        _check_encodable(value)
        if self.max_length is not None and len(value) > self.max_length:
            # Checked before stripping too, so padding cannot smuggle in an over-long value.
            raise ValidationError(
                f"Ensure this value has at most {self.max_length} characters "
                f"(it has {len(value)}).",
                code="max_length",
            )
        return super().to_python(value)


class Email(Text, forms.EmailField):
    pass


class Choice(forms.ChoiceField):
    def to_python(self, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValidationError("Expected a string.", code="type")
        if value == "":
            raise ValidationError(self._expected(), code="invalid_choice")
        return value

    def _expected(self) -> str:
        names = ", ".join(str(choice) for choice, _ in self.choices if choice)
        return f"Expected one of: {names}."

    def validate(self, value: Any) -> None:
        if value in self.empty_values:
            super().validate(value)
        elif not self.valid_value(value):
            raise ValidationError(self._expected(), code="invalid_choice")


class Integer(forms.Field):
    """A JSON integer (not a boolean, not a string, not 4.0)."""

    def __init__(self, *, min_value: int, max_value: int, **kwargs: Any) -> None:
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Expected a whole number.", code="type")
        return value

    def validate(self, value: int | None) -> None:
        super().validate(value)
        if value is None:
            return
        if value < self.min_value:
            raise ValidationError(f"Must be at least {self.min_value}.", code="min_value")
        if value > self.max_value:
            raise ValidationError(f"Must be at most {self.max_value}.", code="max_value")


class Amount(forms.Field):
    """A decimal number given as a JSON number or a string such as "840.75"; never a float.

    Ranges are checked by comparison first; only in-range values reach Decimal arithmetic.
    """

    def __init__(
        self,
        *,
        min_value: Decimal | None = Decimal(0),
        max_value: Decimal = MAX_AMOUNT,
        exclusive_min: bool = False,
        places: int = 2,
        **kwargs: Any,
    ) -> None:
        self.min_value, self.max_value = min_value, max_value
        self.exclusive_min, self.places = exclusive_min, places
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raise ValidationError("Expected a number.", code="type")
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            # A payload built in Python rather than parsed from JSON: go through the shortest
            # repr, never through binary floating point arithmetic.
            value = repr(value)
        if isinstance(value, str):
            if len(value) > MAX_NUMBER_TEXT or not NUMBER_TEXT.fullmatch(value):
                raise ValidationError("Enter a number such as 840.75.", code="invalid")
            return Decimal(value)
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValidationError("Expected a finite number.", code="invalid")
            return value
        raise ValidationError("Expected a number.", code="type")

    def validate(self, value: Decimal | None) -> None:
        super().validate(value)
        if value is None:
            return
        low = self.min_value
        if low is not None and self.exclusive_min and value <= low:
            raise ValidationError(f"Must be greater than {low}.", code="min_value")
        if low is not None and value < low:
            message = "Must not be negative." if low == 0 else f"Must be at least {low}."
            raise ValidationError(message, code="min_value")
        if value > self.max_value:
            raise ValidationError(f"Must be at most {self.max_value}.", code="max_value")
        if value < -self.max_value:
            raise ValidationError(f"Must be at least -{self.max_value}.", code="min_value")
        try:
            exact = value == value.quantize(Decimal(1).scaleb(-self.places))
        except InvalidOperation:
            exact = False
        if not exact:
            raise ValidationError(f"Use at most {self.places} decimal places.", code="places")


class Hours(Amount):
    """A duration in hours, more than zero and at most 24, a whole number of minutes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            min_value=Decimal(0), max_value=MAX_HOURS, exclusive_min=True, places=4, **kwargs
        )

    def validate(self, value: Decimal | None) -> None:
        try:
            super().validate(value)
        except ValidationError as e:
            if e.code == "places":
                raise ValidationError(
                    "Use a whole number of minutes (for example 2.5 hours).", code="minutes"
                ) from e
            raise
        if value is not None and value * 60 != (value * 60).to_integral_value():
            raise ValidationError(
                "Use a whole number of minutes (for example 2.5 hours).", code="minutes"
            )


class CalendarDate(forms.Field):
    def to_python(self, value: Any) -> date | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValidationError("Expected a string such as 2030-05-30.", code="type")
        try:
            if not DATE_TEXT.fullmatch(value):
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError as e:
            raise ValidationError("Enter a date as YYYY-MM-DD.", code="invalid") from e
        if not FIRST_DATE <= day <= LAST_DATE:
            raise ValidationError(
                f"Enter a date between {FIRST_DATE} and {LAST_DATE}.", code="range"
            )
        return day


class ClockTime(forms.Field):
    def to_python(self, value: Any) -> time | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValidationError("Expected a string such as 09:00.", code="type")
        try:
            if not TIME_TEXT.fullmatch(value):
                raise ValueError
            return time.fromisoformat(value)
        except ValueError as e:
            raise ValidationError("Enter a time as HH:MM (24-hour clock).", code="invalid") from e


class Instant(forms.Field):
    """ISO 8601 with a UTC offset; returned aware (conversion to UTC happens later)."""

    def to_python(self, value: Any):
        from datetime import datetime

        if value is None:
            return None
        if not isinstance(value, str):
            raise ValidationError("Expected a string such as 2030-05-30T09:00:00-07:00.", "type")
        try:
            if not DATETIME_TEXT.fullmatch(value):
                raise ValueError
            moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError as e:
            raise ValidationError(
                "Enter a date and time in ISO 8601 with an offset, "
                "such as 2030-05-30T09:00:00-07:00 or 2030-05-30T16:00:00Z.",
                code="invalid",
            ) from e
        if not FIRST_DATE <= moment.date() <= LAST_DATE:
            raise ValidationError(
                f"Enter a date between {FIRST_DATE} and {LAST_DATE}.", code="range"
            )
        return moment


class JSONObject(forms.Field):
    def to_python(self, value: Any) -> dict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValidationError("Expected an object.", code="type")
        return value

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")


class JSONList(forms.Field):
    def __init__(self, *, max_items: int, **kwargs: Any) -> None:
        self.max_items = max_items
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list | None:
        if value is None:
            return None
        if not isinstance(value, list):
            raise ValidationError("Expected a list.", code="type")
        if len(value) > self.max_items:
            raise ValidationError(f"At most {self.max_items} entries.", code="max_items")
        return value

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")


class BookingForm(forms.Form):
    """The top level of the payload. `guest` and `crew_assignments` have forms of their own."""

    source = Choice(choices=Source.choices)
    external_ref = Text(max_length=100)
    event_type = Choice(choices=[("booking", "booking")], required=False)
    charter_date = CalendarDate(required=False)
    start_time = ClockTime(required=False)
    starts_at = Instant(required=False)
    duration_hours = Hours()
    gross_revenue = Amount()
    crew_cost = Amount()
    captain_cost = Amount()
    port_fee_percent = Amount(max_value=Decimal(100))
    # Net may be negative (a loss); it is only compared with the computed one.
    net_revenue = Amount(min_value=None, max_value=Decimal("99999999999.99"), required=False)
    guest = JSONObject()
    location = Text(max_length=120)
    captain_id = Text(max_length=20, required=False)
    crew_assignments = JSONList(max_items=MAX_CREW, required=False)
    notes = Text(max_length=4000, required=False)
    status = Choice(choices=Status.choices, required=False)


class GuestForm(forms.Form):
    name = Text(max_length=200)
    email = Email(max_length=254, required=False)
    phone = Text(max_length=40, required=False)
    count = Integer(min_value=1, max_value=150)


class CrewAssignmentForm(forms.Form):
    crew_id = Text(max_length=20)
    role = Choice(choices=Role.choices)
    duration_hours = Hours(required=False)


def form_errors(
    form_class: type[forms.Form], payload: dict, *, prefix: str = "", errors: dict[str, list[str]]
) -> dict[str, Any]:
    """Validate `payload` with the form; add errors under dotted names, return the clean data."""
    form = form_class(data=payload)
    reported: set[str] = set()
    for key, value in payload.items():
        if key not in form.fields:
            errors.setdefault(f"{prefix}{key}", []).append("Unknown field.")
        elif value is None:
            # Optional fields are left out, never null: one way to say "not given".
            errors.setdefault(f"{prefix}{key}", []).append("May not be null.")
            reported.add(key)
    if not form.is_valid():
        for name, messages in form.errors.items():
            if name in reported:
                continue
            key = f"{prefix}{name}" if name != "__all__" else "body"
            errors.setdefault(key, []).extend(str(m) for m in messages)
    return form.cleaned_data
