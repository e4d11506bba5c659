"""Conflicting updates of one booking at once end in a serial order (PostgreSQL: real races)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections

from bookings.models import AuditEntry, Booking, Financials
from bookings.services import booking_upsert
from tests.factories import booking_data
from tests.workers import require_service


def at_once(targets: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run each target in its own thread, released together; (results, errors)."""
    barrier = threading.Barrier(len(targets))
    results: list[Any] = []
    errors: list[BaseException] = []

    def work(target: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except BaseException as e:  # reported by the caller; a thread cannot fail the test
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def update(dock, gross: str, notes: str) -> Callable[[], tuple[str, Decimal]]:
    """One writer: its notes and the gross the service answered it with."""

    def write() -> tuple[str, Decimal]:
        data = booking_data(dock, gross_revenue=Decimal(gross), notes=notes)
        result = booking_upsert(data=data, via="test")
        return notes, result.booking.financials.gross_revenue

    return write


def state(booking_id: int) -> tuple[Decimal, str]:
    booking = Booking.objects.get(pk=booking_id)
    return Financials.objects.get(booking_id=booking_id).gross_revenue, booking.notes


def assert_audit_chain_links(booking_id: int) -> int:
    """Each entry's "before" is the previous entry's "after", field by field; returns the count."""
    current: dict[str, Any] = {}
    entries = list(AuditEntry.objects.filter(booking_id=booking_id).order_by("pk"))
    for entry in entries:
        for name, (before, after) in entry.changes.items():
            if name in current:
                assert before == current[name], (entry.pk, name, before, current[name])
            current[name] = after
    fin = Financials.objects.get(booking_id=booking_id)
    assert current["gross_revenue"] == str(fin.gross_revenue)
    assert current["net_revenue"] == str(fin.net_revenue)
    return len(entries)


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        require_service("postgresql", "SQLite serialises writers, so there is no race to lose")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pairs_of_conflicting_updates_end_in_one_serial_order(postgres, dock):
    booking = booking_upsert(data=booking_data(dock), via="test").booking
    serial = {(Decimal("200.00"), "A"), (Decimal("100.00"), "B")}
    for _ in range(30):
        results, errors = at_once([update(dock, "200", "A"), update(dock, "100", "B")])
        assert errors == []
        # Each writer was answered with what it wrote, and the end is one writer's whole write.
        assert sorted(results) == [("A", Decimal("200.00")), ("B", Decimal("100.00"))]
        assert state(booking.pk) in serial
    assert assert_audit_chain_links(booking.pk) >= 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_many_way_race_leaves_an_audit_chain_that_links_up(postgres, dock):
    booking = booking_upsert(data=booking_data(dock), via="test").booking
    for round_ in range(3):
        grosses = [100 + 16 * round_ + n for n in range(16)]
        results, errors = at_once([update(dock, str(g), f"writer {g}") for g in grosses])
        assert errors == []
        assert sorted(results) == sorted((f"writer {g}", Decimal(g)) for g in grosses)
        gross, notes = state(booking.pk)
        assert notes == f"writer {int(gross)}"
    # Every write changed the money (all amounts differ), so each left an entry, in lock order.
    assert assert_audit_chain_links(booking.pk) == 1 + 3 * 16
