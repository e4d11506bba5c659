"""Marks that let an email go once although it is sent outside any transaction."""

from __future__ import annotations

from datetime import datetime


def claim(queryset, field: str, now: datetime) -> bool:
    """Mark a row as told (a conditional UPDATE, committed at once) before its email goes out.

    The email is then sent outside any transaction; `unclaim` puts the mark back on failure so
    the task's retry sends it. Two workers never both win the same claim.
    """
    return queryset.filter(**{f"{field}__isnull": True}).update(**{field: now}) == 1


def unclaim(queryset, field: str, now: datetime) -> None:
    queryset.filter(**{field: now}).update(**{field: None})
