"""The admin's CSV export of bookings, with money only when asked, safe to open in a spreadsheet."""

from __future__ import annotations

import csv

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.http import HttpResponse

from bookings import formatting
from bookings.models import Booking, Financials
from bookings.services import MONEY_INPUTS

MONEY_COLUMNS = (*MONEY_INPUTS, "fee", "net_revenue", "currency")

# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel,
# LibreOffice or Google Sheets (tab and CR too, which some of them skip before the sign).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula, led by an apostrophe; anything else as is.

    The apostrophe is the spreadsheet's own "this is text" mark and is not shown, so a phone
    number `+1 619 555 0100` still reads as written. Numbers we produce (ids, counts, amounts,
    negative ones included) are not text and stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _financials(booking: Booking) -> Financials | None:
    try:
        return booking.financials
    except ObjectDoesNotExist:
        return None


def bookings_csv(queryset: QuerySet, *, with_money: bool) -> HttpResponse:
    """One row per booking, earliest first; the money columns only `with_money`."""
    header = [
        "id",
        "source",
        "external_ref",
        "status",
        f"starts_at ({formatting.zone_name()})",
        "duration_minutes",
        "dock",
        "guest_name",
        "guest_email",
        "guest_phone",
        "guest_count",
        "notes",
    ]
    related = ("dock", "financials") if with_money else ("dock",)
    if with_money:
        header += MONEY_COLUMNS
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="bookings.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    for booking in queryset.select_related(*related).order_by("starts_at", "pk"):
        row = [
            booking.pk,
            booking.source,
            booking.external_ref,
            booking.status,
            formatting.local(booking.starts_at).isoformat(),
            booking.duration_minutes,
            booking.dock.name,
            booking.guest_name,
            booking.guest_email,
            booking.guest_phone,
            booking.guest_count,
            booking.notes,
        ]
        if with_money:
            financials = _financials(booking)
            row += [getattr(financials, n) if financials else "" for n in MONEY_COLUMNS]
        writer.writerow([spreadsheet_cell(value) for value in row])
    return response
