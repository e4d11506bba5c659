"""Operator views hosted in the admin: the month calendar and revenue by source and month."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from bookings import formatting
from bookings.feed import vessel_by_feed_token, vessel_feed_ics
from bookings.holds import conflicted_booking_ids, holds_starting_between
from bookings.models import Booking, Hold, Vessel
from bookings.selectors import (
    bookings_starting_between,
    local_midnight,
    month_start,
    next_month,
    parse_month,
    previous_month,
    revenue_by_month,
    revenue_by_source,
    revenue_total,
)

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    from bookings.admin import BookingAdmin

VIEW_MONEY = "bookings.view_financials"


@dataclass
class CalendarEntry:
    booking: Booking
    time: str
    crew: str
    gross: Decimal | None
    crew_gap: bool = False
    conflict: bool = False  # overlaps an external calendar hold


@dataclass
class HoldEntry:
    hold: Hold
    time: str
    conflict: bool


@dataclass
class CalendarDay:
    day: date
    in_month: bool
    is_today: bool
    entries: list[CalendarEntry] = field(default_factory=list)
    holds: list[HoldEntry] = field(default_factory=list)
    gross: Decimal | None = None
    net: Decimal | None = None


def _crew_label(fill: object | None) -> str:
    # The hook's value says itself how full the crew is ("2 ✓ · 1 awaiting · 1 open").
    return "no crew assigned" if fill is None else str(fill)


def booking_calendar(request: HttpRequest, *, model_admin: BookingAdmin) -> HttpResponse:
    """A Monday-first month grid of charters, times in the operator's zone."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    with_money = request.user.has_perm(VIEW_MONEY)
    zone = formatting.zone()
    today = timezone.localdate()
    year, month = parse_month(request.GET.get("month")) or (today.year, today.month)

    weeks_of_days = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(year, month)
    first_day, last_day = weeks_of_days[0][0], weeks_of_days[-1][-1]
    fleet = list(Vessel.objects.order_by("code"))
    vessel = next((v for v in fleet if v.code == request.GET.get("vessel")), None)
    vessel_id = vessel.pk if vessel is not None else None
    start, end = local_midnight(first_day, zone), local_midnight(last_day + timedelta(days=1), zone)
    bookings = bookings_starting_between(
        start, end, with_financials=with_money, vessel_id=vessel_id
    )
    conflicted = conflicted_booking_ids([b.pk for b in bookings])
    # Assignments are another app's; the admin's hook counts them (nothing, on its own).
    crew = model_admin.crew_fill([b.pk for b in bookings]) if bookings else {}

    days = {
        day: CalendarDay(day=day, in_month=day.month == month, is_today=day == today)
        for week in weeks_of_days
        for day in week
    }
    month_gross = month_net = Decimal("0.00")
    for booking in bookings:
        starts = formatting.local(booking.starts_at)
        # Without the permission Financials were never loaded; cancelled charters earn nothing.
        financials = getattr(booking, "financials", None) if with_money else None
        counted = financials is not None and not booking.is_cancelled
        gross = financials.gross_revenue if counted else None
        day = days[starts.date()]
        day.entries.append(
            CalendarEntry(
                booking=booking,
                time=f"{starts:%H:%M}",
                crew=_crew_label(crew.get(booking.pk)),
                # No crew at all is the widest gap; otherwise the hook's value knows.
                crew_gap=getattr(crew.get(booking.pk), "gap", True),
                gross=gross,
                conflict=booking.pk in conflicted,
            )
        )
        if counted:
            day.gross = (day.gross or Decimal("0.00")) + gross
            day.net = (day.net or Decimal("0.00")) + financials.net_revenue
            if day.in_month:
                month_gross += gross
                month_net += financials.net_revenue

    for hold in holds_starting_between(start, end, vessel_id=vessel_id):
        starts = timezone.localtime(hold.starts_at, zone)
        days[starts.date()].holds.append(
            HoldEntry(hold=hold, time=f"{starts:%H:%M}", conflict=bool(hold.conflicts.all()))
        )

    prev_y, prev_m = previous_month(year, month)
    next_y, next_m = next_month(year, month)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Charters in {month_start(year, month, zone):%B %Y}",
        "zone": formatting.zone_name(),
        "weekdays": [calendar.day_abbr[(calendar.MONDAY + i) % 7] for i in range(7)],
        "weeks": [[days[day] for day in week] for week in weeks_of_days],
        "month_label": f"{month_start(year, month, zone):%B %Y}",
        "month_param": f"{year:04d}-{month:02d}",
        "prev_month": f"{prev_y:04d}-{prev_m:02d}",
        "next_month": f"{next_y:04d}-{next_m:02d}",
        "this_month": f"{today:%Y-%m}",
        "can_view_money": with_money,
        "fleet": fleet,
        "vessel": vessel,
        "vessel_param": f"&vessel={vessel.code}" if vessel is not None else "",
        "month_gross": month_gross if with_money else None,
        "month_net": month_net if with_money else None,
        "charter_count": sum(len(d.entries) for d in days.values() if d.in_month),
        "cancelled_count": sum(
            e.booking.is_cancelled for d in days.values() if d.in_month for e in d.entries
        ),
    }
    return TemplateResponse(request, "admin/bookings/booking/calendar.html", context)


def booking_revenue(request: HttpRequest, *, model_admin: ModelAdmin) -> HttpResponse:
    """Gross, fees and net by source and by month of one year; money holders only."""
    if not (model_admin.has_view_permission(request) and request.user.has_perm(VIEW_MONEY)):
        raise PermissionDenied("You may not see the revenue report: it needs view financials.")
    zone = formatting.zone()
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    if not 1 <= year <= 9998:
        year = today.year
    start, end = month_start(year, 1, zone), month_start(year + 1, 1, zone)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Revenue {year}",
        "zone": formatting.zone_name(),
        "year": year,
        "prev_year": year - 1,
        "next_year": year + 1,
        "by_source": revenue_by_source(start, end),
        "by_month": revenue_by_month(start, end, zone),
        "total": revenue_total(start, end),
        "currency": settings.CURRENCY,
    }
    return TemplateResponse(request, "admin/bookings/booking/revenue.html", context)


def vessel_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A vessel's availability feed; the secret in the URL is the only key."""
    vessel = vessel_by_feed_token(token)
    if vessel is None:
        raise Http404("No such calendar.")
    response = HttpResponse(vessel_feed_ics(vessel), content_type="text/calendar; charset=utf-8")
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, max-age=300"
    return response
