"""Crew portal views: parse, check who is asking, call a service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.formatting import zone_name
from crew import cards, selectors, services
from crew.forms import LinkRequestForm, LoginConfirmForm, RespondForm, TickForm
from crew.fragments import render_cached
from crew.ics import feed_ics
from crew.limits import client_address
from crew.links import answer_user, crew_login_url, login_user, safe_next, valid_until_for

NOINDEX = "noindex, nofollow"
CARD = "crew/_assignment.html"
PAST = "crew/_past.html"


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = NOINDEX
    response["Cache-Control"] = "private, no-store"
    return response


def no_referrer(view: Callable) -> Callable:
    """Pages opened from a link with its token in the URL: the browser sends no Referer on.

    Without it the confirm page's POST (and any link followed from the page) would carry the
    URL, token included, in its Referer header to whatever logs them.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def crew_required(view: Callable) -> Callable:
    """Signed-in crew only; anyone else signed in (staff) gets 404, strangers the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        member = selectors.member_for_user(request.user)
        if member is None:
            raise Http404("No crew member here.")
        request.crew_member = member
        return view(request, *args, **kwargs)

    return wrapper


def _back(request: HttpRequest, next_value: str | None, default: str) -> HttpResponse:
    return redirect(safe_next(next_value) or default)


@require_GET
@never_cache
@crew_required
def portal(request: HttpRequest) -> HttpResponse:
    data = cards.portal_for(request.crew_member, now=timezone.now())
    here = request.path
    context = {
        "portal": data,
        "cards": render_cached(request, CARD, data.upcoming, name="a", here=here),
        "past": render_cached(
            request, PAST, [data.past] if data.past else [], name="past", here=here
        ),
        "zone_name": zone_name(),
        **feed_urls(data.feed_token),
    }
    return _page(request, "crew/portal.html", context)


def feed_urls(token: str) -> dict[str, str]:
    """The feed's address, and its webcal:// form that calendar apps subscribe to in one tap."""
    url = f"{settings.SITE_URL}{reverse('crew-feed', args=[token])}"
    return {"feed_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


@require_GET
@never_cache
@crew_required
def assignment(request: HttpRequest, pk: int) -> HttpResponse:
    found = cards.assignment_for(request.crew_member, pk)
    if found is None:
        raise Http404("Not your assignment.")
    context = {
        "a": found,
        "cards": render_cached(request, CARD, [found], name="a", here=request.path),
        "zone_name": zone_name(),
    }
    return _page(request, "crew/assignment.html", context)


@require_POST
@crew_required
def assignment_respond(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.assignment_owned(request.crew_member, pk)
    if found is None:
        raise Http404("Not your assignment.")
    form = RespondForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose accept or decline.")
    try:
        services.assignment_respond(
            assignment=found, accepted=form.accepted, reason=form.cleaned_data["reason"]
        )
    except services.NotAllowed as e:
        return HttpResponseBadRequest(str(e))
    return _back(request, form.cleaned_data["next"], reverse("crew-assignment", args=[pk]))


@require_POST
@crew_required
def checklist_tick(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.checklist_item_for(request.crew_member, pk)
    if item is None:
        raise Http404("Not your checklist.")
    form = TickForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Say done or not done.")
    try:
        services.checklist_item_tick(item=item, by=request.user, done=form.cleaned_data["done"])
    except services.NotAllowed as e:
        return HttpResponseBadRequest(str(e))
    default = reverse("crew-assignment", args=[item.assignment_id])
    return _back(request, form.cleaned_data["next"], default)


@require_http_methods(["GET", "POST"])
@never_cache
@no_referrer
def login_view(request: HttpRequest) -> HttpResponse:
    """GET shows a button (mail scanners open links); only the POST signs in."""
    source = request.POST if request.method == "POST" else request.GET
    token_name = settings.SESAME_TOKEN_NAME
    token, until, next_path = source.get(token_name), source.get("u"), source.get("next")
    if not token:
        # No link at all: explain how to get one.
        return _page(request, "crew/login.html", {"state": "help", "form": LinkRequestForm()})
    user = login_user(token, until)
    if user is None:
        return _page(
            request, "crew/login.html", {"state": "invalid", "form": LinkRequestForm()}, status=403
        )
    if request.method == "GET":
        form = LoginConfirmForm(initial={"t": token, "u": until, "next": safe_next(next_path)})
        return _page(request, "crew/login.html", {"state": "confirm", "confirm": form})
    login(request, user, backend="sesame.backends.ModelBackend")
    return redirect(safe_next(next_path) or reverse("crew-portal"))


@require_http_methods(["GET", "POST"])
@never_cache
@no_referrer
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept or decline from an email link: GET shows the buttons, only a POST records."""
    source = request.POST if request.method == "POST" else request.GET
    token, until = source.get(settings.SESAME_TOKEN_NAME), source.get("u")
    found = selectors.assignment_with_member(pk)
    if found is None or not answer_user(found, token, until):
        # 404, as every crew URL answers for what is not the asker's: the token is scoped to one
        # assignment, so an expired, tampered or someone else's link all look alike here.
        return _page(
            request, "crew/login.html", {"state": "invalid", "form": LinkRequestForm()}, status=404
        )
    if found.removed_at is not None:
        # Taken off the charter: nothing to answer, and what it became is no longer theirs.
        withdrawn = {"withdrawn": True, "day": found.call_at, "zone_name": zone_name()}
        status = 200 if request.method == "GET" else 409
        return _page(request, "crew/answer.html", withdrawn, status=status)
    context = {"a": found, "t": token, "u": until, "zone_name": zone_name()}
    if request.method == "GET":
        return _page(request, "crew/answer.html", context)
    form = RespondForm(request.POST)
    if not form.is_valid():
        return _page(request, "crew/answer.html", context, status=400)
    try:
        services.assignment_respond(
            assignment=found, accepted=form.accepted, reason=form.cleaned_data["reason"]
        )
    except services.NotAllowed as e:
        return _page(request, "crew/answer.html", {**context, "problem": str(e)}, status=400)
    # Not a dead end: a sign-in link on to the card (details, crew, checklist).
    path = reverse("crew-assignment", args=[found.pk])
    portal_link = crew_login_url(
        found.member, next_path=path, valid_until=valid_until_for(found.event)
    )
    return _page(
        request, "crew/answer.html", {**context, "answered": True, "portal_link": portal_link}
    )


@require_POST
@never_cache
def link_request(request: HttpRequest) -> HttpResponse:
    """Same answer whether or not the address is on the roster; rate limited."""
    form = LinkRequestForm(request.POST)
    if not form.is_valid():
        return _page(request, "crew/login.html", {"state": "help", "form": form}, status=400)
    allowed = services.link_request(
        email=form.cleaned_data["email"], client=client_address(request)
    )
    if not allowed:
        return _page(request, "crew/link-sent.html", {"limited": True}, status=429)
    return _page(request, "crew/link-sent.html", {"limited": False})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("crew-login")


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The member's calendar subscription; the secret in the URL is the only key."""
    member = selectors.feed_member(token)
    if member is None:
        raise Http404("No such calendar.")
    body = feed_ics(selectors.feed_assignments(member), name=f"{settings.OPERATOR_NAME} crew")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["X-Robots-Tag"] = NOINDEX
    response["Cache-Control"] = "private, max-age=300"
    return response
