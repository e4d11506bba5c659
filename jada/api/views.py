"""The intake API: parse, authenticate, call `booking_intake`, render JSON. Nothing more."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from bookings.models import Booking
from jada.api.openapi import openapi_document
from jada.api.serializers import booking_json
from jada.intake import IntakeRejected, booking_intake, load_json
from jada.models import ApiToken, hash_token

TOKEN_HEADER = "X-Dashboard-Token"  # noqa: S105 (a header name)
# Writing last_used_at on every request would serialise concurrent requests on one row.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 256
# Ids beyond a 64-bit integer cannot exist; they are not looked up.
MAX_ID = 2**63 - 1


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    # Responses carry money and guest contact details: never cached anywhere.
    response["Cache-Control"] = "no-store"
    return response


def _errors(status: int, errors: dict[str, list[str]]) -> JsonResponse:
    return _json({"errors": errors}, status=status)


def _not_allowed(allowed: list[str]) -> JsonResponse:
    response = _errors(405, {"method": [f"Use {' or '.join(allowed)}."]})
    response["Allow"] = ", ".join(allowed)
    return response


def _unauthorized() -> JsonResponse:
    return _errors(401, {"token": [f"Send a valid, unrevoked API token in {TOKEN_HEADER}."]})


def authenticate(request: HttpRequest) -> ApiToken | None:
    """The unrevoked token the request carries, or None."""
    raw = request.headers.get(TOKEN_HEADER, "")
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(raw)
    token = ApiToken.objects.filter(token_hash=digest).first()
    if token is None or token.revoked or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def _body(request: HttpRequest) -> bytes:
    """The request body, refused before reading when it declares more than the limit."""
    limit = settings.API_MAX_BODY_BYTES
    too_big = IntakeRejected({"body": [f"The body is larger than {limit // 1024} KB."]})
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_big
    try:
        body = request.body
    except RequestDataTooBig as e:
        raise too_big from e
    if len(body) > limit:
        raise too_big
    return body


@csrf_exempt  # token-authenticated, never cookies
def bookings(request: HttpRequest) -> JsonResponse:
    """POST /api/bookings: upsert on (source, external_ref); 201 created, 200 existed."""
    if request.method != "POST":
        return _not_allowed(["POST"])
    token = authenticate(request)
    if token is None:
        return _unauthorized()
    try:
        payload = load_json(_body(request))
        result = booking_intake(payload=payload, via="api", by_name=f"API token {token.name}")
    except IntakeRejected as e:
        return _errors(400, e.errors)
    return _json(
        booking_json(result.booking.pk, warnings=result.warnings),
        status=201 if result.created else 200,
    )


@csrf_exempt  # token-authenticated, never cookies; unsafe methods get a JSON 405, not a CSRF 403
def booking(request: HttpRequest, pk: str) -> JsonResponse:
    """GET /api/bookings/<id>: the same document, with the pipeline's current state."""
    if request.method != "GET":
        return _not_allowed(["GET"])
    if authenticate(request) is None:
        return _unauthorized()
    not_found = _errors(404, {"id": ["No booking with this id."]})
    # Matched loosely in the URL so that any malformed id gets this JSON 404, not an HTML one.
    if not (pk.isascii() and pk.isdigit()) or len(pk) > 19 or int(pk) > MAX_ID:
        return not_found
    try:
        return _json(booking_json(int(pk)))
    except Booking.DoesNotExist:
        return not_found


@csrf_exempt
def openapi(request: HttpRequest) -> JsonResponse:
    """GET /api/openapi.json: the OpenAPI 3 description of this API (public)."""
    if request.method != "GET":
        return _not_allowed(["GET"])
    return JsonResponse(openapi_document())
