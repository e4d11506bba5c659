"""Scaling out is Celery's: two worker processes on one broker, every stage run exactly once.

Two `celery -A jada worker` processes share the Redis broker and the PostgreSQL test database
with this process; a burst of bookings is saved here, and the workers race for its stages.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.utils import parseaddr
from pathlib import Path

import pytest
from django.db import connection, transaction

from bookings.services import booking_upsert
from crew.models import Assignment
from crew.services import PlannedAssignment
from jada import pipeline
from jada.models import StageRun, StageState
from tests.factories import booking_data
from tests.workers import broker, database_url, redis_url, require_service, worker_processes

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BURST = 30
CREW = ("CAP_001", "CREW_001", "CREW_002")
OUTSIDE_STAGES = ("crew_notify", "guest_publish", "summary")


def messages(outbox: Path) -> list:
    """Every email the file backend wrote (one file per connection, messages separated)."""
    found = []
    for path in sorted(outbox.glob("*.log")):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                found.append(message_from_bytes(chunk))
    return found


def test_two_workers_on_one_broker_run_every_stage_exactly_once(
    settings, tmp_path, dock, roster, templates
):
    if connection.vendor != "postgresql":
        require_service("postgresql", "worker processes need a shared database (DATABASE_URL)")
    url = redis_url()
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = {
        "DATABASE_URL": database_url(settings),
        "CELERY_BROKER_URL": url,
        "CELERY_RESULT_BACKEND": url,
        "EMAIL_URL": f"filemail:///{outbox}",
        "JADA_VAR_DIR": str(tmp_path),  # guest pages under tmp_path/guest-pages, as here
        "SITE_URL": settings.SITE_URL,
        "OPERATOR_EMAILS": "operator@sailjada.com",
        "LOG_LEVEL": "INFO",
    }
    plan = [
        PlannedAssignment(code, "captain" if i == 0 else "deckhand") for i, code in enumerate(CREW)
    ]
    start = datetime(2031, 6, 1, 16, tzinfo=UTC)
    with broker(url, settings), worker_processes(["a", "b"], env, tmp_path) as logs:
        ids = []
        for i in range(BURST):
            data = booking_data(
                dock,
                external_ref=f"BURST-{i}",
                guest_email=f"guest{i}@guest.example.com",
                starts_at=start + timedelta(days=i),
            )
            with transaction.atomic():
                booking = booking_upsert(data=data, via="test").booking
                pipeline.start(booking.pk, created=True, crew_plan=plan)
            ids.append(booking.pk)

        stages = StageRun.objects.filter(run__booking_id__in=ids, stage__in=OUTSIDE_STAGES)
        deadline = time.monotonic() + 120
        while stages.exclude(state__in=[StageState.SUCCEEDED, StageState.FAILED]).exists():
            assert time.monotonic() < deadline, list(stages.values_list("stage", "state"))
            time.sleep(0.2)

    # Every outside-world stage of every booking ran once, and succeeded the first time.
    rows = list(stages.values_list("run__booking_id", "stage", "state", "attempts"))
    assert len(rows) == BURST * len(OUTSIDE_STAGES), rows
    assert {(state, attempts) for _, _, state, attempts in rows} == {("succeeded", 1)}, rows

    # Exactly the expected emails: one per assignment, one per guest; no duplicates.
    sent = messages(outbox)
    crew_addresses = {m.email for m in roster.values()}
    recipients = [parseaddr(msg["To"])[1] for msg in sent]
    to = Counter(
        "crew" if r in crew_addresses else "guest" if r.endswith("@guest.example.com") else "other"
        for r in recipients
    )
    assignments = Assignment.objects.filter(event__booking_id__in=ids).count()
    assert assignments == BURST * len(CREW)
    assert to["crew"] == assignments, to
    assert to["guest"] == BURST, to
    # One summary per run, to the one operator.
    assert to["other"] == BURST, to
    assert {r for r in recipients if r not in crew_addresses and "@guest." not in r} == {
        "operator@sailjada.com"
    }
    # And one exported page per booking.
    assert len(list((tmp_path / "guest-pages").glob("jada-guest-*.html"))) == BURST
    keys = Counter((msg["To"], msg["Subject"]) for msg in sent)
    assert [k for k, n in keys.items() if n > 1] == []

    # Both workers took part.
    done = [log.read_text().count("succeeded in") for log in logs]
    assert all(done), done
