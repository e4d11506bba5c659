"""Field labels and values as the operator reads them: the audit log, pipeline pages, emails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from bookings.formatting import OPERATIONAL_LABELS, minutes_text, stamp_text
from bookings.models import AuditEntry, Status

# The operational words are bookings.formatting's (crew pages use them too); money's are here.
FIELD_LABELS = {
    **OPERATIONAL_LABELS,
    "gross_revenue": "Gross revenue",
    "crew_cost": "Crew cost",
    "captain_cost": "Captain cost",
    "fee_percent": "Port or marketplace fee %",
    "fee": "Fee",
    "net_revenue": "Net revenue",
}
# Audit entries store the order of this table; the log lists fields in it.
FIELD_ORDER = {name: i for i, name in enumerate(FIELD_LABELS)}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def field_labels(names: list[str] | tuple[str, ...]) -> str:
    """ "Starts, Guest count" for ["guest_count", "starts_at"], in the table's order."""
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


def _crew_key(row: dict[str, Any]) -> str:
    # A member by code; an open slot (no member) by its own id.
    return row["code"] if row.get("code") else f"slot {row.get('slot')}"


def roster_change_lines(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """ "Crew: added Dana Cole (deckhand)", one line per member or open slot that changed.

    Rows are members (`code`, `name`, `role`, …) and open slots (`slot`, `role`, …); a member
    row carrying the `slot` it filled reads "Crew: Jo Park took the deckhand slot", one whose
    `declined` turns true "Crew: Dana Cole declined (deckhand)", and a slot opened `deactivated`
    in someone's place says so first ("Crew: Sam Ortiz deactivated (deckhand)").
    """
    was = {_crew_key(row): row for row in before}
    now = {_crew_key(row): row for row in after}
    taken = {f"slot {row['slot']}" for row in after if row.get("code") and row.get("slot")}
    lines = []
    for key, row in now.items():
        if key not in was:
            if not row.get("code"):
                if row.get("deactivated") and row.get("place_of"):
                    lines.append(f"Crew: {row['place_of']} deactivated ({row.get('role')})")
                place = f" in {row['place_of']}'s place" if row.get("place_of") else ""
                lines.append(f"Crew: opened a {row.get('role')} slot{place}")
            elif f"slot {row.get('slot')}" in was:
                lines.append(f"Crew: {row.get('name') or row['code']} took the {row['role']} slot")
            else:
                lines.append(f"Crew: added {_crew_member(row)}")
            continue
        if row.get("code") and bool(row.get("declined")) != bool(was[key].get("declined")):
            # The member's answer, not the roster, changed: a decline, or one taken back.
            name = row.get("name") or row["code"]
            done = f"{name} declined" if row.get("declined") else f"{name}'s decline undone"
            lines.append(f"Crew: {done} ({row.get('role')})")
        old, new = _crew_shift(was[key]), _crew_shift(row)
        parts = [f"{part} {old[part]} → {new[part]}" for part in new if old[part] != new[part]]
        if parts:
            whom = _crew_member(was[key]) if row.get("code") else f"the {row['role']} slot"
            lines.append(f"Crew: changed {whom}: {', '.join(parts)}")
    for key, row in was.items():
        if key in now or key in taken:
            continue
        if row.get("code"):
            lines.append(f"Crew: removed {_crew_member(row)}")
        else:
            lines.append(f"Crew: withdrew the {row.get('role')} slot")
    return lines


def change_lines(entry: AuditEntry) -> list[str]:
    """ "Guest count: 4 → 6", one per changed field, labelled, in a fixed order."""
    names = sorted(entry.changes, key=lambda n: (FIELD_ORDER.get(n, len(FIELD_ORDER)), n))
    lines = []
    for name in names:
        before, after = entry.changes[name]
        if isinstance(before, list) and isinstance(after, list):
            # The crew as a list of members (the crew event page): one line per member.
            lines += roster_change_lines(before, after)
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
