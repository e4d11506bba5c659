"""The operator's admin. Money appears only for bookings.view_financials / change_financials.

The admin parses, checks permission and calls a service; it holds no business logic of its own.
What other apps keep for a booking (its pipeline, crew and guest page) is added by the
orchestrating app through the hooks `booking_write`, `linked_fieldsets` and `crew_fill`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.html import format_html, format_html_join

from bookings import fleet_admin, formatting, services, views
from bookings.admin_list import BookingListColumns
from bookings.admin_records import ReadOnlyAdmin
from bookings.audit_format import format_changes
from bookings.exports import bookings_csv
from bookings.formatting import stamp_text, zone_name
from bookings.forms import BookingForm, BookingMoneyForm
from bookings.models import AuditEntry, Booking, Dock
from bookings.money import money_text
from bookings.selectors import month_start, next_month, parse_month
from bookings.services import MONEY_INPUTS, UpsertResult

VIEW_MONEY = "bookings.view_financials"
CHANGE_MONEY = "bookings.change_financials"
INTERNAL_NOTES = "bookings.view_internal_notes"
ZONE_NAME = zone_name()


def can_view_money(request: HttpRequest) -> bool:
    return request.user.has_perm(VIEW_MONEY)


def can_change_money(request: HttpRequest) -> bool:
    # Changing money without seeing it makes no sense; require both.
    return request.user.has_perm(VIEW_MONEY) and request.user.has_perm(CHANGE_MONEY)


def _notes(request: HttpRequest) -> list[str]:
    # Internal notes have a permission of their own: a dispatcher neither sees nor edits them.
    return ["internal_notes"] if request.user.has_perm(INTERNAL_NOTES) else []


def _financials(obj: Booking | None):
    if obj is None or obj.pk is None:
        return None
    try:
        return obj.financials
    except ObjectDoesNotExist:
        return None


class MonthFilter(admin.SimpleListFilter):
    """Months of the start time, in the operator's zone."""

    title = f"month ({ZONE_NAME})"
    parameter_name = "month"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        months = Booking.objects.datetimes(
            "starts_at", "month", order="DESC", tzinfo=formatting.zone()
        )
        return [(f"{m:%Y-%m}", f"{m:%B %Y}") for m in months]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        parsed = parse_month(self.value())
        if parsed is None:
            raise IncorrectLookupParameters(f"month: expected YYYY-MM, got {self.value()!r}")
        zone = formatting.zone()
        start = month_start(*parsed, zone)
        end = month_start(*next_month(*parsed), zone)
        return queryset.filter(starts_at__gte=start, starts_at__lt=end)


@admin.register(Booking)
class BookingAdmin(fleet_admin.SaveRaceMixin, BookingListColumns, admin.ModelAdmin):
    form = BookingForm
    list_display_base = ("charter", "starts_local", "vessel", "dock", "status", "guest")
    list_display_money = ("gross", "net")
    list_filter: tuple = ("source", "vessel", MonthFilter, "status")
    # Search never reaches money: a search box would otherwise be an oracle for amounts.
    search_fields = ("external_ref", "guest_name")
    list_per_page = 100
    ordering = ("-starts_at", "-pk")
    actions: tuple[str, ...] = ("export_csv",)
    change_list_template = "admin/bookings/booking/change_list.html"

    # --- permissions -----------------------------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A booking is created together with its money (the service writes both in one
        # transaction), so adding one requires change_financials. Staff without it edit
        # existing bookings only; money is never defaulted to zeros behind their back.
        return super().has_add_permission(request) and can_change_money(request)

    def has_delete_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        # Bookings are never deleted: cancel instead, so crew and guests are told.
        return False

    def _money_editable(self, request: HttpRequest, obj: Booking | None) -> bool:
        if not can_change_money(request):
            return False
        if obj is None:
            return self.has_add_permission(request)
        return self.has_change_permission(request, obj)

    # --- changelist ------------------------------------------------------------------------

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        if can_view_money(request):
            return self.list_display_base + self.list_display_money
        return self.list_display_base

    def get_list_select_related(self, request: HttpRequest) -> tuple[str, ...]:
        # Without the permission the money table is not even joined.
        related = ("dock", "vessel")
        return (*related, "financials") if can_view_money(request) else related

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {**(extra_context or {}), "can_view_money": can_view_money(request)}
        return super().changelist_view(request, extra_context)

    @admin.display(description=f"starts ({ZONE_NAME})", ordering="starts_at")
    def starts_local(self, obj: Booking) -> str:
        return stamp_text(obj.starts_at)

    @admin.display(description="gross", ordering="financials__gross_revenue")
    def gross(self, obj: Booking) -> str:
        financials = _financials(obj)
        return money_text(financials.gross_revenue if financials else None)

    @admin.display(description="net", ordering="financials__net_revenue")
    def net(self, obj: Booking) -> str:
        financials = _financials(obj)
        return money_text(financials.net_revenue if financials else None)

    # --- change and add forms --------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Booking | None = None):
        fieldsets: list[tuple[str | None, dict]] = [
            (None, {"fields": ["source", "external_ref", "status"]}),
            ("Guest", {"fields": ["guest_name", "guest_email", "guest_phone", "guest_count"]}),
            (
                "Charter",
                {
                    "fields": [
                        "vessel",
                        "starts_at",
                        "duration_minutes",
                        "dock",
                        "notes",
                        *_notes(request),
                    ],
                    # A booking made from a marketplace hold shows what the hold said.
                    "description": fleet_admin.hold_description(request) if obj is None else None,
                },
            ),
        ]
        if can_view_money(request):
            if self._money_editable(request, obj):
                fields = [*MONEY_INPUTS, *(["fee_display", "net_display"] if obj else [])]
                description = "Fee and net are computed when the booking is saved."
            else:
                fields = [f"{name}_display" for name in (*MONEY_INPUTS, "fee", "net")]
                description = None
            fieldsets.append(("Financials", {"fields": fields, "description": description}))
        if obj is not None:
            fieldsets += self.linked_fieldsets(request, obj)
            if can_view_money(request):
                fieldsets.append(("Audit log", {"fields": ["audit_log"]}))
            fieldsets.append(("Record", {"fields": ["created_local", "updated_local"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Booking | None = None):
        if obj is None:
            return ()
        # (source, external reference) is the upsert key: changing it would be a new booking.
        readonly = [
            "source",
            "external_ref",
            *(
                name
                for _, options in self.linked_fieldsets(request, obj)
                for name in options["fields"]
            ),
            "created_local",
            "updated_local",
        ]
        if can_view_money(request):
            readonly += ["fee_display", "net_display", "audit_log"]
            readonly += [f"{name}_display" for name in MONEY_INPUTS]
        return readonly

    def get_form(self, request: HttpRequest, obj: Booking | None = None, **kwargs: Any):
        kwargs["form"] = BookingMoneyForm if self._money_editable(request, obj) else BookingForm
        return super().get_form(request, obj, **kwargs)

    # --- hooks for the orchestrating app -------------------------------------------------------

    def booking_write(self, **kwargs: Any) -> UpsertResult:
        """Write the booking (`booking_upsert` arguments); the pipeline app adds its start."""
        return services.booking_upsert(**kwargs)

    def linked_fieldsets(self, request: HttpRequest, obj: Booking) -> list[tuple[str, dict]]:
        """Read-only fieldsets of what other apps keep for this booking; none here."""
        return []

    def crew_fill(self, booking_ids: list[int]) -> dict[int, str]:
        """Booking id → "accepted/assigned" crew, for the calendar; unknown here."""
        return {}

    # --- saving ------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Booking, form: BookingForm, change: bool):
        result = form.submit(by=request.user, write=self.booking_write)
        if not change:
            fleet_admin.hold_link_from(request, result.booking)
        # The admin goes on to log and redirect with this object; point it at the saved row.
        obj.pk = result.booking.pk
        obj._state.adding = False

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        return {**initial, **fleet_admin.hold_initial(request)}

    def save_related(self, request: HttpRequest, form: BookingForm, formsets, change: bool):
        # The service saved everything there is; Booking has no many-to-many or inlines.
        pass

    def construct_change_message(self, request, form, formsets, add=False):
        # The history page is open to every staff user who may view bookings: list changed
        # operational fields only, never money (its changes are in the audit log).
        if add:
            return [{"added": {}}]
        names = [name for name in form.changed_data if name not in MONEY_INPUTS]
        if not names:
            return []
        labels = [str(form.fields[name].label or name) for name in names]
        return [{"changed": {"fields": labels}}]

    @admin.display(description="gross revenue")
    def gross_revenue_display(self, obj: Booking) -> str:
        return self._money_attr(obj, "gross_revenue")

    @admin.display(description="crew cost")
    def crew_cost_display(self, obj: Booking) -> str:
        return self._money_attr(obj, "crew_cost")

    @admin.display(description="captain cost")
    def captain_cost_display(self, obj: Booking) -> str:
        return self._money_attr(obj, "captain_cost")

    @admin.display(description="port or marketplace fee %")
    def fee_percent_display(self, obj: Booking) -> str:
        return self._money_attr(obj, "fee_percent")

    @admin.display(description="fee")
    def fee_display(self, obj: Booking) -> str:
        return self._money_attr(obj, "fee")

    @admin.display(description="net revenue")
    def net_display(self, obj: Booking) -> str:
        return self._money_attr(obj, "net_revenue")

    def _money_attr(self, obj: Booking, name: str) -> str:
        financials = _financials(obj)
        if financials is None:
            return "—"
        value = money_text(getattr(financials, name))
        return value if name == "fee_percent" else f"{value} {financials.currency}"

    @admin.display(description=f"created ({ZONE_NAME})")
    def created_local(self, obj: Booking) -> str:
        return stamp_text(obj.created_at)

    @admin.display(description=f"updated ({ZONE_NAME})")
    def updated_local(self, obj: Booking) -> str:
        return stamp_text(obj.updated_at)

    @admin.display(description="audit entries")
    def audit_log(self, obj: Booking) -> str:
        # Only reachable through get_fieldsets for holders of view_financials.
        entries = list(AuditEntry.objects.filter(booking=obj).select_related("actor"))
        if not entries:
            return "No audited change yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    stamp_text(e.at),
                    e.who,
                    e.via,
                    e.action,
                    format_changes(e),
                )
                for e in entries
            ),
        )
        return format_html(
            '<table class="audit-log"><thead><tr><th>at ({})</th><th>who</th><th>via</th>'
            "<th>action</th><th>before → after</th></tr></thead><tbody>{}</tbody></table>",
            ZONE_NAME,
            rows,
        )

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description="Export selected bookings as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return bookings_csv(queryset, with_money=can_view_money(request))

    # --- operator views hosted in the admin ------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "calendar/",
                self.admin_site.admin_view(self.calendar_view),
                name="{}_{}_calendar".format(*info),
            ),
            path(
                "revenue/",
                self.admin_site.admin_view(self.revenue_view),
                name="{}_{}_revenue".format(*info),
            ),
            *super().get_urls(),
        ]

    def calendar_view(self, request: HttpRequest) -> HttpResponse:
        return views.booking_calendar(request, model_admin=self)

    def revenue_view(self, request: HttpRequest) -> HttpResponse:
        return views.booking_revenue(request, model_admin=self)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """The money and status log: read-only, and only for those who may see money."""

    list_display = ("at_local", "booking", "who", "via", "action", "changes_display")
    list_filter = ("via", "action", "touches_money")
    list_select_related = ("booking", "actor")
    fields = ("at_local", "booking", "who", "via", "action", "changes_display")
    readonly_fields = fields
    ordering = ("-at", "-pk")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view_money(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view_money(request)

    @admin.display(description=f"at ({ZONE_NAME})", ordering="at")
    def at_local(self, entry: AuditEntry) -> str:
        return stamp_text(entry.at)

    @admin.display(description="who")
    def who(self, entry: AuditEntry) -> str:
        return entry.who

    @admin.display(description="before → after")
    def changes_display(self, entry: AuditEntry) -> str:
        return format_changes(entry)


@admin.register(Dock)
class DockAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "map_link")
    search_fields = ("name", "address")
    fields = ("name", "address", "directions", "map_url")
    # Django 6 assumes https for scheme-less URLs; opt in now (and keep 5.2's warning quiet).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="map")
    def map_link(self, dock: Dock) -> str:
        if not dock.map_url:
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">map</a>', dock.map_url)
