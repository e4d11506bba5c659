"""Pointing the test process's Celery app at a real Redis broker, and back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import require_service


def redis_url() -> str:
    """JADA_TEST_REDIS_URL, reachable; skips locally (fails in CI) otherwise."""
    import redis

    url = os.environ.get("JADA_TEST_REDIS_URL", "")
    if not url:
        require_service("redis", "JADA_TEST_REDIS_URL is not set")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as e:
        require_service("redis", f"{url}: {e}")
    return url


def forget_connections(app) -> None:
    """Drop the app's cached broker pool and result backend, so new settings take effect."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
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
    redis.Redis.from_url(url).flushdb()
    try:
        yield
    finally:
        app.conf.update(saved)
        forget_connections(app)
