"""The operators' email about a hold conflict: one per (hold, booking) pair, sent after commit."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bookings.holds import conflict_sentence
from bookings.models import HoldConflict

logger = logging.getLogger(__name__)


def _claim() -> list[HoldConflict]:
    """Mark the unsent conflicts as sent, under lock, so two workers never both email one."""
    with transaction.atomic():
        conflicts = list(
            HoldConflict.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(emailed_at__isnull=True)
            .select_related("hold__vessel", "hold__subscription", "booking")
            .order_by("pk")
        )
        HoldConflict.objects.filter(pk__in=[c.pk for c in conflicts]).update(
            emailed_at=timezone.now()
        )
    return conflicts


def _message(conflict: HoldConflict) -> EmailMultiAlternatives:
    booking_path = reverse("admin:bookings_booking_change", args=[conflict.booking_id])
    calendar_path = reverse("admin:bookings_booking_calendar")
    context = {
        "conflict": conflict,
        "hold": conflict.hold,
        "booking": conflict.booking,
        "vessel": conflict.hold.vessel,
        "sentence": conflict_sentence(conflict),
        "booking_url": f"{settings.SITE_URL}{booking_path}",
        "calendar_url": (
            f"{settings.SITE_URL}{calendar_path}?month="
            f"{timezone.localtime(conflict.booking.starts_at):%Y-%m}"
            f"&vessel={conflict.hold.vessel.code}"
        ),
    }
    subject = " ".join(render_to_string("emails/hold-conflict-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject,
        render_to_string("emails/hold-conflict-body.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        list(settings.OPERATOR_EMAILS),
    )
    html = render_to_string("emails/hold-conflict-body.html", context)
    message.attach_alternative(html, "text/html")
    return message


def hold_conflicts_send() -> int:
    """Email each conflict not told yet to OPERATOR_EMAILS; returns how many were sent.

    Runs outside any transaction (SMTP is the outside world); a failed send is put back so the
    next run tries again.
    """
    if not settings.OPERATOR_EMAILS:
        return 0
    sent = 0
    for conflict in _claim():
        try:
            _message(conflict).send()
        except Exception:
            logger.exception("hold conflict %s: the operator email failed", conflict.pk)
            HoldConflict.objects.filter(pk=conflict.pk).update(emailed_at=None)
            continue
        sent += 1
    return sent
