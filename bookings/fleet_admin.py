"""The fleet in the admin: vessels with their feed and subscriptions, and marketplace holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from bookings import calendar_sync, holds, vessels
from bookings.admin_records import ReadOnlyAdmin
from bookings.feed import vessel_feed_url
from bookings.formatting import minutes_text, stamp_span_text, stamp_text, zone_name
from bookings.models import CalendarSubscription, Hold, Vessel

ZONE_NAME = zone_name()


def local(value: datetime | None) -> str:
    return "—" if value is None else stamp_text(value)


class VesselForm(forms.ModelForm):
    class Meta:
        model = Vessel
        fields = (
            "code",
            "name",
            "guest_name",
            "capacity",
            "home_dock",
            "turnaround_minutes",
            "active",
            "is_default",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        minutes = cleaned.get("turnaround_minutes")
        if self.instance.pk and minutes is not None and "turnaround_minutes" in self.changed_data:
            clash = vessels.turnaround_clash(vessel=self.instance, minutes=minutes)
            if clash:
                self.add_error("turnaround_minutes", clash)
        return cleaned


# Django 6 assumes https for scheme-less URLs; opt in now (and keep 5.2's warning quiet).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


def sync_status(obj: CalendarSubscription) -> str:
    """How the last sync went, in one short line: when it worked, or why it failed."""
    if obj.last_error:
        when = f" {local(obj.last_error_at)}" if obj.last_error_at else ""
        return f"Failed{when}: {obj.last_error[:120]}"
    if obj.last_synced_at:
        return f"Synced {local(obj.last_synced_at)}"
    return "Not synced yet"


class SubscriptionInline(admin.TabularInline):
    model = CalendarSubscription
    # Plain, narrower inputs (no "Currently:" link above the URL): the row fits at 1280 px.
    formfield_overrides = {
        models.URLField: {"assume_scheme": "https", "widget": forms.URLInput(attrs={"size": 30})},
        models.CharField: {"widget": forms.TextInput(attrs={"size": 20})},
    }
    fields = ("name", "url", "source", "active", "status")
    readonly_fields = ("status",)
    extra = 0

    @admin.display(description="last sync")
    def status(self, obj: CalendarSubscription) -> str:
        return sync_status(obj)


@admin.register(Vessel)
class VesselAdmin(admin.ModelAdmin):
    form = VesselForm
    list_display = (
        "code",
        "name",
        "guest_name",
        "capacity",
        "home_dock",
        "turnaround",
        "active",
        "is_default",
    )
    list_select_related = ("home_dock",)
    readonly_fields = ("feed_url",)
    inlines = (SubscriptionInline,)
    actions = ("rotate_feed",)

    def get_fields(self, request: HttpRequest, obj: Vessel | None = None):
        fields = list(VesselForm.Meta.fields)
        return [*fields, "feed_url"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Vessel, form, change: bool) -> None:
        vessels.vessel_save(vessel=obj)

    @admin.display(description="turnaround", ordering="turnaround_minutes")
    def turnaround(self, obj: Vessel) -> str:
        return minutes_text(obj.turnaround_minutes)

    @admin.display(description="availability feed (marketplaces import it; keep it secret)")
    def feed_url(self, obj: Vessel) -> str:
        url = vessel_feed_url(obj)
        return format_html('<code class="feed-url">{}</code>', url)

    @admin.action(description="Rotate the availability feed URL (the old one stops working)")
    def rotate_feed(self, request: HttpRequest, queryset: QuerySet) -> None:
        for vessel in queryset:
            holds.vessel_rotate_feed_token(vessel=vessel)
        self.message_user(
            request,
            f"New feed URL for {queryset.count()} vessel(s): give it to each marketplace.",
            messages.SUCCESS,
        )


@admin.register(CalendarSubscription)
class CalendarSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "vessel", "source", "active", "status")
    formfield_overrides = HTTPS_URLS
    list_filter = ("vessel", "source", "active")
    list_select_related = ("vessel",)
    fields = ("vessel", "name", "url", "source", "active", "synced_local", "last_error")
    readonly_fields = ("synced_local", "last_error")
    actions = ("sync_now",)

    @admin.display(description=f"last synced ({ZONE_NAME})", ordering="last_synced_at")
    def synced_local(self, obj: CalendarSubscription) -> str:
        return local(obj.last_synced_at)

    @admin.display(description="last sync", ordering="last_synced_at")
    def status(self, obj: CalendarSubscription) -> str:
        return sync_status(obj)

    @admin.action(description="Sync the selected calendars now", permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Not inside a transaction: the admin's changelist runs actions without one.
        for subscription in queryset.select_related("vessel"):
            outcome = calendar_sync.sync_subscription(subscription)
            level = messages.ERROR if outcome.state == "failed" else messages.SUCCESS
            self.message_user(request, f"{subscription.name}: {outcome.detail}", level)


# A save that loses the vessel to another at the same moment is shown again this many times.
SAVE_ATTEMPTS = 3


class SaveRaceMixin:
    """A booking save that loses a race for its vessel shows the form again, with its error.

    The form checks the vessel is free, but another operator's save may take it between that
    check and the write (PostgreSQL's exclusion constraint, or the service's own check, then
    refuses the write). The admin's transaction has rolled back, so nothing is written; the
    form, validated again, sees the winner and says so as it would have before.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        for _ in range(SAVE_ATTEMPTS - 1):
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except vessels.BookingConflict:
                if request.method != "POST":
                    raise
        return super().changeform_view(request, object_id, form_url, extra_context)


def hold_add_url(hold: Hold) -> str:
    return f"{reverse('admin:bookings_booking_add')}?{urlencode({'hold': hold.pk})}"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: holds follow their calendars; the operator turns one into a booking."""

    list_display = (
        "when",
        "vessel",
        "source",
        "summary",
        "booking_link",
        "conflicts_display",
    )
    list_filter = ("vessel", "subscription")
    list_select_related = ("vessel", "booking", "subscription")
    search_fields = ("summary", "uid")
    ordering = ("starts_at", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("conflicts__booking")

    @admin.display(description="when", ordering="starts_at")
    def when(self, obj: Hold) -> str:
        # One column, the zone named in it: the list keeps to the width of the page.
        return stamp_span_text(obj.starts_at, obj.ends_at)

    @admin.display(description="booking")
    def booking_link(self, obj: Hold) -> str:
        if obj.booking_id is not None:
            url = reverse("admin:bookings_booking_change", args=[obj.booking_id])
            return format_html('<a href="{}">{}</a>', url, obj.booking.external_ref)
        return format_html('<a class="button" href="{}">Create booking</a>', hold_add_url(obj))

    @admin.display(description="conflicts")
    def conflicts_display(self, obj: Hold) -> str:
        found = [c.booking for c in obj.conflicts.all()]
        if not found:
            return "—"
        return format_html_join(
            ", ",
            '<a class="conflict" href="{}">⚠ {}</a>',
            (
                (reverse("admin:bookings_booking_change", args=[b.pk]), b.external_ref)
                for b in found
            ),
        )


def _hold_of(request: HttpRequest) -> Hold | None:
    """The hold a booking is being made from (`?hold=<id>` on the add form), if any."""
    raw = request.GET.get("hold", "")
    if not raw.isdigit():
        return None
    return Hold.objects.select_related("vessel", "subscription").filter(pk=int(raw)).first()


def hold_initial(request: HttpRequest) -> dict[str, Any]:
    """The add form prefilled from a hold: its vessel, source, start, length and the dock."""
    hold = _hold_of(request)
    if hold is None:
        return {}
    minutes = int((hold.ends_at - hold.starts_at).total_seconds() // 60)
    initial = {
        "vessel": hold.vessel_id,
        "source": hold.source,
        "starts_at": timezone.localtime(hold.starts_at),
        "duration_minutes": max(minutes, 1),
    }
    if hold.vessel.home_dock_id:
        initial["dock"] = hold.vessel.home_dock_id
    return initial


def hold_description(request: HttpRequest) -> str | None:
    hold = _hold_of(request)
    if hold is None:
        return None
    return (
        f"From the {hold.subscription.name} calendar hold: “{hold.summary or '(no title)'}”, "
        f"{stamp_span_text(hold.starts_at, hold.ends_at)} ({ZONE_NAME}). Saving links it."
    )


def hold_link_from(request: HttpRequest, booking) -> None:
    hold = _hold_of(request)
    if hold is not None:
        holds.hold_link(hold=hold, booking=booking)
