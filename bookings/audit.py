"""The audit entry of a crew change: names, roles and shifts of members and open slots, no money."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from bookings.audit_format import crew_lines
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
    if not crew_lines(before, after):
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
