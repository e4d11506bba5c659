from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from bookings.formatting import zone_name


def operator(request: HttpRequest) -> dict[str, str]:
    """Every template may name the operator and the zone its times are shown in."""
    return {"operator_name": settings.OPERATOR_NAME, "operator_tz": zone_name()}
