"""Two workers publishing the same page at once: the row lock lets one upload (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from bookings.selectors import booking_operational
from bookings.services import booking_upsert
from guests.services import guest_page_ensure, guest_page_publish
from tests.factories import booking_data


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_publishes_upload_once(dock, roster, templates, s3_guest_storage, moto_requests):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite ignores select_for_update)")
    # Without the pipeline, which would publish the page on commit before the threads start.
    booking = booking_upsert(data=booking_data(dock), via="test").booking
    guest_page_ensure(booking=booking_operational(booking.pk))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def publish() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(guest_page_publish(booking_id=booking.pk))
        except Exception as e:  # reported below; a thread cannot fail the test itself
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(r.uploaded for r in results) == [False, True]
    assert len([r for r in moto_requests if r.service == "s3" and r.method == "PUT"]) == 1
    assert len([r for r in moto_requests if r.service == "cloudfront"]) == 1
