"""Docks and the active roster read once for many intake payloads (an import), not per payload."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from bookings.models import Dock
from crew.models import CrewMember
from crew.services import PlannedAssignment, member_codes_unknown
from crew.services.events import members_by_code


@dataclass(frozen=True)
class _Lookups:
    docks: dict[str, Dock]  # by name, then by upper-cased name (the first by name)
    members: dict[str, CrewMember]  # the active roster by code


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
    members = {member.code: member for member in CrewMember.objects.filter(active=True)}
    token = _LOOKUPS.set(_Lookups(docks=docks, members=members))
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
        return [code for code in codes if code not in lookups.members]
    return member_codes_unknown(codes)


def members_named(plans: Sequence[Sequence[PlannedAssignment]]) -> dict[str, CrewMember]:
    """The members the plans name, by code: from the roster read once, else in one read."""
    lookups = _LOOKUPS.get()
    codes = {planned.member_code for plan in plans for planned in plan if planned.member_code}
    if lookups is not None and codes <= lookups.members.keys():
        return {code: lookups.members[code] for code in codes}
    return members_by_code(plans)
