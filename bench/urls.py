"""The application's URLs plus two bare Django views: the floor each figure is compared with."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from jada.urls import urlpatterns as app_urlpatterns

PAGE = "<!doctype html><title>bare</title><p>" + "bare view " * 50 + "</p>"


@require_GET
def bare_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


@csrf_exempt
@require_POST
def bare_json(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    return JsonResponse({"id": 1, "received": len(body)}, status=201)


urlpatterns = [
    path("bench/bare", bare_page),
    path("bench/bare-json", bare_json),
    *app_urlpatterns,
]
