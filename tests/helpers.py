"""Helpers tests share for reading what the application produced: emails, ICS, CSV exports."""

from __future__ import annotations

import csv
import io
import re
import threading
from urllib.parse import unquote

from django.core import mail
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.formatting import length_input_text, local
from bookings.models import Booking
from bookings.selectors import booking_operational
from crew.models import Assignment, CrewEvent
from guests.render import GuestFacts, page_revise, render_page
from guests.services import guest_page_ensure


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


def run_at_once(target, times: int = 2) -> tuple[list, list]:
    """`target(n)` in `times` threads released together; (results, errors)."""
    barrier = threading.Barrier(times)
    results, errors = [], []

    def work(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(target(n))
        except Exception as e:  # reported below; a thread cannot fail the test itself
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def run_twice_at_once(target) -> tuple[list, list]:
    return run_at_once(lambda _: target())


def rendered_for(booking):
    projection = booking_operational(booking.pk)
    page = guest_page_ensure(booking=projection)
    facts = GuestFacts.of(projection)
    page_revise(page, facts)
    return page, render_page(page, facts)


def post_data(booking: Booking | None = None, **overrides) -> dict[str, str]:
    """A complete change-form POST for the booking admin (the split date/time widget)."""
    data = {
        "source": "direct",
        "external_ref": "DIRECT-77",
        "guest_name": "Riley Quinn",
        "guest_email": "riley@guest.example.com",
        "guest_phone": "+1 555 0177",
        "guest_count": "6",
        "starts_at_0": "2030-05-30",
        "starts_at_1": "09:00:00",
        "duration_minutes": "3:00",  # the charter length, hours:minutes
        "status": "confirmed",
        "notes": "Sunset cruise",
        "internal_notes": "",
    }
    if booking is not None:
        financials = booking.financials
        data.update(
            {
                "source": booking.source,
                "external_ref": booking.external_ref,
                "guest_name": booking.guest_name,
                "guest_email": booking.guest_email,
                "guest_phone": booking.guest_phone,
                "guest_count": str(booking.guest_count),
                "duration_minutes": length_input_text(booking.duration_minutes),
                "dock": str(booking.dock_id),
                "status": booking.status,
                "notes": booking.notes,
                "internal_notes": booking.internal_notes,
                "gross_revenue": str(financials.gross_revenue),
                "crew_cost": str(financials.crew_cost),
                "captain_cost": str(financials.captain_cost),
                "fee_percent": str(financials.fee_percent),
            }
        )
        starts = local(booking.starts_at)
        data["starts_at_0"], data["starts_at_1"] = f"{starts:%Y-%m-%d}", f"{starts:%H:%M:%S}"
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def signed_in(member) -> Client:
    """A client signed in as the crew member, as a magic link would."""
    client = Client()
    client.force_login(member.user, backend="sesame.backends.ModelBackend")
    return client


def formset_data(event: CrewEvent, rows: list[dict], deleted: set[str] = frozenset()) -> dict:
    """The inline formset as the browser posts it: existing rows first, then new ones."""
    existing = list(
        Assignment.objects.filter(event=event, removed_at__isnull=True)
        .select_related("member")
        .order_by("call_at", "pk")
    )
    data = {
        "assignments-TOTAL_FORMS": str(len(existing) + len(rows)),
        "assignments-INITIAL_FORMS": str(len(existing)),
        "assignments-MIN_NUM_FORMS": "0",
        "assignments-MAX_NUM_FORMS": "1000",
    }
    zone = timezone.get_current_timezone()
    for i, a in enumerate(existing):
        local = a.call_at.astimezone(zone)
        data.update(
            {
                f"assignments-{i}-id": str(a.pk),
                f"assignments-{i}-event": str(event.pk),
                f"assignments-{i}-member": str(a.member_id),
                f"assignments-{i}-role": a.role,
                f"assignments-{i}-call_at_0": f"{local:%Y-%m-%d}",
                f"assignments-{i}-call_at_1": f"{local:%H:%M:%S}",
                # Typed in hours, as the page shows them ("5:00").
                f"assignments-{i}-shift_minutes": length_input_text(a.shift_minutes),
            }
        )
        if a.member.code in deleted:
            data[f"assignments-{i}-DELETE"] = "on"
    for j, row in enumerate(rows, start=len(existing)):
        local = row["call_at"].astimezone(zone)
        data.update(
            {
                f"assignments-{j}-event": str(event.pk),
                f"assignments-{j}-member": str(row["member"].pk),
                f"assignments-{j}-role": row["role"],
                f"assignments-{j}-call_at_0": f"{local:%Y-%m-%d}",
                f"assignments-{j}-call_at_1": f"{local:%H:%M:%S}",
                f"assignments-{j}-shift_minutes": length_input_text(row["shift_minutes"]),
            }
        )
    return data
