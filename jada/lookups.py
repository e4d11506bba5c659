"""Docks and the active roster read once for many intake payloads (an import), not per payload."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from bookings.models import Dock
from crew.models import CrewMember
from crew.services import member_codes_unknown


@dataclass(frozen=True)
class _Lookups:
    docks: dict[str, Dock]  # by name, then by upper-cased name (the first by name)
    active_codes: frozenset[str]


_LOOKUPS: ContextVar[_Lookups | None] = ContextVar("intake_lookups", default=None)


@contextmanager
def intake_lookups() -> Iterator[None]:
    """Docks and the active roster read once for many payloads (an import), not per payload.

    For a batch that changes neither: the validation is the same, without its reads.
    """
    by_name = list(Dock.objects.order_by("name"))
    docks: dict[str, Dock] = {dock.name: dock for dock in by_name}
    for dock in by_name:
        docks.setdefault(dock.name.upper(), dock)
    codes = frozenset(CrewMember.objects.filter(active=True).values_list("code", flat=True))
    token = _LOOKUPS.set(_Lookups(docks=docks, active_codes=codes))
    try:
        yield
    finally:
        _LOOKUPS.reset(token)


def dock_named(name: str) -> Dock | None:
    """The dock of this name, else of this name in other case (the first by name)."""
    lookups = _LOOKUPS.get()
    if lookups is not None:
        return lookups.docks.get(name) or lookups.docks.get(name.upper())
    return Dock.objects.filter(name=name).first() or Dock.objects.filter(name__iexact=name).first()


def codes_unknown(codes: Sequence[str]) -> list[str]:
    """Codes not on the active roster."""
    lookups = _LOOKUPS.get()
    if lookups is not None:
        return [code for code in codes if code not in lookups.active_codes]
    return member_codes_unknown(codes)
