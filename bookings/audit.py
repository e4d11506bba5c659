"""The audit entry of a crew change: names, roles and shifts of members and open slots, no money."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from bookings.audit_format import roster_change_lines
from bookings.models import AuditEntry


def crew_change_log(
    *,
    booking_id: int,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    by: AbstractBaseUser | None = None,
    via: str,
    by_name: str = "",
) -> AuditEntry | None:
    """Record a change of the charter's crew (rows as `crew.selectors.crew_roster` reads them);
    nothing is recorded when no member or open slot changed. Runs in the caller's transaction."""
    if not roster_change_lines(before, after):
        return None
    return AuditEntry.objects.create(
        booking_id=booking_id,
        actor=by if by is not None and by.is_authenticated else None,
        via=via,
        by_name=by_name[:200],
        action="changed",
        changes={"crew": [before, after]},
        touches_money=False,
    )


def created_entries_save(
    *, entries: Sequence[AuditEntry], crews: dict[int, list[dict[str, Any]]]
) -> None:
    """Write new bookings' "created" entries (left unsaved by `crew_follows`) with each one's
    first crew, booking id → rows as `crew.selectors.crew_roster` reads them: one insert.
    The log then lists each member by name and role, and each open slot, as a crew change."""
    for entry in entries:
        if rows := crews.get(entry.booking_id):
            # An open slot is told apart by its order: its id, a sequence's, would make an
            # import's entries differ from the same rows saved one by one.
            numbered = iter(range(1, len(rows) + 1))
            rows = [{**row, "slot": next(numbered)} if not row.get("code") else row for row in rows]
            entry.changes["crew"] = [[], rows]
    AuditEntry.objects.bulk_create(entries)
