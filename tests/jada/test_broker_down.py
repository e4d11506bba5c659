"""Redis down: the request that saves a booking waits well under a second, the sweeper queues it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from jada import pipeline
from jada.celery import app as celery_app
from jada.models import PipelineRun
from tests.jada.intake_support import new_token, post, write_up
from tests.workers import forget_connections, redis_url


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed once the block ends


@pytest.fixture
def celery_on(settings) -> Iterator:
    """Point Celery at (broker, result backend) URLs for the test, and back."""
    saved = {k: celery_app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}

    def use(broker: str, backend: str) -> None:
        celery_app.conf.update(broker_url=broker, result_backend=backend, task_always_eager=False)
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND = broker, backend
        forget_connections(celery_app)

    yield use
    celery_app.conf.update(saved)
    forget_connections(celery_app)


@pytest.mark.parametrize("down", ["result backend", "broker and result backend"])
def test_a_save_waits_under_a_second_for_a_down_redis_and_the_sweeper_queues_it(
    client, dock, roster, templates, celery_on, django_capture_on_commit_callbacks, down
):
    up = redis_url()
    with redis.Redis.from_url(up) as r:
        r.flushdb()
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    celery_on(dead if down.startswith("broker") else up, dead)
    token = new_token()

    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        response = post(client, write_up(), token=token)
    assert response.status_code == 201, response.content
    # What the request does after its commit is queueing the run: time that part alone (the
    # save itself takes what it takes on a busy test machine).
    started = time.monotonic()
    for callback in after_commit:
        callback()
    elapsed = time.monotonic() - started
    assert elapsed < 1, f"the request waited {elapsed:.1f} s for a dead Redis"
    run = PipelineRun.objects.get()
    assert run.dispatched_at is None

    # Redis is back: the sweeper (beat, every minute) queues the run that never started.
    celery_on(up, up)
    later = timezone.now() + timedelta(minutes=5)
    assert pipeline.resume(now=later) == 3
    run.refresh_from_db()
    assert run.dispatched_at is not None
    with redis.Redis.from_url(up) as r:
        assert r.llen("celery") >= 1  # the stages wait on the broker for a worker


def test_the_readme_says_how_the_worker_is_supervised_and_restarted():
    from tests.environments import README

    processes = README.split("Processes (the", 1)[1].split("Services:", 1)[0]
    assert "celery -A jada worker" in processes
    assert "Restart=always" in processes and "restarts it when it exits" in processes
    assert "Unrecoverable error" in processes


def test_a_task_lost_with_its_worker_comes_back_in_minutes(settings):
    # Redis hands an unacknowledged task to another worker after the visibility timeout (its
    # default is an hour); a task waiting for its retry's countdown is unacknowledged too.
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
    assert settings.PIPELINE_RETRY_MAX_SECONDS < visibility <= 15 * 60
    # The sweeper takes back a stage left `running` by a dead worker as soon.
    assert settings.PIPELINE_STUCK_AFTER_SECONDS <= 5 * 60
