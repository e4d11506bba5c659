"""The intake's field types: each checks a JSON value and states its own JSON Schema.

A type is a pydantic annotation (`Annotated[Decimal, Amount()]`): pydantic calls `check` on the
request, and `/api/openapi.json` shows `json_schema()`, built from the same limits, so the two
cannot drift apart. The types are strict about JSON types: a number where a string belongs (or
the reverse) is an error, not something coerced. Money is Decimal from end to end: JSON numbers
arrive as Decimal (`json.loads(..., parse_float=Decimal)`), strings are parsed with a fixed
pattern, and every range is checked by comparison before any arithmetic, so no input can
overflow a Decimal context.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

CENT = Decimal("0.01")
# Each amount stays below a billion so that net revenue (gross minus three amounts) always fits
# the ledger's 12-digit columns.
MAX_AMOUNT = Decimal("999999999.99")
MAX_HOURS = Decimal(24)
# Charters outside this window are typos (a two-digit year, a swapped field), not bookings.
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2099, 12, 31)
YEAR_PATTERN = "20[0-9]{2}"  # FIRST_DATE.year to LAST_DATE.year

NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
MAX_NUMBER_TEXT = 32
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
TIME_TEXT = re.compile(r"[0-9]{2}:[0-9]{2}", re.ASCII)
# ISO 8601 / RFC 3339 with a mandatory offset; seconds and fractions optional.
DATETIME_TEXT = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
# Text with something besides white space (what `str.strip` removes, as `\s` does) and no NUL.
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
NO_NUL = r"^[^\x00]*$"
HOURS_TEXT = "Use a whole number of minutes (for example 2.5 hours)."


def invalid(message: str) -> PydanticCustomError:
    """An error pydantic reports under the field's name, with this exact message."""
    return PydanticCustomError("jada", "{message}", {"message": message})


@dataclass(frozen=True)
class FieldType:
    """A pydantic annotation: one `check` for requests, one JSON Schema for the document."""

    description: str = ""

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        described = {"description": self.description} if self.description else {}
        return {**self.schema(), **described}

    def _validate(self, value: Any) -> Any:
        if value is None:
            # Optional fields are left out, never null: one way to say "not given".
            raise invalid("May not be null.")
        return self.check(value)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_plain_validator_function(self._validate)

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return self.json_schema()


@dataclass(frozen=True)
class Text(FieldType):
    """A JSON string, stripped; other JSON types are rejected rather than turned into text."""

    max_length: int = 0
    blank: bool = False  # whether nothing (after stripping) is allowed
    nfc: bool = False  # Unicode NFC, so that one name typed two ways is one value
    email: bool = False

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise invalid("Expected a string.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            # Lone surrogates ("\ud800") are valid JSON but no database can store them.
            raise invalid("Contains characters that are not valid text.") from e
        # Checked before stripping too, so padding cannot smuggle in an over-long value.
        self._check_length(value)
        if "\x00" in value:
            raise invalid("Null characters are not allowed.")
        value = value.strip()
        if self.nfc:
            value = unicodedata.normalize("NFC", value)
            self._check_length(value)
        if not value and not self.blank:
            raise invalid("This field is required.")
        if value and self.email:
            try:
                validate_email(value)
            except ValidationError as e:
                raise invalid("Enter a valid email address.") from e
        return value

    def _check_length(self, value: str) -> None:
        if len(value) > self.max_length:
            raise invalid(
                f"Ensure this value has at most {self.max_length} characters (it has {len(value)})."
            )

    def schema(self) -> dict[str, Any]:
        if self.email:
            return {
                "anyOf": [
                    {"type": "string", "format": "email", "maxLength": self.max_length},
                    {"type": "string", "maxLength": 0},
                ]
            }
        text: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.blank:
            return {**text, "pattern": NO_NUL}
        return {**text, "minLength": 1, "pattern": NOT_BLANK}


@dataclass(frozen=True)
class Choice(FieldType):
    values: tuple[str, ...] = ()

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise invalid("Expected a string.")
        if value not in self.values:
            raise invalid(f"Expected one of: {', '.join(self.values)}.")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}


@dataclass(frozen=True)
class Integer(FieldType):
    """A JSON integer: not a boolean, not a string, not 4.5 (4.0 is 4, as JSON Schema says)."""

    minimum: int = 0
    maximum: int = 0

    def check(self, value: Any) -> int:
        whole = isinstance(value, Decimal) and value.is_finite() and value == value.to_integral()
        if not whole and (isinstance(value, bool) or not isinstance(value, int)):
            raise invalid("Expected a whole number.")
        # Compared before int(): 1e999999 is whole, and far too big to become an int.
        if value < self.minimum:
            raise invalid(f"Must be at least {self.minimum}.")
        if value > self.maximum:
            raise invalid(f"Must be at most {self.maximum}.")
        return int(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class Amount(FieldType):
    """A decimal number given as a JSON number or a string such as "840.75"; never a float."""

    minimum: Decimal | None = Decimal(0)  # None: any sign
    maximum: Decimal = MAX_AMOUNT
    exclusive_minimum: bool = False
    places: int = 2

    def check(self, value: Any) -> Decimal:
        number = self._parse(value)
        self._check_range(number)
        if not self._exact(number):
            raise invalid(f"Use at most {self.places} decimal places.")
        # -0 is zero: stored and audited as 0.00, never as "-0.00".
        return number.copy_abs() if number.is_zero() else number

    def _exact(self, number: Decimal) -> bool:
        try:
            return number == number.quantize(Decimal(1).scaleb(-self.places))
        except InvalidOperation:
            return False

    def _parse(self, value: Any) -> Decimal:
        if isinstance(value, bool):
            raise invalid("Expected a number.")
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            # A payload built in Python rather than parsed from JSON: go through the shortest
            # repr, never through binary floating point arithmetic.
            value = repr(value)
        if isinstance(value, str):
            if len(value) > MAX_NUMBER_TEXT or not NUMBER_TEXT.fullmatch(value):
                raise invalid("Enter a number such as 840.75.")
            return Decimal(value)
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise invalid("Expected a finite number.")
            return value
        raise invalid("Expected a number.")

    def _check_range(self, value: Decimal) -> None:
        # Comparisons only: they are exact for any exponent, unlike arithmetic.
        low = self.minimum
        if low is not None and self.exclusive_minimum and value <= low:
            raise invalid(f"Must be greater than {low}.")
        if low is not None and value < low:
            raise invalid("Must not be negative." if low == 0 else f"Must be at least {low}.")
        if value > self.maximum:
            raise invalid(f"Must be at most {self.maximum}.")
        if value < -self.maximum:
            raise invalid(f"Must be at least -{self.maximum}.")

    def schema(self) -> dict[str, Any]:
        number: dict[str, Any] = {"type": "number", "maximum": float(self.maximum)}
        if self.minimum is not None:
            key = "exclusiveMinimum" if self.exclusive_minimum else "minimum"
            number[key] = float(self.minimum)
        else:
            number["minimum"] = -float(self.maximum)
        # Digits before the point as the maximum has them (leading zeros aside), and at most
        # `places` after it (trailing zeros aside): a close fit, never stricter than `check`.
        digits = len(str(int(self.maximum)))
        unsigned = rf"0*[0-9]{{1,{digits}}}(\.[0-9]{{1,{self.places}}}0*)?"
        sign = "-?" if self.minimum is None else ""
        zero = r"|-0+(\.0+)?" if self.minimum == 0 and not self.exclusive_minimum else ""
        text = {"type": "string", "pattern": f"^({sign}{unsigned}{zero})$"}
        return {"anyOf": [number, {**text, "maxLength": MAX_NUMBER_TEXT}]}


@dataclass(frozen=True)
class Hours(Amount):
    """A duration in hours, more than zero and at most 24, a whole number of minutes."""

    minimum: Decimal | None = Decimal(0)
    maximum: Decimal = MAX_HOURS
    exclusive_minimum: bool = True
    places: int = 4

    def check(self, value: Any) -> Decimal:
        number = self._parse(value)
        self._check_range(number)
        # In range and at most four places, so the product is exact.
        if not self._exact(number) or number * 60 != (number * 60).to_integral_value():
            raise invalid(HOURS_TEXT)
        return number


@dataclass(frozen=True)
class CalendarDate(FieldType):
    def check(self, value: Any) -> date:
        if not isinstance(value, str):
            raise invalid("Expected a string such as 2030-05-30.")
        try:
            if not DATE_TEXT.fullmatch(value):
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError as e:
            raise invalid("Enter a date as YYYY-MM-DD.") from e
        if not FIRST_DATE <= day <= LAST_DATE:
            raise invalid(f"Enter a date between {FIRST_DATE} and {LAST_DATE}.")
        return day

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "format": "date",
            "pattern": f"^{YEAR_PATTERN}-[0-9]{{2}}-[0-9]{{2}}$",
            "example": "2030-05-30",
        }


@dataclass(frozen=True)
class ClockTime(FieldType):
    def check(self, value: Any) -> time:
        if not isinstance(value, str):
            raise invalid("Expected a string such as 09:00.")
        try:
            if not TIME_TEXT.fullmatch(value):
                raise ValueError
            return time.fromisoformat(value)
        except ValueError as e:
            raise invalid("Enter a time as HH:MM (24-hour clock).") from e

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"}


@dataclass(frozen=True)
class Instant(FieldType):
    """ISO 8601 with a UTC offset; returned aware (conversion to UTC happens later)."""

    def check(self, value: Any) -> datetime:
        if not isinstance(value, str):
            raise invalid("Expected a string such as 2030-05-30T09:00:00-07:00.")
        try:
            if not re.fullmatch(DATETIME_TEXT, value, re.ASCII):
                raise ValueError
            moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError as e:
            raise invalid(
                "Enter a date and time in ISO 8601 with an offset, "
                "such as 2030-05-30T09:00:00-07:00 or 2030-05-30T16:00:00Z."
            ) from e
        if not FIRST_DATE <= moment.date() <= LAST_DATE:
            raise invalid(f"Enter a date between {FIRST_DATE} and {LAST_DATE}.")
        return moment

    def schema(self) -> dict[str, Any]:
        pattern = f"^{YEAR_PATTERN}{DATETIME_TEXT[len('[0-9]{4}') :]}$"
        return {"type": "string", "pattern": pattern, "example": "2030-05-30T09:00:00-07:00"}
