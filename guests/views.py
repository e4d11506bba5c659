"""`/g/<ID>`: the exported page, served from the same storage production serves it from."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from guests.storage import page_read

# The shape of a session id; anything else is not looked up at all. The CloudFront function
# (guests/cloudfront/viewer-request.js) accepts exactly the same ids.
SESSION_ID_RE = re.compile(r"[A-Za-z0-9]{10,32}")
CONTENT_TYPE = "text/html; charset=utf-8"


def _headers(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _not_found() -> HttpResponse:
    # The same page for a malformed id, an unknown id and an unpublished one.
    body = render_to_string(
        "guests/not-found.html",
        {"brand": settings.GUEST_BRAND_NAME, "contact_email": settings.GUEST_CONTACT_EMAIL},
    )
    response = HttpResponse(body, content_type=CONTENT_TYPE, status=404)
    response["Cache-Control"] = "no-store"
    return _headers(response)


@require_safe
def page(request: HttpRequest, session_id: str) -> HttpResponse:
    """The stored bytes of the page, looked up by object name exactly as CloudFront does."""
    if not SESSION_ID_RE.fullmatch(session_id):
        return _not_found()
    try:
        body = page_read(f"jada-guest-{session_id.lower()}.html")
    except FileNotFoundError:
        return _not_found()
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Cache-Control"] = settings.GUEST_PAGES_CACHE_CONTROL
    return _headers(response)
