"""The booking form's crew: captain and crew assigned with the booking, open slots left open."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AdminSplitDateTime

from bookings.formatting import HoursField
from crew.models import Assignment, CrewMember, Role, Slot, SlotOrigin
from crew.services import PlannedAssignment

# Rows on the form: the captain's and five more. A charter with more crew than this is edited
# on its crew event page (the form would otherwise drop the rows it cannot show).
ROWS = 6
ROW_FIELDS = ("role", "member", "call_at", "shift_minutes")


def row_names(i: int) -> tuple[str, ...]:
    return tuple(f"crew_{i}_{name}" for name in ROW_FIELDS)


ALL_NAMES = tuple(name for i in range(ROWS) for name in row_names(i))
ROW_PREFIXES = tuple(f"crew_{i}_" for i in range(ROWS))  # not "crew_cost"


def _row_fields(i: int) -> dict[str, forms.Field]:
    role, member, call_at, shift = row_names(i)
    return {
        role: forms.ChoiceField(
            label="Role" if i else "Captain row: role",
            choices=[("", "—"), *Role.choices],
            required=False,
            initial=Role.CAPTAIN if i == 0 else "",
        ),
        member: forms.ModelChoiceField(
            label="Member",
            queryset=CrewMember.objects.filter(active=True),
            required=False,
            empty_label="— open slot, offered to the crew —",
        ),
        call_at: forms.SplitDateTimeField(
            label=f"Call time ({settings.TIME_ZONE})",
            required=False,
            widget=AdminSplitDateTime,
            help_text="Blank: an hour before boarding." if i == 0 else "",
        ),
        shift: HoursField(
            what="shift",
            longest=24 * 60,
            label="Shift (hours)",
            required=False,
            help_text="Hours, such as 5 or 5.5, or hours:minutes, such as 5:30. Blank: the "
            "charter plus an hour either side."
            if i == 0
            else "",
        ),
    }


class CrewRowsBase(forms.Form):
    """Rows of (role, member, call time, shift); a role without a member is an open slot."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crew_editable = True
        booking_id = getattr(getattr(self, "instance", None), "pk", None)
        if booking_id is None or self.is_bound:
            return
        rows = crew_rows(booking_id)
        if rows is None:
            self.crew_editable = False
            return
        for i in range(ROWS):
            for name in row_names(i):
                self.initial[name] = None
        for i, values in enumerate(rows):
            for name, value in zip(row_names(i), values, strict=True):
                self.initial[name] = value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        seen: dict[int, str] = {}
        for i in range(ROWS):
            role, member, *_ = (cleaned.get(name) for name in row_names(i))
            if member is not None and not role:
                self.add_error(row_names(i)[0], "Choose the member's role.")
            if member is not None:
                if member.pk in seen:
                    self.add_error(row_names(i)[1], f"{member} is on another row already.")
                seen[member.pk] = role
        return cleaned

    def crew_changed(self) -> bool:
        # A POST without any crew field (a script, an older page) leaves the crew alone.
        posted = any(key.startswith(ROW_PREFIXES) for key in self.data)
        return posted and bool(set(ALL_NAMES) & set(self.changed_data))

    def crew_plan(self) -> list[PlannedAssignment] | None:
        """The rows as a crew plan (None: leave the crew as it is)."""
        if not self.crew_editable or not self.crew_changed():
            return None
        plan = []
        for i in range(ROWS):
            role, member, call_at, shift = (self.cleaned_data.get(n) for n in row_names(i))
            if not role:
                continue
            code = member.code if member is not None else ""  # "": an open slot
            plan.append(PlannedAssignment(code, role, shift_minutes=shift, call_at=call_at))
        # The rows list every open slot asked for with the booking (maybe none).
        plan.append(PlannedAssignment("", ""))
        return plan


# The rows' fields declared on a class of their own, so a form mixing it in declares them too.
CrewRowsForm = type(
    "CrewRowsForm",
    (CrewRowsBase,),
    {name: field for i in range(ROWS) for name, field in _row_fields(i).items()},
)


def crew_rows(booking_id: int) -> list[tuple] | None:
    """The form's rows for a booking: active assignments, captain first, then the open slots
    asked for with the booking; None when there are more than the form holds."""
    assignments = sorted(
        Assignment.objects.filter(event__booking_id=booking_id, removed_at__isnull=True)
        .select_related("member")
        .order_by("call_at", "pk"),
        key=lambda a: a.role != Role.CAPTAIN,
    )
    slots = Slot.objects.filter(
        event__booking_id=booking_id,
        origin=SlotOrigin.API,
        filled_at__isnull=True,
        withdrawn_at__isnull=True,
    ).order_by("opened_at", "pk")
    rows = [(a.role, a.member, a.call_at, a.shift_minutes) for a in assignments]
    rows += [(s.role, None, s.call_at, s.shift_minutes) for s in slots]
    return rows if len(rows) <= ROWS else None


def crew_fieldset() -> tuple[str, dict]:
    return (
        "Crew",
        {
            "fields": [tuple(row_names(i)) for i in range(ROWS)],
            "description": "Assign the captain and crew with the booking. A role without a "
            "member is an open slot, offered at once to every eligible member; leave the role "
            "blank for an unused row. Overlapping shifts and days a member marked unavailable "
            "are warned about after saving.",
        },
    )
