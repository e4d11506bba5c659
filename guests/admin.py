from __future__ import annotations

import logging

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from guests.models import GuestPage
from guests.services import guest_notify, guest_pages_publish_bulk

logger = logging.getLogger(__name__)


@admin.register(GuestPage)
class GuestPageAdmin(admin.ModelAdmin):
    list_display = ["session_id", "booking_link", "state", "published_at", "emailed_at", "link"]
    list_filter = ["state"]
    search_fields = ["session_id"]
    date_hierarchy = "created_at"
    actions = ["resend_guest_email", "republish"]
    fields = [
        "session_id",
        "booking_link",
        "link",
        "state",
        "published_at",
        "content_hash",
        "published_hash",
        "revision",
        "emailed_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Pages are made by the pipeline, one per booking.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: GuestPage | None = None) -> bool:
        return False

    @admin.display(description="page")
    def link(self, page: GuestPage) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', page.url, page.path
        )

    @admin.display(description="booking", ordering="booking_id")
    def booking_link(self, page: GuestPage) -> str:
        try:
            url = reverse("admin:bookings_booking_change", args=[page.booking_id])
        except NoReverseMatch:
            return str(page.booking_id)
        return format_html('<a href="{}">{}</a>', url, page.booking_id)

    @admin.action(description="Resend the guest email", permissions=["change"])
    def resend_guest_email(self, request: HttpRequest, queryset: QuerySet[GuestPage]) -> None:
        sent = skipped = failed = 0
        for booking_id in queryset.values_list("booking_id", flat=True):
            try:
                if guest_notify(booking_id=booking_id, force=True):
                    sent += 1
                else:
                    skipped += 1
            except Exception:  # one failure must not hide the others' result
                logger.exception("resending the guest email of booking %s failed", booking_id)
                failed += 1
        self.message_user(
            request,
            f"Guest emails: {sent} sent, {skipped} not sent (no address, or guest emails are off "
            f"for the source), {failed} failed.",
            messages.WARNING if failed else messages.SUCCESS,
        )

    @admin.action(description="Re-publish the page", permissions=["change"])
    def republish(self, request: HttpRequest, queryset: QuerySet[GuestPage]) -> None:
        booking_ids = list(queryset.values_list("booking_id", flat=True))
        try:
            result = guest_pages_publish_bulk(booking_ids=booking_ids, changed_only=False)
        except Exception as e:
            logger.exception("re-publishing guest pages failed")
            self.message_user(request, f"Re-publishing failed: {e}", messages.ERROR)
            return
        self.message_user(request, result.summary(), messages.SUCCESS)
