"""The page behind an offer link: GET shows the shift (mail scanners open links), POST takes it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from bookings.formatting import zone_name
from crew import offers

NOINDEX = "noindex, nofollow"


def _page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, "crew/offer.html", context, status=status)
    response["X-Robots-Tag"] = NOINDEX
    response["Cache-Control"] = "private, no-store"
    # The token is in the URL: nothing followed from this page may carry it in a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET", "POST"])
@never_cache
def offer(request: HttpRequest, token: str) -> HttpResponse:
    """One open shift offered to one member; the first member to POST gets it."""
    found = offers.offer_by_token(token)
    if found is None:
        response = render(request, "crew/offer-missing.html", status=404)
        response["X-Robots-Tag"] = NOINDEX
        response["Referrer-Policy"] = "no-referrer"
        return response
    now = timezone.now()
    context = {**offers.offer_facts(found), "zone_name": zone_name()}
    if request.method == "GET":
        state = offers.offer_state(found, now=now)
        return _page(request, {**context, "outcome": state})
    result = offers.offer_take(offer=found, now=now)
    context["outcome"] = result.outcome
    if result.assignment is not None and result.outcome in (offers.TAKEN, offers.ALREADY):
        context["portal_link"] = offers.taker_portal_link(result.assignment, now=now)
    return _page(request, context)
