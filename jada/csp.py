"""Content-Security-Policy for the admin and the crew portal (Django 5.2 has none built in).

Modelled on django-csp's middleware: a nonce per request (`request.csp_nonce`) for the few
inline <style> and <script> blocks, a header only where none is set yet, and Django's technical
404/500 pages left alone with DEBUG on (they inline their scripts). Guest pages carry their own
policy and are not touched; neither is the API, which serves JSON only.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Where the policy applies: the operator's admin and the crew portal.
PROTECTED_PREFIXES = ("/admin/", "/crew/")
HEADER = "Content-Security-Policy"


def policy(nonce: str) -> str:
    """Scripts and styles from this site or carrying the response's nonce; unframable.

    Style attributes (`style="…"`, which cannot run code) are allowed; <style> elements need
    the nonce.
    """
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    """Adds the policy to responses under PROTECTED_PREFIXES that do not set one themselves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        protected = request.path_info.startswith(PROTECTED_PREFIXES)
        if protected:
            request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if not protected or HEADER in response:
            return response
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        response[HEADER] = policy(request.csp_nonce)
        return response
