"""A hanging S3 holds no transaction or row lock, and boto3 gives up by itself (PostgreSQL).

Both for the pipeline's guest stage and for a bulk re-export (`publish_guest_pages`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import botocore.exceptions
import pytest
from django.db import DatabaseError, connection, connections, transaction

from bookings.selectors import booking_operational
from bookings.services import booking_upsert
from guests.models import GuestPage, PageState
from guests.services import guest_page_ensure, guest_page_publish, guest_pages_publish_bulk
from jada.pipeline.retry import is_transient
from jada.settings import guest_pages_storage
from tests.factories import booking_data
from tests.workers import require_service


class HangingServer:
    """Accepts connections and never answers, until closed; counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.closed.set()
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def hanging_s3(settings, monkeypatch, moto_server) -> Iterator[HangingServer]:
    # moto_server: the fake AWS credentials and no local AWS profile, as every S3 test has.
    server = HangingServer()
    # Short limits so the test is quick; the code under test reads them when it builds clients.
    monkeypatch.setattr("guests.storage.AWS_CONNECT_TIMEOUT", 1)
    monkeypatch.setattr("guests.storage.AWS_READ_TIMEOUT", 2)
    monkeypatch.setattr("guests.storage.AWS_MAX_ATTEMPTS", 2)
    settings.GUEST_PAGES_BUCKET = "guest-pages"
    settings.CLOUDFRONT_DISTRIBUTION_ID = ""
    settings.STORAGES = {
        **settings.STORAGES,
        "guest_pages": guest_pages_storage(bucket="guest-pages", endpoint_url=server.url),
    }
    yield server
    server.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bulk", [False, True], ids=["guest stage", "bulk re-export"])
def test_a_hanging_s3_holds_no_transaction_and_gives_up_by_itself(
    dock, roster, templates, hanging_s3, bulk
):
    if connection.vendor != "postgresql":
        require_service("postgresql", "idle-in-transaction sessions are PostgreSQL's to show")
    booking = booking_upsert(data=booking_data(dock), via="test").booking
    page = guest_page_ensure(booking=booking_operational(booking.pk))
    errors: list[BaseException] = []
    took: list[float] = []

    def publish() -> None:
        started = time.monotonic()
        try:
            if bulk:
                guest_pages_publish_bulk(booking_ids=[booking.pk], changed_only=False)
            else:
                guest_page_publish(booking_id=booking.pk)
        except Exception as e:  # reported below; a thread cannot fail the test itself
            errors.append(e)
        finally:
            took.append(time.monotonic() - started)
            connections.close_all()

    worker = threading.Thread(target=publish)
    worker.start()
    deadline = time.monotonic() + 10
    while not hanging_s3.accepted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hanging_s3.accepted, f"the upload never reached S3: {errors}"
    time.sleep(0.3)  # the request is on the wire; S3 does not answer

    # While S3 hangs: no session of this database sits in a transaction, and the page's row
    # can be locked at once by anyone else (the admin, another stage, the next intake).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] == 0
    try:
        with transaction.atomic():
            GuestPage.objects.select_for_update(nowait=True).get(pk=page.pk)
    except DatabaseError as e:
        pytest.fail(f"the page's row stayed locked while S3 hung: {e}")

    worker.join(timeout=30)
    assert not worker.is_alive()
    # boto3 gave up by itself (read timeout), after its own retries, and the stage may retry.
    [error] = errors
    assert isinstance(error, botocore.exceptions.ReadTimeoutError)
    assert is_transient(error)
    assert len(hanging_s3.accepted) == 2
    assert took[0] < 15
    page.refresh_from_db()
    assert page.publishing_at is None and not page.published_hash  # nothing recorded as done
    if not bulk:
        assert page.state == PageState.FAILED
