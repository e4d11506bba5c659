"""Field labels and values as the operator reads them: the audit log, pipeline pages, emails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from bookings.formatting import minutes_text, stamp_text
from bookings.models import AuditEntry, Status

FIELD_LABELS = {
    "status": "Status",
    "starts_at": "Start",
    "duration_minutes": "Duration",
    "dock": "Dock",
    "vessel": "Vessel",
    "guest_count": "Guest count",
    "guest_name": "Guest name",
    "guest_email": "Guest email",
    "guest_phone": "Guest phone",
    "notes": "Notes for crew",
    "crew": "Crew",
    "gross_revenue": "Gross revenue",
    "crew_cost": "Crew cost",
    "captain_cost": "Captain cost",
    "fee_percent": "Fee %",
    "fee": "Fee",
    "net_revenue": "Net revenue",
}
# Audit entries store the order of this table; the log lists fields in it.
FIELD_ORDER = {name: i for i, name in enumerate(FIELD_LABELS)}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def field_labels(names: list[str] | tuple[str, ...]) -> str:
    """ "Guest count, Start" for ["guest_count", "starts_at"], in the table's order."""
    ordered = sorted(names, key=lambda n: (FIELD_ORDER.get(n, len(FIELD_ORDER)), n))
    return ", ".join(field_label(n) for n in ordered)


def hours_minutes(minutes: int) -> str:
    """'3 h', '2 h 30 min', '45 min'."""
    return minutes_text(int(minutes))


def value_text(name: str, value: Any) -> str:
    """One audited value as the operator reads it ("—" for none)."""
    if value is None or value == "":
        return "—"
    if name == "starts_at":
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return stamp_text(when)
    if name == "duration_minutes":
        return hours_minutes(value)
    if name == "status":
        return str(dict(Status.choices).get(value, value))
    if name == "fee_percent":
        return f"{value} %"
    return str(value)


def _crew_member(row: dict[str, Any]) -> str:
    return f"{row.get('name') or row.get('code')} ({row.get('role')})"


def _crew_shift(row: dict[str, Any]) -> dict[str, str]:
    """A crew row's changeable parts as they read: role, call time, shift."""
    call = row.get("call_at")
    return {
        "role": str(row.get("role") or "—"),
        "call time": stamp_text(datetime.fromisoformat(call)) if call else "—",
        "shift": minutes_text(row["shift_minutes"]) if row.get("shift_minutes") else "—",
    }


def crew_lines(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """ "Crew: added Dana Cole (deckhand)", one line per member added, removed or changed."""
    was = {row["code"]: row for row in before}
    now = {row["code"]: row for row in after}
    lines = []
    for code, row in now.items():
        if code not in was:
            lines.append(f"Crew: added {_crew_member(row)}")
            continue
        old, new = _crew_shift(was[code]), _crew_shift(row)
        parts = [f"{part} {old[part]} → {new[part]}" for part in new if old[part] != new[part]]
        if parts:
            lines.append(f"Crew: changed {_crew_member(was[code])}: {', '.join(parts)}")
    lines += [f"Crew: removed {_crew_member(row)}" for code, row in was.items() if code not in now]
    return lines


def change_lines(entry: AuditEntry) -> list[str]:
    """ "Guest count: 4 → 6", one per changed field, labelled, in a fixed order."""
    names = sorted(entry.changes, key=lambda n: (FIELD_ORDER.get(n, len(FIELD_ORDER)), n))
    lines = []
    for name in names:
        before, after = entry.changes[name]
        if isinstance(before, list) and isinstance(after, list):
            # The crew as a list of members (the crew event page): one line per member.
            lines += crew_lines(before, after)
        elif entry.action == "created":
            lines.append(f"{field_label(name)}: {value_text(name, after)}")
        else:
            lines.append(
                f"{field_label(name)}: {value_text(name, before)} → {value_text(name, after)}"
            )
    return lines


def format_changes(entry: AuditEntry) -> SafeString:
    """The entry's changes, one readable line per field."""
    return format_html(
        '<ul class="audit-changes">{}</ul>',
        format_html_join("", "<li>{}</li>", ((line,) for line in change_lines(entry))),
    )
