"""The crew event admin's dispatch: fill, open slots, offering on or off, availability."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from bookings.formatting import when_text
from crew import dispatch
from crew.availability import event_availability_warnings
from crew.models import CrewEvent, Role

T = TypeVar("T")


class CrewEventForm(forms.ModelForm):
    """The event's own fields come from its booking; here only dispatch is decided."""

    add_slot = forms.ChoiceField(
        label="Add an open slot",
        choices=[("", "—"), *Role.choices],
        required=False,
        help_text="Offered to every eligible member at once when offering is on.",
    )
    offer_again = forms.BooleanField(
        label="Offer the open slots again", required=False, help_text="Emails the offers again."
    )
    withdraw_slots = forms.BooleanField(
        label="Withdraw the open slots",
        required=False,
        help_text="No longer needed: their offers close (a link says the shift is not needed).",
    )

    class Meta:
        model = CrewEvent
        fields = ("auto_offer",)
        labels = {"auto_offer": "Offer open slots to the crew"}


class DispatchAdminMixin:
    """Read-only dispatch fields and the form's dispatch choices, for CrewEventAdmin."""

    @admin.display(description="open slots")
    def open_slots(self, obj: CrewEvent) -> str:
        slots = dispatch.open_slots_of([obj.pk]).get(obj.pk, []) if obj.pk else []
        if not slots:
            return "none"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li style="color:#9b1c1c">{}, call {}: {}, {} offer(s)</li>',
                (
                    (s.get_role_display(), when_text(s.call_at), s.get_origin_display(), n)
                    for s, n in ((s, s.offers.count()) for s in slots)
                ),
            ),
        )

    @admin.display(description="availability warnings")
    def unavailable(self, obj: CrewEvent) -> str:
        warnings = event_availability_warnings(obj) if obj.pk else []
        if not warnings:
            return "none"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((w,) for w in warnings))
        )

    def dispatch_change(self, request: HttpRequest, event: CrewEvent, change: Callable[[], T]) -> T:
        """Run an operator's change of the open slots; the pipeline's admin also audits it."""
        return change()

    def save_model(self, request, obj, form, change):
        # Every field of the event is copied from its booking; only dispatch is decided here.
        if "auto_offer" in form.changed_data:
            offered = dispatch.event_offering_set(event=obj, on=form.cleaned_data["auto_offer"])
            if offered:
                self.message_user(request, f"Open slots offered to {offered} member(s).")
        role = form.cleaned_data.get("add_slot")
        if role:
            slot = self.dispatch_change(
                request, obj, lambda: dispatch.slot_add(event=obj, role=role)
            )
            count = slot.offers.count()
            self.message_user(
                request,
                f"Open {slot.get_role_display().lower()} slot added"
                + (f", offered to {count} member(s)." if count else "; nobody offered it yet."),
            )
        if form.cleaned_data.get("withdraw_slots"):
            slots = dispatch.open_slots_of([obj.pk]).get(obj.pk, [])
            gone = self.dispatch_change(
                request, obj, lambda: sum(dispatch.slot_withdraw(slot=s) for s in slots)
            )
            self.message_user(request, f"{gone} open slot(s) withdrawn; their offers are closed.")
        if form.cleaned_data.get("offer_again"):
            sent = sum(
                dispatch.slot_reoffer(slot=s)
                for s in dispatch.open_slots_of([obj.pk]).get(obj.pk, [])
            )
            self.message_user(request, f"Open slots offered again to {sent} member(s).")
