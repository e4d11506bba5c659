"""Canary: a booking with unique amounts; no crew email, calendar or page shows any of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core import mail
from django.test import Client
from django.urls import reverse

from bookings.models import Booking
from crew.links import crew_answer_url
from crew.models import Assignment, CrewMember
from crew.services import crew_notify, link_request, reminders_send
from tests.factories import CANARY_AMOUNTS, WRITEUP_PLAN, all_spellings, charter

AMOUNTS = CANARY_AMOUNTS


def test_no_crew_surface_shows_any_amount(dock, roster, templates):
    event = charter(dock, **AMOUNTS)
    ledger = Booking.objects.select_related("financials").get(pk=event.booking_id).financials
    amounts = [*AMOUNTS.values(), ledger.fee, ledger.net_revenue]
    assert len({str(a) for a in amounts}) == 6
    forbidden = set(all_spellings(amounts))

    surfaces: dict[str, str] = {}
    start = event.starts_at
    Assignment.objects.update(created_at=start - timedelta(days=10))
    crew_notify(event_id=event.pk, now=start - timedelta(days=5))
    charter(dock, guest_count=9, **AMOUNTS)  # changed
    crew_notify(event_id=event.pk, now=start - timedelta(days=4))
    reminders_send(now=start - timedelta(days=3))  # unanswered
    reminders_send(now=start - timedelta(hours=20))  # day before
    charter(dock, plan=WRITEUP_PLAN[:2], guest_count=9, **AMOUNTS)  # removal
    crew_notify(event_id=event.pk, now=start - timedelta(hours=19))
    link_request(email="cap001@crew.example.com", client="canary", now=datetime.now(UTC))
    charter(dock, plan=None, guest_count=9, status="cancelled", **AMOUNTS)  # cancellation
    crew_notify(event_id=event.pk, now=start - timedelta(hours=18))

    kinds = set()
    for i, message in enumerate(mail.outbox):
        kinds.add(message.subject.split(":")[0].split(" charter")[0])
        surfaces[f"email {i} subject"] = message.subject
        surfaces[f"email {i} text"] = message.body
        surfaces[f"email {i} html"] = message.alternatives[0][0]
        for name, content, _ in message.attachments:
            surfaces[f"email {i} {name}"] = content
    assert {"New", "Changed", "Please answer", "Tomorrow", "Cancelled"} <= kinds, kinds
    assert any("crew sign-in link" in m.subject for m in mail.outbox)

    for assignment in Assignment.objects.select_related("member", "event"):
        answer = Client().get(crew_answer_url(assignment))
        surfaces[f"answer page {assignment.pk}"] = answer.content.decode()
    for member in CrewMember.objects.all():
        client = Client()
        client.force_login(member.user, backend="sesame.backends.ModelBackend")
        surfaces[f"{member.code} portal"] = client.get(reverse("crew-portal")).content.decode()
        for assignment in Assignment.objects.filter(member=member):
            page = client.get(reverse("crew-assignment", args=[assignment.pk]))
            surfaces[f"{member.code} assignment {assignment.pk}"] = page.content.decode()
        feed = client.get(reverse("crew-feed", args=[member.feed_token]))
        surfaces[f"{member.code} feed"] = feed.content.decode()

    assert all(surfaces.values()), [k for k, v in surfaces.items() if not v]
    assert len(surfaces) > 40
    leaks = [(where, s) for where, text in surfaces.items() for s in forbidden if s in text]
    assert leaks == []
