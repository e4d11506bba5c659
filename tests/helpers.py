"""Helpers tests share for reading what the application produced: emails, ICS, CSV exports."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

from django.core import mail
from django.urls import reverse

from bookings.models import Booking


def by_address(address: str):
    return [m for m in mail.outbox if m.to == [address]]


def ics_of(message) -> str:
    """The calendar attachment of an email, checked to be one."""
    (name, content, mimetype) = message.attachments[0]
    assert name.endswith(".ics") and mimetype.startswith("text/calendar; method=")
    return content


def page_ics_of(html: str) -> bytes:
    """The calendar entry a guest page links as a data: URI."""
    match = re.search(r'href="data:text/calendar;charset=utf-8,([^"]+)"', html)
    assert match, "the page links its calendar entry as a data: URI"
    return unquote(match.group(1).replace("&#x27;", "'")).encode()


def export(client, user, booking: Booking) -> tuple[str, list[dict[str, str]]]:
    client.force_login(user)
    response = client.post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "export_csv", "_selected_action": [booking.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    return text, list(csv.DictReader(io.StringIO(text)))
