"""Days crew cannot work: marked in the portal, skipped by offers, warned about when assigned."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from crew import dispatch
from crew.availability import event_availability_warnings
from crew.models import Offer, Unavailability
from tests.factories import make_member
from tests.helpers import signed_in

NOW = datetime(2030, 5, 27, tzinfo=UTC)


def test_crew_add_list_and_remove_days_and_past_days_drop_away(roster):
    dana = roster["CREW_001"]
    client = signed_in(dana)
    today = timezone.localdate()
    later = today + timedelta(days=10)
    assert client.post(reverse("crew-availability"), {"day": later.isoformat()}).status_code == 302
    client.post(reverse("crew-availability"), {"day": later.isoformat()})  # twice is once
    Unavailability.objects.create(member=dana, day=today - timedelta(days=2))  # long past
    page = client.get(reverse("crew-availability")).content.decode()
    assert later.strftime("%a %-d %b %Y") in page
    assert (today - timedelta(days=2)).strftime("%a %-d %b %Y") not in page
    refused = client.post(reverse("crew-availability"), {"day": "2001-01-01"})
    assert refused.status_code == 400 and b"today or a later day" in refused.content
    assert client.post(reverse("crew-availability"), {"day": "nope"}).status_code == 400
    mark = Unavailability.objects.get(member=dana, day=later)
    # Someone else's day is not theirs to remove.
    signed_in(roster["CREW_002"]).post(reverse("crew-availability-remove"), {"pk": mark.pk})
    assert Unavailability.objects.filter(pk=mark.pk).exists()
    client.post(reverse("crew-availability-remove"), {"pk": mark.pk})
    assert not Unavailability.objects.filter(pk=mark.pk).exists()


def test_offers_skip_members_away_that_day(event):
    away = make_member("CREW_009", "Ana Lima", "crew009@crew.example.com", ["deckhand"])
    free = make_member("CREW_010", "Bo Chan", "crew010@crew.example.com", ["deckhand"])
    Unavailability.objects.create(member=away, day=date(2030, 5, 30))
    dispatch.slot_add(event=event, role="deckhand", now=NOW)
    assert list(Offer.objects.values_list("member__code", flat=True)) == [free.code]


def test_assigning_a_member_away_that_day_warns_without_blocking(event, roster):
    Unavailability.objects.create(member=roster["CREW_002"], day=date(2030, 5, 30))
    [warning] = event_availability_warnings(event)
    assert warning.startswith("Sam Ortiz (CREW_002) marked Thu 30 May 2030 as a day they cannot")
    assert event.assignments.filter(member__code="CREW_002", removed_at__isnull=True).exists()
