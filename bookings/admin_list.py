"""Columns of the bookings list, chosen so that it fits 1280 px without a horizontal scroll."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from bookings.models import Booking


class BookingListColumns:
    """The charter (source and reference) and the guest (name and count) each in one column."""

    @admin.display(description="charter", ordering="external_ref")
    def charter(self, obj: Booking) -> str:
        return format_html(
            '{}<br><span class="quiet">{}</span>', obj.external_ref, obj.get_source_display()
        )

    @admin.display(description="guest", ordering="guest_name")
    def guest(self, obj: Booking) -> str:
        return format_html(
            '{}<br><span class="quiet">{} guest{}</span>',
            obj.guest_name,
            obj.guest_count,
            "" if obj.guest_count == 1 else "s",
        )
