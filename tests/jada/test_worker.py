"""The pipeline in a real Celery worker on the machine's Redis, with the moto S3/CloudFront server.

The worker runs in a thread of this process (celery.contrib.testing.worker.start_worker): it
shares the test database (committed rows: transaction=True) and the locmem mail outbox. They
need PostgreSQL and Redis: CI has both (.ci/run); elsewhere they skip with the reason.
"""

from __future__ import annotations

import gc
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterator

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection

from guests.models import GuestPage
from jada import pipeline, tasks
from jada.celery import app as celery_app
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.settings import guest_pages_storage
from tests.jada.intake_support import new_token, post, write_up
from tests.workers import require_service

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    # Celery's Redis result backend still calls setex, which redis-py deprecates.
    pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning"),
]

CONF_KEYS = ("broker_url", "result_backend", "task_always_eager", "worker_hijack_root_logger")


def forget_connections(app) -> None:
    """Close and drop the app's broker pool and result backend, so new URLs take effect."""
    # Finalised results unsubscribe through the backend: let them, before it is closed. The
    # worker thread's own backend (thread-local, gone with the thread) is collected here too.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    # kombu keeps one pool per URL for the process: close them all and forget them.
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    backends = {id(b): b for b in (app._backend_cache, app._local.__dict__.get("backend")) if b}
    for backend in backends.values():
        consumer = getattr(backend, "result_consumer", None)
        if getattr(consumer, "_pubsub", None) is not None:
            consumer.stop()
            consumer._pubsub = None  # or a late AsyncResult.__del__ reconnects to unsubscribe
        client = backend.__dict__.get("client")
        if client is not None and hasattr(client, "connection_pool"):
            client.connection_pool.disconnect()
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def flush(url: str) -> None:
    import redis

    with redis.Redis.from_url(url) as client:
        client.flushdb()


@pytest.fixture
def redis_url() -> str:
    import redis

    url = os.environ.get("JADA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as e:
        require_service("redis", f"{url}: {e}")
    return url


@pytest.fixture
def on_redis(redis_url, settings) -> Iterator[str]:
    """This process's Celery app on the test Redis (emptied before and after), not eager."""

    if connection.vendor != "postgresql":
        # SQLite's shared in-memory test database locks whole tables across threads.
        require_service("postgresql", "a worker thread needs a real database (DATABASE_URL)")

    saved = {key: celery_app.conf[key] for key in CONF_KEYS}
    celery_app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        task_always_eager=False,
        worker_hijack_root_logger=False,
    )
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = redis_url
    # Retries in fractions of a second instead of 10 s and up.
    settings.PIPELINE_RETRY_BASE_SECONDS = 0.4
    settings.PIPELINE_RETRY_MAX_SECONDS = 1
    forget_connections(celery_app)
    flush(redis_url)
    try:
        yield redis_url
    finally:
        celery_app.conf.update(saved)
        forget_connections(celery_app)
        flush(redis_url)


@pytest.fixture
def worker(on_redis):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w:
        yield w


@pytest.fixture
def ready(dock, roster, templates):
    """The write-up's dock, roster and checklist templates."""


def wait_for(
    condition: Callable[[], object],
    what: str,
    timeout: float = 30,
    beat: Callable[[], object] | None = None,
) -> None:
    """Poll `condition`; `beat`, if given, runs every few seconds as Celery beat would."""
    deadline = time.monotonic() + timeout
    next_beat = time.monotonic() + 3
    while not condition():
        if time.monotonic() > deadline:
            rows = list(StageRun.objects.values_list("stage", "state", "attempts", "last_error"))
            raise AssertionError(f"timed out waiting for {what}: {rows}")
        if beat is not None and time.monotonic() > next_beat:
            beat()
            next_beat = time.monotonic() + 3
        time.sleep(0.05)


def outside(booking_id: int) -> dict[str, StageRun]:
    stages = StageRun.objects.filter(
        run__booking_id=booking_id, stage__in=pipeline.OUTSIDE_STAGES
    ).order_by("run_id")
    return {s.stage: s for s in stages}


def all_succeeded(booking_id: int) -> bool:
    stages = outside(booking_id)
    return len(stages) == 3 and all(s.state == StageState.SUCCEEDED for s in stages.values())


def emails() -> dict[str, int]:
    counts = {"crew": 0, "guest": 0, "operator": 0}
    for message in mail.outbox:
        to = message.to[0]
        if to in django_settings.OPERATOR_EMAILS:
            counts["operator"] += 1
        elif to.endswith("@crew.example.com"):
            counts["crew"] += 1
        else:
            counts["guest"] += 1
    return counts


def s3_puts(moto_requests) -> list:
    return [r for r in moto_requests if r.service == "s3" and r.method == "PUT"]


def test_a_booking_posted_to_the_api_completes_every_stage_in_the_worker(
    client, ready, s3_guest_storage, moto_requests, worker, settings
):
    # Production runs the sweeper from beat; here it runs every few seconds with a short
    # staleness, so a chord callback lost with the broker's message still completes the run.
    settings.PIPELINE_STALE_AFTER_SECONDS = 2
    response = post(client, write_up(), token=new_token())
    assert response.status_code == 201, response.content
    booking_id = response.json()["id"]

    wait_for(lambda: all_succeeded(booking_id), "every stage to succeed", beat=pipeline.resume)

    run = PipelineRun.objects.get(booking_id=booking_id)
    assert run.dispatched_at is not None
    wait_for(lambda: PipelineRun.objects.get(pk=run.pk).finished_at, "the run to finish")
    assert emails() == {"crew": 3, "guest": 1, "operator": 1}
    page = GuestPage.objects.get(booking_id=booking_id)
    stored = s3_guest_storage.s3().get_object(Bucket=s3_guest_storage.bucket, Key=page.object_name)
    assert b"Jordan" in stored["Body"].read()
    assert stored["ContentType"] == "text/html; charset=utf-8"
    [invalidation] = s3_guest_storage.invalidations()
    assert set(invalidation["InvalidationBatch"]["Paths"]["Items"]) == {
        page.path,
        f"/{page.object_name}",
    }
    assert len(s3_puts(moto_requests)) == 1
    assert all(s.attempts == 1 for s in outside(booking_id).values())


def test_a_stage_delivered_twice_sends_nothing_twice(client, ready, worker):
    response = post(client, write_up(), token=new_token())
    booking_id = response.json()["id"]
    wait_for(lambda: all_succeeded(booking_id), "every stage to succeed")
    sent = emails()
    crew = outside(booking_id)[Stage.CREW_NOTIFY]
    summary = outside(booking_id)[Stage.SUMMARY]

    # Redelivery of the same message (acks_late after a lost worker): the row says succeeded.
    assert tasks.run_stage.delay(crew.pk).get(timeout=10) == "succeeded"
    # And the stage run again for real (the row reset, as the operator's retry does).
    StageRun.objects.filter(pk=crew.pk).update(state=StageState.PENDING)
    assert tasks.run_stage.delay(crew.pk).get(timeout=10) == "succeeded"
    assert tasks.run_stage.delay(summary.pk).get(timeout=10) == "succeeded"

    assert emails() == sent
    crew.refresh_from_db()
    assert (crew.attempts, crew.detail) == (2, "0 crew email(s) sent")


def test_an_unreachable_s3_fails_only_the_guest_stage_which_succeeds_once_it_is_back(
    client, ready, settings, s3_guest_storage, moto_requests, worker, monkeypatch
):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # no botocore retries: ours are the point
    working = settings.STORAGES["guest_pages"]
    settings.STORAGES = {
        **settings.STORAGES,
        "guest_pages": guest_pages_storage(
            bucket=s3_guest_storage.bucket, endpoint_url=f"http://127.0.0.1:{closed_port()}"
        ),
    }
    response = post(client, write_up(), token=new_token())
    assert response.status_code == 201
    booking_id = response.json()["id"]

    def guest_failed() -> bool:
        stage = outside(booking_id)[Stage.GUEST_PUBLISH]
        # Failed for now, its next attempt scheduled: retrying.
        return stage.state == StageState.RETRYING and stage.attempts >= 1

    wait_for(guest_failed, "the guest stage to fail and wait for its retry")
    stage = outside(booking_id)[Stage.GUEST_PUBLISH]
    assert stage.last_error.startswith("EndpointConnectionError")
    assert stage.next_attempt_at is not None  # the task's own retry is scheduled
    wait_for(
        lambda: outside(booking_id)[Stage.CREW_NOTIFY].state == StageState.SUCCEEDED,
        "the crew stage",
    )
    assert emails()["crew"] == 3

    # S3 is back.
    settings.STORAGES = {**settings.STORAGES, "guest_pages": working}
    wait_for(lambda: all_succeeded(booking_id), "the guest stage to succeed on a retry")

    stage = outside(booking_id)[Stage.GUEST_PUBLISH]
    assert stage.attempts >= 2 and stage.last_error.startswith("EndpointConnectionError")
    assert len(s3_puts(moto_requests)) == 1
    assert len(s3_guest_storage.invalidations()) == 1
    assert emails() == {"crew": 3, "guest": 1, "operator": 1}
    # The summary waited for the retry and says how it went.
    [summary] = [m for m in mail.outbox if m.to == django_settings.OPERATOR_EMAILS]
    assert f"Guest page publish: Succeeded after {stage.attempts} attempts" in summary.body


def test_a_save_while_the_broker_is_down_is_completed_by_the_sweeper(
    client, ready, settings, on_redis, worker
):
    down = f"redis://127.0.0.1:{closed_port()}/0"
    celery_app.conf.broker_url = down
    forget_connections(celery_app)
    started = time.monotonic()
    response = post(client, write_up(), token=new_token())
    elapsed = time.monotonic() - started
    celery_app.conf.broker_url = on_redis
    forget_connections(celery_app)

    assert response.status_code == 201 and elapsed < 5, elapsed
    booking_id = response.json()["id"]
    run = PipelineRun.objects.get(booking_id=booking_id)
    assert run.dispatched_at is None
    time.sleep(0.5)
    assert mail.outbox == []  # nothing reached the worker

    # The beat task, through the broker and the worker, once the run counts as stale.
    settings.PIPELINE_STALE_AFTER_SECONDS = 0
    assert tasks.resume_pipelines.delay().get(timeout=10) == 3
    wait_for(lambda: all_succeeded(booking_id), "the sweeper's run to complete")
    assert emails() == {"crew": 3, "guest": 1, "operator": 1}
    assert PipelineRun.objects.get(pk=run.pk).dispatched_at is not None
