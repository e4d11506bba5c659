"""The admin index's "Needs attention" board."""

from __future__ import annotations

from typing import Any

from django import template

from jada.board import BOARD_DAYS, attention_rows

register = template.Library()


@register.inclusion_tag("admin/jada/attention_board.html", takes_context=True)
def attention_board(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    return {
        "rows": attention_rows(),
        "days": BOARD_DAYS,
        "can_retry": request.user.has_perm("bookings.change_booking"),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
