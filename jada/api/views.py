"""The intake API: parse, authenticate, call `booking_intake`, render JSON. Nothing more."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from bookings.models import Booking
from jada.api.openapi import openapi_document
from jada.api.serializers import booking_json
from jada.intake import IntakeRejected, booking_intake, load_json
from jada.lib.logs import path_for_log
from jada.models import ApiToken, TokenScope, hash_token

TOKEN_HEADER = "X-Dashboard-Token"  # noqa: S105 (a header name)
# Writing last_used_at on every request would serialise concurrent requests on one row.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 256
# Ids beyond a 64-bit integer cannot exist; they are not looked up.
MAX_ID = 2**63 - 1
JSON_TYPES = ("application/json",)
READ_SIZE = 8192

logger = logging.getLogger("django.request")


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


def _forbidden(field: str, message: str) -> JsonResponse:
    return _errors(403, {field: [message]})


def _source_refused(token: ApiToken, source: Any) -> JsonResponse | None:
    """A 403 when the token is bound to a source other than `source`."""
    if token.source and source != token.source:
        return _forbidden("source", f"This token may only reach {token.source} bookings.")
    return None


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


class LengthRequired(Exception):
    """A chunked body the server in front of Django did not mark as readable to its end."""


def _unframed_body(request: HttpRequest, limit: int) -> bytes:
    """A body sent without Content-Length (chunked), read up to one byte past the limit."""
    if not request.META.get("wsgi.input_terminated"):
        # Without the server's promise that the stream ends, reading could wait forever.
        raise LengthRequired
    stream, chunks, size = request.META["wsgi.input"], [], 0
    while size <= limit:
        chunk = stream.read(min(READ_SIZE, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _body(request: HttpRequest) -> bytes:
    """The request body, refused before reading when it declares more than the limit."""
    limit = settings.API_MAX_BODY_BYTES
    too_big = IntakeRejected({"body": [f"The body is larger than {limit // 1024} KB."]})
    length = request.META.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if chunked and not length:
        body = _unframed_body(request, limit)
    else:
        try:
            declared = int(length or 0)
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


def json_errors(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """An unexpected failure is still answered in JSON (and logged as Django would)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            return view(request, *args, **kwargs)
        except Exception:
            logger.exception(
                "Internal Server Error: %s",
                path_for_log(request.path),
                extra={"status_code": 500, "request": request},
            )
            return server_error_json()

    return wrapper


def server_error_json() -> JsonResponse:
    # An intake is all or nothing and idempotent, so the client can simply send it again.
    message = "The server failed to answer. Sending the same request again is safe."
    return _errors(500, {"server": [message]})


@csrf_exempt  # token-authenticated, never cookies
@json_errors
def bookings(request: HttpRequest) -> JsonResponse:
    """POST /api/bookings: upsert on (source, external_ref); 201 created, 200 existed."""
    if request.method != "POST":
        return _not_allowed(["POST"])
    token = authenticate(request)
    if token is None:
        return _unauthorized()
    if token.scope != TokenScope.WRITE:
        return _forbidden("token", "This token may only read bookings.")
    if request.content_type not in JSON_TYPES:
        return _errors(
            415, {"body": ["Send the booking as JSON (Content-Type: application/json)."]}
        )
    try:
        payload = load_json(_body(request))
        if refused := _source_refused(token, isinstance(payload, dict) and payload.get("source")):
            return refused
        result = booking_intake(payload=payload, via="api", by_name=f"API token {token.name}")
    except LengthRequired:
        return _errors(411, {"body": ["Send the body with a Content-Length header."]})
    except IntakeRejected as e:
        return _errors(e.status, e.errors)
    return _json(
        booking_json(result.booking.pk, warnings=result.warnings),
        status=201 if result.created else 200,
    )


@csrf_exempt  # token-authenticated, never cookies; unsafe methods get a JSON 405, not a CSRF 403
@json_errors
def booking(request: HttpRequest, pk: str) -> JsonResponse:
    """GET /api/bookings/<id>: the same document, with the pipeline's current state."""
    if request.method != "GET":
        return _not_allowed(["GET"])
    token = authenticate(request)
    if token is None:
        return _unauthorized()
    not_found = _errors(404, {"id": ["No booking with this id."]})
    # Matched loosely in the URL so that any malformed id gets this JSON 404, not an HTML one.
    if not (pk.isascii() and pk.isdigit()) or len(pk) > 19 or int(pk) > MAX_ID:
        return not_found
    if token.source and not Booking.objects.filter(pk=int(pk), source=token.source).exists():
        # Another marketplace's booking is not there for this token, as if it did not exist.
        return not_found
    try:
        return _json(booking_json(int(pk)))
    except Booking.DoesNotExist:
        return not_found


@csrf_exempt
@json_errors
def openapi(request: HttpRequest) -> JsonResponse:
    """GET /api/openapi.json: the OpenAPI 3 description of this API (public)."""
    if request.method != "GET":
        return _not_allowed(["GET"])
    return JsonResponse(openapi_document())


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/: a JSON 404 naming what exists."""
    paths = "/api/bookings, /api/bookings/<id> and /api/openapi.json"
    return _errors(404, {"path": [f"No such endpoint. The API has {paths}."]})


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 (a bad Host header, a malformed request): JSON under /api/."""
    if _is_api(request):
        return _errors(400, {"body": ["The request is malformed."]})
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 (a failure outside the API's views, in a middleware): JSON under /api/."""
    if _is_api(request):
        return server_error_json()
    return defaults.server_error(request)
