"""The admin's sign-in, rate limited per account and per client by crew.limits.

The same limiter as "Email me a new link": one store, one rule for the client's address
(TRUSTED_PROXY_COUNT), and no authentication backend in front of django-sesame's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from crew.limits import Limit, client_address, limit_forgive, limit_hit

# Failed attempts only: a successful sign-in is taken back.
ADMIN_SIGN_IN = Limit(kind="admin", per_account=5, per_client=20, window=timedelta(minutes=15))


class AdminLoginForm(AdminAuthenticationForm):
    """Django's admin sign-in form, refused once an account or a client has failed too often."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "rate_limited": "Too many failed sign-ins. Wait a quarter of an hour and try again.",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        hit = limit_hit(ADMIN_SIGN_IN, account=username, client=client_address(self.request))
        if hit is None:
            raise ValidationError(self.error_messages["rate_limited"], code="rate_limited")
        cleaned = super().clean()  # a wrong password raises here: the attempt stays counted
        limit_forgive(hit)
        return cleaned
