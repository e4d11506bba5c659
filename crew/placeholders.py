"""Checklist templates' placeholders: `{guest_count}`, `{dock}`, `{start}`, nothing more."""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter

from django.core.exceptions import ValidationError

PLACEHOLDERS = ("guest_count", "dock", "start")


def placeholder_errors(text: str) -> list[str]:
    """What is wrong with the placeholders of `text`, one sentence each; empty when fine."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError:
        return ["A { or } has no partner: write {{ or }} for a brace of its own."]
    known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    errors = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        written = "{" + name + (f"!{conversion}" if conversion else "")
        written += (f":{spec}" if spec else "") + "}"
        # Only the bare names: an index, attribute, conversion or format would fail on the value
        # (`{guest_count[0]}`) or reach into it (`{dock.x}`).
        if name not in PLACEHOLDERS or spec or conversion:
            errors.append(f"Unknown placeholder {written}: use {known}.")
    return errors


def validate_placeholders(text: str) -> None:
    """Model validator of a checklist template's text."""
    errors = placeholder_errors(text)
    if errors:
        raise ValidationError(errors, code="placeholder")


def placeholders_fill(text: str, values: Mapping[str, object]) -> str:
    """`text` with its placeholders filled; the text as written when they are not all known."""
    if placeholder_errors(text):
        return text
    try:
        return text.format_map({name: values[name] for name in PLACEHOLDERS})
    except Exception:
        return text
