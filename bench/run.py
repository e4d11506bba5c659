"""`make bench`: every figure of the proof, measured side by side on this machine, as a table.

Needs the machine's PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379). Uses a database of
its own (`jada_bench`, dropped and created), Redis database 14, a moto server for S3 and
CloudFront, gunicorn and Celery workers as subprocesses, and a load client in a second process.
Everything stays on loopback, and every loop is bounded in count and time.

    .venv/bin/python bench/run.py [--only NAME ...] [--quick]

Writes bench/RESULTS.md with the machine and the date.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PG = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "jada_bench"
# A Redis database of its own: the benchmark empties it, and a test run sharing it would take
# (and lose) the benchmark's messages. Tests use JADA_TEST_REDIS_URL (CI: database 15).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105 (a local test token)
VAR = Path(tempfile.mkdtemp(prefix="jada-bench-"))


# --- results ---------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    value: str
    target: str
    ok: bool | None  # None: informational or not measured


ROWS: list[Row] = []
NOTES: list[str] = []


def row(figure: str, value: str, target: str = "", ok: bool | None = None) -> None:
    ROWS.append(Row(figure, value, target, ok))
    mark = {True: "ok", False: "MISSED", None: ""}[ok]
    print(f"  {figure:<58} {value:<28} {target:<16} {mark}", flush=True)


# --- services ----------------------------------------------------------------------------------


def reachable(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


class Latency:
    """WSGI middleware in front of moto: waits like a real endpoint and counts requests."""

    def __init__(self, app) -> None:
        self.app = app
        self.delay = 0.0
        self.counts: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        service = "cloudfront" if "/cloudfront/" in auth else "s3" if "/s3/" in auth else "other"
        with self.lock:
            self.counts[(service, environ["REQUEST_METHOD"])] += 1
        if self.delay:
            time.sleep(self.delay)
        return self.app(environ, start_response)

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()


def start_moto() -> tuple[str, Latency]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    latency = Latency(server._server.app)
    server._server.app = latency
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}", latency


def environment(moto_url: str, web_port: int) -> None:
    # Fake credentials: nothing here can reach real AWS (as in tests/aws.py, which cannot be
    # imported yet: it reads jada.settings, and the settings must see this environment first).
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        }
    )
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SITE_URL": f"http://127.0.0.1:{web_port}",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"{PG}/{DB_NAME}",
            "CELERY_BROKER_URL": REDIS_URL,
            "JADA_VAR_DIR": str(VAR),
            "GUEST_PAGES_BUCKET": "bench-guest-pages",
            "AWS_S3_ENDPOINT_URL": moto_url,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "LOG_LEVEL": "WARNING",
            "BENCH_EMAIL_LATENCY_MS": "0",
        }
    )


def create_aws(moto_url: str) -> None:
    import boto3

    from tests.aws import _create_distribution

    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(
        Bucket="bench-guest-pages"
    )
    cloudfront = boto3.client("cloudfront", endpoint_url=moto_url, region_name="us-east-1")
    distribution_id = _create_distribution(cloudfront, "bench-guest-pages")
    os.environ["CLOUDFRONT_DISTRIBUTION_ID"] = distribution_id
    # tests.aws read jada.settings on import, before the distribution existed.
    from django.conf import settings

    settings.CLOUDFRONT_DISTRIBUTION_ID = distribution_id


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


class Process:
    """A subprocess with its output in a file, stopped on exit."""

    def __init__(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self.log = VAR / f"{name}-{time.monotonic_ns()}.log"
        self.handle = self.log.open("w")
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.log.name} exited:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{self.log.name}: no {text!r} in {timeout}s")

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.handle.close()


@contextlib.contextmanager
def worker(name: str, *args: str, env: dict[str, str] | None = None):
    proc = Process(
        name,
        [
            str(BIN / "celery"),
            "-A",
            "jada",
            "worker",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname={name}@%h",
            *args,
        ],
        env=env,
    )
    try:
        proc.wait_for("ready.")
        yield proc
    finally:
        proc.stop()


@contextlib.contextmanager
def gunicorn(port: int):
    proc = Process(
        "gunicorn",
        [
            str(BIN / "gunicorn"),
            "jada.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--log-level",
            "warning",
        ],
    )
    try:
        deadline = time.monotonic() + 30
        while not reachable("127.0.0.1", port):
            if time.monotonic() > deadline or proc.proc.poll() is not None:
                raise RuntimeError(proc.log.read_text()[-3000:])
            time.sleep(0.1)
        yield proc
    finally:
        proc.stop()


def load(url: str, *, connections: int, duration: float, **kw) -> dict:
    args = [sys.executable, str(ROOT / "bench" / "load.py"), url]
    args += ["--connections", str(connections), "--duration", str(duration)]
    if kw.get("method"):
        args += ["--method", kw["method"]]
    if kw.get("body"):
        args += ["--body", kw["body"]]
    for header in kw.get("headers", []):
        args += ["--header", header]
    out = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- data --------------------------------------------------------------------------------------


def seed() -> None:
    from django.contrib.auth.models import User

    from bookings.models import Dock
    from crew.models import ChecklistTemplate, CrewMember, Role
    from jada.models import ApiToken, hash_token
    from tests.factories import make_member

    Dock.objects.create(
        name="Sheraton Hotel Dock",
        address="1380 Harbor Island Dr, San Diego, CA 92101",
        directions="Park in the hotel's marina lot; walk past the pool to gate C.",
    )
    User.objects.create_superuser("alice", "alice@sailjada.com", "pw-alice")
    make_member("CAP_001", "Marco Reyes", "cap001@crew.example.com", [Role.CAPTAIN])
    for i in range(1, 5):
        make_member(f"CREW_{i:03}", f"Deck Hand{i}", f"crew{i:03}@crew.example.com", ["deckhand"])
    ChecklistTemplate.objects.create(text="Brief {guest_count} guests", position=1)
    ChecklistTemplate.objects.create(text="Check fuel", role=Role.CAPTAIN, position=2)
    ChecklistTemplate.objects.create(text="Secure fenders", role=Role.DECKHAND, position=3)
    ApiToken.objects.create(name="bench", token_hash=hash_token(TOKEN))
    assert CrewMember.objects.count() == 5


_counter = iter(range(10**9))


def create_booking(*, crew: tuple[str, ...] = ("CAP_001", "CREW_001", "CREW_002"), start=None):
    """A booking through the service, with its crew, as the API would save it."""
    from django.db import transaction

    from bookings.models import Dock
    from bookings.services import BookingData, booking_upsert
    from crew.services import PlannedAssignment
    from jada import pipeline

    n = next(_counter)
    start = start or datetime(2031, 1, 1, 17, tzinfo=UTC) + timedelta(hours=7 * n)
    data = BookingData(
        source="boatsetter",
        external_ref=f"BENCH-{n}",
        guest_name="Jordan Avery",
        guest_email=f"guest{n}@guest.example.com",
        guest_count=4,
        starts_at=start,
        duration_minutes=180,
        dock=Dock.objects.get(),
        gross_revenue=Decimal("840.75"),
        crew_cost=Decimal("250.00"),
        captain_cost=Decimal("150.00"),
        fee_percent=Decimal("18"),
    )
    plan = [
        PlannedAssignment(code, "captain" if code.startswith("CAP") else "deckhand")
        for code in crew
    ]
    with transaction.atomic():
        booking = booking_upsert(data=data, via="bench").booking
        pipeline.start(booking.pk, created=True, crew_plan=plan)
    return booking.pk


def bulk_bookings(count: int, *, per_day: int = 3, first_day=None) -> list[int]:
    """Bookings and their money straight into the tables (for the admin's size figures)."""
    from bookings.models import Booking, Dock, Financials

    dock = Dock.objects.get()
    first_day = first_day or datetime(2032, 1, 1, 16, tzinfo=UTC)
    base = next(_counter)
    made = []
    for start in range(0, count, 1000):
        chunk = [
            Booking(
                source="direct",
                external_ref=f"BULK-{base}-{i}",
                guest_name=f"Guest {i}",
                guest_count=1 + i % 12,
                starts_at=first_day + timedelta(days=i // per_day, hours=3 * (i % per_day)),
                duration_minutes=180,
                dock=dock,
            )
            for i in range(start, min(count, start + 1000))
        ]
        Booking.objects.bulk_create(chunk)
        money = []
        for b in chunk:
            f = Financials(
                booking=b,
                gross_revenue=Decimal("1000.00"),
                crew_cost=Decimal("200.00"),
                captain_cost=Decimal("150.00"),
                fee_percent=Decimal("10"),
            )
            f.recompute()
            money.append(f)
        Financials.objects.bulk_create(money)
        made += [b.pk for b in chunk]
    return made


def wait_done(booking_ids, *, timeout: float = 300) -> float:
    """Seconds until every stage of every run of these bookings finished; raises on failure."""
    from jada.models import StageRun, StageState

    ids = list(booking_ids)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        stages = StageRun.objects.filter(run__booking_id__in=ids)
        open_ = stages.filter(state__in=[StageState.PENDING, StageState.RUNNING]).count()
        failed = stages.filter(state=StageState.FAILED).values_list("stage", "last_error")[:3]
        if failed:
            raise RuntimeError(f"stages failed: {list(failed)}")
        if open_ == 0 and stages.exists():
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"{open_} stage(s) still open after {timeout}s")


# --- figures -----------------------------------------------------------------------------------


def bench_admin(quick: bool) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="alice"))
    month = "2032-01"
    pages = {
        "changelist": "/admin/bookings/booking/",
        "calendar": f"/admin/bookings/booking/calendar/?month={month}",
    }

    def measure(url: str) -> tuple[int, float]:
        client.get(url)  # warm
        times = []
        for _ in range(7):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        return len(ctx.captured_queries), statistics.median(times)

    bulk_bookings(100)
    small = {name: measure(url) for name, url in pages.items()}
    bulk_bookings(1_000 if quick else 9_900, first_day=datetime(2032, 2, 5, 16, tzinfo=UTC))
    large = {name: measure(url) for name, url in pages.items()}
    n = "1,100" if quick else "10,000"
    for name in pages:
        (q1, t1), (q2, t2) = small[name], large[name]
        row(f"admin {name}: queries at 100 vs {n} bookings", f"{q1} vs {q2}", "equal", q1 == q2)
        row(
            f"admin {name}: time at {n} ÷ at 100",
            f"{t2 * 1000:.1f} ÷ {t1 * 1000:.1f} ms = {t2 / t1:.2f}",
            "≤ 2",
            t2 / t1 <= 2,
        )


def bench_export(quick: bool, moto_url: str, latency: Latency) -> None:
    import boto3

    from bookings.selectors import bookings_operational
    from guests.models import GuestPage
    from guests.services import guest_page_ensure, guest_pages_publish_bulk

    count = 200 if quick else 1_000
    ids = bulk_bookings(count, per_day=2, first_day=datetime(2040, 1, 1, 16, tzinfo=UTC))
    for booking in bookings_operational(ids).values():
        guest_page_ensure(booking=booking)
    assert GuestPage.objects.filter(booking_id__in=ids).count() == count

    latency.reset()
    started = time.perf_counter()
    result = guest_pages_publish_bulk(booking_ids=ids)
    export_s = time.perf_counter() - started
    puts = latency.counts[("s3", "PUT")]
    invalidations = latency.counts[("cloudfront", "POST")]
    assert result.published == count, result

    body = (VAR / "sample.html").write_bytes(b"x" * 6_000) and (VAR / "sample.html").read_bytes()
    sample = GuestPage.objects.filter(booking_id__in=ids).first()
    with contextlib.suppress(Exception):
        from guests.storage import page_read

        body = page_read(sample.object_name)
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    started = time.perf_counter()
    for i in range(count):
        s3.put_object(
            Bucket="bench-guest-pages",
            Key=f"raw-{i}.html",
            Body=body,
            ContentType="text/html; charset=utf-8",
            CacheControl="public, max-age=60",
        )
    raw_s = time.perf_counter() - started
    ratio = (count / export_s) / (count / raw_s)
    row(
        f"guest export pages/s ÷ raw put_object/s ({count} pages)",
        f"{count / export_s:.0f} ÷ {count / raw_s:.0f} = {ratio:.2f}",
        "≥ 0.7",
        ratio >= 0.7,
    )
    row(
        f"  uploads / invalidation calls for {count} changed pages",
        f"{puts} / {invalidations}",
        f"{count} / 1",
        puts == count and invalidations == 1,
    )

    latency.reset()
    again = guest_pages_publish_bulk(booking_ids=ids)
    requests_made = sum(latency.counts.values())
    row(
        f"requests when re-publishing {count} unchanged pages",
        f"{requests_made} (unchanged: {again.unchanged})",
        "0",
        requests_made == 0,
    )


def bench_portal(quick: bool, port: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crew.models import CrewMember

    # CREW_003 works 1 charter, CREW_004 works 50: the portal must not grow with them.
    create_booking(crew=("CAP_001", "CREW_003"))
    for _ in range(50):
        create_booking(crew=("CAP_001", "CREW_004"))

    def queries(code: str) -> tuple[int, Client]:
        client = Client()
        client.force_login(CrewMember.objects.get(code=code).user)
        response = client.get("/crew/")
        assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as ctx:
            client.get("/crew/")
        return len(ctx.captured_queries), client

    q1, one = queries("CREW_003")
    q50, fifty = queries("CREW_004")
    row(
        "portal queries at 1 vs 50 assignments",
        f"{q1} vs {q50}",
        "equal, ≤ 6",
        q1 == q50 and q50 <= 6,
    )

    duration = 3 if quick else 6
    with gunicorn(port):
        base = f"http://127.0.0.1:{port}"
        load(f"{base}/bench/bare", connections=4, duration=1)  # warm both workers
        bare = load(f"{base}/bench/bare", connections=32, duration=duration)
        for count, client in ((1, one), (50, fifty)):
            cookie = f"Cookie: sessionid={client.cookies['sessionid'].value}"
            portal = load(f"{base}/crew/", connections=32, duration=duration, headers=[cookie])
            assert portal["statuses"].get("200", 0) == portal["requests"], portal
            ratio = portal["rps"] / bare["rps"]
            row(
                f"portal req/s ÷ bare view req/s ({count} assignment(s), 32 conns)",
                f"{portal['rps']:.0f} ÷ {bare['rps']:.0f} = {ratio:.2f}",
                "≥ 0.25",
                ratio >= 0.25,
            )
            row(
                f"  portal p95 ({count} assignment(s), 32 conns)",
                f"{portal['p95_ms']:.1f} ms (bare {bare['p95_ms']:.1f})",
                "≤ 25 ms",
                portal["p95_ms"] <= 25,
            )


def api_body(ref: str, start_day: int = 1) -> dict:
    return {
        "source": "boatsetter",
        "external_ref": ref,
        "event_type": "booking",
        "charter_date": f"2033-{1 + start_day // 28 % 12:02}-{1 + start_day % 28:02}",
        "start_time": "09:00",
        "duration_hours": 3,
        "gross_revenue": "840.75",
        "crew_cost": "250.00",
        "captain_cost": "150.00",
        "port_fee_percent": "18",
        "guest": {"name": "Jordan Avery", "email": "jordan@guest.example.com", "count": 4},
        "location": "Sheraton Hotel Dock",
        "captain_id": "CAP_001",
        "crew_assignments": [{"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5}],
        "notes": "bench",
    }


def bench_intake(quick: bool, port: int) -> None:
    body = json.dumps(api_body("BENCH-LOAD-{n}"))
    headers = [f"X-Dashboard-Token: {TOKEN}", "Content-Type: application/json"]
    duration = 3 if quick else 6
    with gunicorn(port):
        base = f"http://127.0.0.1:{port}"
        probe = load(
            f"{base}/api/bookings",
            connections=1,
            duration=0.5,
            method="POST",
            body=body,
            headers=headers,
        )
        assert probe["statuses"].get("201"), f"intake did not create: {probe}"
        bare = load(
            f"{base}/bench/bare-json",
            connections=16,
            duration=duration,
            method="POST",
            body=body,
            headers=headers,
        )
        intake = load(
            f"{base}/api/bookings",
            connections=16,
            duration=duration,
            method="POST",
            body=body,
            headers=headers,
        )
    flush_broker()  # no worker ran: drop the queued stages
    assert intake["statuses"].get("201", 0) == intake["requests"], intake
    ratio = intake["rps"] / bare["rps"]
    row(
        "intake API req/s ÷ bare JSON POST req/s (16 conns)",
        f"{intake['rps']:.0f} ÷ {bare['rps']:.0f} = {ratio:.2f}",
        "≥ 0.1",
        ratio >= 0.1,
    )
    row(
        "  intake p95 at 16 connections",
        f"{intake['p95_ms']:.1f} ms (bare {bare['p95_ms']:.1f})",
        "≤ 50 ms",
        intake["p95_ms"] <= 50,
    )


def bench_pipeline(quick: bool, latency: Latency) -> None:
    """Stages on a worker pool vs one after another (solo pool), with remote-like latency.

    The figure with the target is a batch: bookings saved together (as an import or a busy
    morning does), timed from their commit until every stage of every one has finished, so the
    pool runs stages of one booking and of different bookings side by side. The time per lone
    booking is printed beside it: there the chord's critical path (the guest page's upload,
    invalidation and email, then the summary) bounds what parallel stages can save.
    """
    from django.db import transaction

    batch = 5 if quick else 10
    count = 4 if quick else 10
    s3_ms, mail_ms = 60, 60
    latency.delay = s3_ms / 1000
    lone, batches = {}, {}
    try:
        for mode, args in (
            ("parallel", ["--pool=threads", "--concurrency=4"]),
            ("sequential", ["--pool=solo"]),
        ):
            flush_broker()
            with worker(f"pipeline-{mode}", *args, env={"BENCH_EMAIL_LATENCY_MS": str(mail_ms)}):
                wait_done([create_booking()], timeout=120)  # warm-up
                times = []
                for _ in range(count):
                    started = time.perf_counter()
                    booking_id = create_booking()
                    wait_done([booking_id], timeout=120)
                    times.append(time.perf_counter() - started)
                lone[mode] = statistics.median(times)
                # One transaction: every run is queued on its commit, at the same moment.
                with transaction.atomic():
                    ids = [create_booking() for _ in range(batch)]
                    started = time.perf_counter()
                wait_done(ids, timeout=300)
                batches[mode] = time.perf_counter() - started
    finally:
        latency.delay = 0
    ratio = batches["parallel"] / batches["sequential"]
    row(
        f"pipeline wall, parallel ÷ sequential ({batch} bookings, S3 {s3_ms}, mail {mail_ms} ms)",
        f"{batches['parallel'] * 1000:.0f} ÷ {batches['sequential'] * 1000:.0f} ms = {ratio:.2f}",
        "≤ 0.5",
        ratio <= 0.5,
    )
    ratio = lone["parallel"] / lone["sequential"]
    row(
        "  one booking alone, parallel ÷ sequential (median)",
        f"{lone['parallel'] * 1000:.0f} ÷ {lone['sequential'] * 1000:.0f} ms = {ratio:.2f}",
        "",
        None,
    )


def bench_memory(quick: bool) -> None:
    flush_broker()
    total = 200 if quick else 1_000
    with worker("memory", "--pool=threads", "--concurrency=4") as proc:
        first = [create_booking() for _ in range(10)]
        wait_done(first, timeout=120)
        rss_10 = proc.rss_kib()
        rest = [create_booking() for _ in range(total - 10)]
        wait_done(rest, timeout=600)
        rss_all = proc.rss_kib()
    ratio = rss_all / rss_10
    row(
        f"worker RSS after {total:,} ÷ after 10 bookings",
        f"{rss_all / 1024:.0f} ÷ {rss_10 / 1024:.0f} MiB = {ratio:.2f}",
        "≤ 1.2",
        ratio <= 1.2,
    )


def bench_burst(quick: bool, port: int) -> None:
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    from bookings.models import Booking

    flush_broker()
    total = 200 if quick else 1_000

    def post(i: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(
            "POST",
            "/api/bookings",
            body=json.dumps(api_body(f"BURST-{i}", start_day=i)),
            headers={"X-Dashboard-Token": TOKEN, "Content-Type": "application/json"},
        )
        status = conn.getresponse().status
        conn.close()
        return status

    import redis

    from jada.models import StageRun, StageState

    beat_schedule = VAR / "celerybeat-schedule"
    with (
        gunicorn(port),
        worker("burst-a", "--pool=threads", "--concurrency=4"),
        worker("burst-b", "--pool=threads", "--concurrency=4"),
    ):
        # Beat runs as in production (the Procfile): its sweeper requeues what never started.
        beat = Process(
            "beat", [str(BIN / "celery"), "-A", "jada", "beat", "-s", str(beat_schedule)]
        )
        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                statuses = Counter(pool.map(post, range(total)))
            posted = time.perf_counter() - started
            assert statuses == {201: total}, statuses
            ids = list(
                Booking.objects.filter(external_ref__startswith="BURST-").values_list(
                    "pk", flat=True
                )
            )
            # Stages still pending once the queue has been empty for 10 s never reached a worker.
            stages = StageRun.objects.filter(run__booking_id__in=ids)
            open_states = [StageState.PENDING, StageState.RUNNING]
            stranded, quiet_since = None, None
            with redis.Redis.from_url(REDIS_URL) as broker:
                deadline = time.monotonic() + 600
                while stages.filter(state__in=open_states).exists():
                    assert time.monotonic() < deadline, "burst not done in 600 s"
                    if stranded is None and broker.llen("celery") == 0:
                        quiet_since = quiet_since or time.monotonic()
                        if time.monotonic() - quiet_since > 10:
                            stranded = stages.filter(state=StageState.PENDING).count()
                    else:
                        quiet_since = None
                    time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            beat.stop()
    row(
        f"burst of {total:,} bookings via the API, 2 workers: all stages done",
        f"{elapsed:.1f} s (posted in {posted:.1f} s)",
        "≤ 60 s",
        elapsed <= 60,
    )
    failed = stages.filter(state=StageState.FAILED).count()
    repeated = stages.filter(attempts__gt=1).count()
    row(
        "  burst stages failed / run more than once",
        f"{failed} / {repeated} of {stages.count()}",
        "0 / 0",
        failed == 0 and repeated == 0,
    )
    if stranded:
        row(
            "  stages whose message never reached a worker (sweeper requeued)",
            f"{stranded} of {stages.count()}",
            "0",
            False,
        )


FIGURES = ("admin", "export", "portal", "intake", "pipeline", "memory", "burst", "dispatch")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=FIGURES, default=list(FIGURES))
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    options = parser.parse_args()

    missing = [
        n for n, p in (("PostgreSQL", 5432), ("Redis", 6379)) if not reachable("127.0.0.1", p)
    ]
    if missing:
        print(f"bench needs {' and '.join(missing)} on 127.0.0.1 (see .ci/run to start them)")
        return 2

    moto_url, latency = start_moto()
    web_port = free_port()
    environment(moto_url, web_port)
    create_aws(moto_url)
    recreate_database()
    flush_broker()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # moto's server logs each request through werkzeug; the settings' LOGGING revived it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    seed()

    print(f"JADA benchmarks — {platform.node()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  {'figure':<58} {'measured':<28} {'target':<16}")
    for name in options.only:
        try:
            if name == "admin":
                bench_admin(options.quick)
            elif name == "export":
                bench_export(options.quick, moto_url, latency)
            elif name == "portal":
                bench_portal(options.quick, web_port)
            elif name == "intake":
                bench_intake(options.quick, web_port)
            elif name == "pipeline":
                bench_pipeline(options.quick, latency)
            elif name == "memory":
                bench_memory(options.quick)
            elif name == "burst":
                bench_burst(options.quick, web_port)
            elif name == "dispatch":
                from bench.dispatch import bench_dispatch

                bench_dispatch(options.quick, row=row, worker=worker, create_booking=create_booking)
        except Exception as e:
            row(f"{name}", f"not measured: {type(e).__name__}", "", None)
            NOTES.append(f"{name}: {type(e).__name__}: {e}".splitlines()[0][:300])
            traceback.print_exc(limit=3, file=sys.stderr)
    write_results(options)
    return 0


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, StopIteration):
        kib = int(
            next(
                line
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            ).split()[1]
        )
        mem = f", {kib / 1024 / 1024:.0f} GiB"
    return (
        f"{platform.node()}: {os.cpu_count()} x {cpu}{mem}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}"
    )


def write_results(options) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    import redis

    redis_version = redis.Redis.from_url(REDIS_URL).info()["redis_version"]
    lines = [
        "# Benchmark results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Services: PostgreSQL {pg_version}, Redis {redis_version}, moto (S3, CloudFront)",
        f"- Command: `make bench`{' (--quick)' if options.quick else ''}",
        "",
        "| figure | measured | target | |",
        "| --- | --- | --- | --- |",
    ]
    for r in ROWS:
        mark = {True: "ok", False: "**missed**", None: ""}[r.ok]
        lines.append(f"| {r.figure.strip()} | {r.value} | {r.target} | {mark} |")
    if NOTES:
        lines += ["", "Not measured:", "", *(f"- {n}" for n in NOTES)]
    lines += [
        "",
        (ROOT / "bench" / "NOTES.md").read_text() if (ROOT / "bench" / "NOTES.md").exists() else "",
    ]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines).rstrip() + "\n")
    print(f"\nwrote {ROOT / 'bench' / 'RESULTS.md'}")


if __name__ == "__main__":
    sys.exit(main())
