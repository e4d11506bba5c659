"""The benchmark's services: PostgreSQL, Redis, moto, gunicorn, Celery workers, the load client."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
# A database of its own: the benchmark drops and creates it.
DB_NAME = os.environ.get("BENCH_DATABASE", "jada_bench")
# A Redis database of its own: the benchmark empties it, and a test run sharing it would take
# (and lose) the benchmark's messages. Tests use JADA_TEST_REDIS_URL (CI: database 15). The
# cache (sessions, the portal's cards) shares it, as production may share one Redis.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105 (a local test token)
VAR = Path(tempfile.mkdtemp(prefix="jada-bench-"))


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
            "CACHE_URL": REDIS_URL,
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
    if kw.get("first_start"):
        args += ["--first-start", kw["first_start"]]
    out = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
