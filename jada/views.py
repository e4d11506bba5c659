"""The site's front door and the admin's styled "not allowed" page."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults

# What a staff member without a permission was trying to reach, said in their words.
DENIED_HERE = {
    "/admin/bookings/auditentry/": "see the audit log, which records money",
    "/admin/bookings/booking/revenue/": "see the revenue report",
    "/admin/bookings/booking/add/": "add a booking (a booking is created with its money)",
    "/admin/bookings/booking/import/": "import bookings from a CSV file",
}


def home(request: HttpRequest) -> HttpResponse:
    """`/`: where operators and crew sign in."""
    return render(request, "home.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: the admin's own page saying what the signed-in staff member may not do."""
    user = getattr(request, "user", None)
    if not (request.path.startswith("/admin/") and user is not None and user.is_staff):
        return defaults.permission_denied(request, exception or PermissionDenied())
    what = next((v for k, v in DENIED_HERE.items() if request.path.startswith(k)), None)
    reason = str(exception) if exception is not None and str(exception) else ""
    if not reason:
        reason = f"You may not {what}." if what else "You may not open this page or do this."
    context = {
        **admin.site.each_context(request),
        "title": "Not allowed",
        "reason": reason,
    }
    return render(request, "admin/403.html", context, status=403)
