"""Scaling out is Celery's: two worker processes on one broker, every stage run exactly once.

Two `celery -A jada worker` processes share the Redis broker and the PostgreSQL test database
with this process; a burst of bookings is saved here, and the workers race for its stages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_string
from email.utils import parseaddr
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from bookings.services import booking_upsert
from crew.models import Assignment
from crew.services import PlannedAssignment
from jada import pipeline
from jada.models import StageRun, StageState
from tests.conftest import booking_data, require_service
from tests.workers import broker, redis_url

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]
BURST = 30
CREW = ("CAP_001", "CREW_001", "CREW_002")
OUTSIDE_STAGES = ("crew_notify", "guest_publish", "summary")


def database_url() -> str:
    db = django_settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def start_worker(name: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    celery = Path(sys.executable).with_name("celery")
    return subprocess.Popen(
        [
            str(celery),
            "-A",
            "jada",
            "worker",
            f"--hostname={name}@%h",
            "--pool=threads",
            "--concurrency=4",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def messages(outbox: Path) -> list:
    """Every email the file backend wrote (one file per connection, messages separated)."""
    found = []
    for path in sorted(outbox.glob("*.log")):
        for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):
            if chunk.strip():
                found.append(message_from_string(chunk))
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
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": url,
        "CELERY_RESULT_BACKEND": url,
        "EMAIL_URL": f"filemail:///{outbox}",
        "JADA_VAR_DIR": str(tmp_path),  # guest pages under tmp_path/guest-pages, as here
        "SITE_URL": settings.SITE_URL,
        "LOG_LEVEL": "INFO",
    }
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    with broker(url, settings):
        workers = [start_worker(n, env, log) for n, log in zip(("a", "b"), logs, strict=True)]
        try:
            deadline = time.monotonic() + 60
            while not all("ready." in log.read_text() for log in logs):
                assert time.monotonic() < deadline, [log.read_text()[-2000:] for log in logs]
                assert all(w.poll() is None for w in workers), [log.read_text() for log in logs]
                time.sleep(0.2)

            plan = [
                PlannedAssignment(code, "captain" if i == 0 else "deckhand")
                for i, code in enumerate(CREW)
            ]
            start = datetime(2031, 6, 1, 16, tzinfo=UTC)
            ids = []
            for i in range(BURST):
                data = booking_data(
                    dock,
                    external_ref=f"BURST-{i}",
                    guest_email=f"guest{i}@guest.example.com",
                    starts_at=start + timedelta(days=i),
                )
                with transaction.atomic():
                    booking = booking_upsert(data=data, via="test", start_pipeline=False).booking
                    pipeline.start(booking.pk, created=True, crew_plan=plan)
                ids.append(booking.pk)

            stages = StageRun.objects.filter(run__booking_id__in=ids, stage__in=OUTSIDE_STAGES)
            deadline = time.monotonic() + 120
            while stages.exclude(state__in=[StageState.SUCCEEDED, StageState.FAILED]).exists():
                assert time.monotonic() < deadline, list(stages.values_list("stage", "state"))
                time.sleep(0.2)
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(timeout=30)

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
    keys = Counter((msg["To"], msg["Subject"]) for msg in sent)
    assert [k for k, n in keys.items() if n > 1] == []

    # Both workers took part.
    done = [log.read_text().count("succeeded in") for log in logs]
    assert all(done), done
