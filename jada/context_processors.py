from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def operator(request: HttpRequest) -> dict[str, str]:
    """Every template may name the operator and the zone its times are shown in."""
    return {"operator_name": settings.OPERATOR_NAME, "operator_tz": settings.TIME_ZONE_NAME}
