"""The portal's "days I can't work" page: list, add, remove."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from bookings.formatting import zone, zone_name
from crew import availability
from crew.views import _page, crew_required


class DayForm(forms.Form):
    day = forms.DateField(label="A day you can't work")


class RemoveForm(forms.Form):
    pk = forms.IntegerField()


def _today():
    return timezone.localdate(timezone.now(), zone())


@require_http_methods(["GET", "POST"])
@never_cache
@crew_required
def days(request: HttpRequest) -> HttpResponse:
    """GET lists the member's coming days off; POST adds one."""
    member, today = request.crew_member, _today()
    form = DayForm(request.POST or None, initial={"day": today.isoformat()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                availability.unavailability_add(
                    member=member, day=form.cleaned_data["day"], today=today
                )
                return redirect("crew-availability")
            except availability.PastDay as e:
                form.add_error("day", str(e))
        status = 400
    context = {
        "form": form,
        "days": availability.days_for(member, today=today),
        "zone_name": zone_name(),
    }
    return _page(request, "crew/availability.html", context, status=status)


@require_POST
@crew_required
def day_remove(request: HttpRequest) -> HttpResponse:
    form = RemoveForm(request.POST)
    if form.is_valid():
        availability.unavailability_remove(member=request.crew_member, pk=form.cleaned_data["pk"])
    return redirect("crew-availability")
