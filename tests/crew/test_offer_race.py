"""Many members take the same open shift at once: exactly one gets it (PostgreSQL row lock)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from crew import dispatch
from crew.models import Assignment, Offer, Slot
from tests.factories import charter, make_member
from tests.helpers import run_at_once

TAKERS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_takers_get_exactly_one_assignment(dock, roster, templates):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite ignores select_for_update)")
    for n in range(TAKERS):
        make_member(f"CREW_1{n:02d}", f"Taker {n}", f"taker{n}@crew.example.com", ["deckhand"])
    event = charter(dock)
    slot = dispatch.slot_add(event=event, role="deckhand")
    tokens = list(Offer.objects.filter(slot=slot).values_list("token", flat=True))
    assert len(tokens) == TAKERS

    def take(n: int) -> bytes:
        response = Client().post(reverse("crew-offer", args=[tokens[n]]))
        assert response.status_code == 200
        return response.content

    pages, errors = run_at_once(take, times=TAKERS)
    assert errors == []
    assert sum(b"It's yours" in page for page in pages) == 1
    assert sum(b"This shift has been taken" in page for page in pages) == TAKERS - 1
    slot = Slot.objects.get(pk=slot.pk)
    takers = Assignment.objects.filter(event=event, member__code__startswith="CREW_1")
    assert takers.count() == 1 and slot.filled_by_id == takers.get().pk
