"""Pointing the test process's Celery app at a real Redis broker, and back."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings


def require_service(name: str, reason: str) -> None:
    """Skip locally when a service is missing; fail in CI, where it must be there."""
    if settings.REQUIRE_SERVICES or os.environ.get("CI"):
        pytest.fail(f"{name} is required here but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


def redis_url() -> str:
    """JADA_TEST_REDIS_URL, reachable; skips locally (fails in CI) otherwise."""
    import redis

    url = os.environ.get("JADA_TEST_REDIS_URL", "")
    if not url:
        require_service("redis", "JADA_TEST_REDIS_URL is not set")
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as e:
        require_service("redis", f"{url}: {e}")
    return url


def forget_connections(app) -> None:
    """Drop the app's cached broker pool and result backend, so new settings take effect."""
    from kombu import pools

    # kombu keeps connection and producer pools per broker URL process-wide: a pool closed here
    # would otherwise be handed out again to the next test on the same URL.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    for backend in (app._backend_cache, app._local.__dict__.get("backend")):
        # The Redis backend holds a client and, once a result was asked for, a pub/sub socket.
        consumer = getattr(backend, "result_consumer", None)
        if consumer is not None and hasattr(consumer, "stop"):
            consumer.stop()
        pool = getattr(getattr(backend, "client", None), "connection_pool", None)
        if pool is not None:
            pool.disconnect()
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@contextmanager
def broker(url: str, settings) -> Iterator[None]:
    """Tasks go to `url` (emptied first) instead of running eagerly in this process."""
    import redis

    from jada.celery import app

    saved = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    forget_connections(app)
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    try:
        yield
    finally:
        app.conf.update(saved)
        forget_connections(app)
        # Results the test asked for left pub/sub sockets behind in dropped backends: collect
        # them now, quietly, rather than as unraisable warnings at the end of the session.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


ROOT = Path(__file__).resolve().parents[1]


def database_url(settings) -> str:
    """The test database as a URL, for worker processes (PostgreSQL only: they share it)."""
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@contextmanager
def worker_processes(
    names: list[str], env: dict[str, str], logs: Path, *, concurrency: int = 4
) -> Iterator[list[Path]]:
    """`celery -A jada worker` processes (threads pool), ready before this yields their logs."""
    celery = Path(sys.executable).with_name("celery")
    files = [logs / f"worker-{name}.log" for name in names]
    procs = []
    for name, log in zip(names, files, strict=True):
        with log.open("w") as out:
            procs.append(
                subprocess.Popen(
                    [
                        str(celery),
                        "-A",
                        "jada",
                        "worker",
                        f"--hostname={name}@%h",
                        "--pool=threads",
                        f"--concurrency={concurrency}",
                        "--loglevel=INFO",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    cwd=ROOT,
                    env={**os.environ, **env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + 60
        while not all("ready." in log.read_text(errors="replace") for log in files):
            assert time.monotonic() < deadline, [
                log.read_text(errors="replace")[-2000:] for log in files
            ]
            assert all(p.poll() is None for p in procs), [
                log.read_text(errors="replace") for log in files
            ]
            time.sleep(0.2)
        yield files
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
