"""Identical requests at the same moment make one booking (PostgreSQL: real row locks and races)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from bookings.models import AuditEntry, Booking, Financials
from crew.models import CrewEvent
from guests.models import GuestPage
from jada.models import PipelineRun
from tests.jada.intake_support import new_token, post, write_up
from tests.workers import require_service

THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_posts_create_one_booking(dock, roster, templates):
    if connection.vendor != "postgresql":
        require_service("postgresql", "SQLite serialises writers, so there is no race to lose")
    token = new_token()
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    ids: set[int] = set()
    errors: list[BaseException] = []

    def send() -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            response = post(client, write_up(), token=token)
            statuses.append(response.status_code)
            ids.add(response.json().get("id"))
        except BaseException as e:  # reported below; a thread cannot fail the test itself
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(statuses) == THREADS
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert len(ids) == 1
    assert Booking.objects.count() == 1
    assert Financials.objects.count() == 1
    assert CrewEvent.objects.count() == 1
    assert GuestPage.objects.count() == 1
    assert PipelineRun.objects.count() == 1
    assert AuditEntry.objects.count() == 1
