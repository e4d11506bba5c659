"""The retry policy of the outside-world stages: which errors are worth another try, and when.

* A transient error (SMTP, the network, S3 or CloudFront throttling and 5xx, a webhook timeout
  or 5xx, a database lock) is retried by the stage's task itself, PIPELINE_TASK_RETRIES (5)
  times with exponential backoff and jitter: about 10, 20, 40, 80 and 160 s. Meanwhile the stage
  shows `retrying` with its error and `next_attempt_at` (`failed` is for what waits for the
  operator). If the operator's summary said it failed or was retrying, a later success of the
  stage sends a note that it recovered.
* When those are used up the sweeper takes over: it queues the stage again after a longer
  backoff (15 min, doubling, at most 6 h) until the stage has had PIPELINE_MAX_ATTEMPTS (30)
  attempts; after that only the operator retries it (admin action "retry failed stages").
* A permanent error (anything else: an address refused for good, a 4xx answer, a missing crew
  event, a bug) fails the stage at once; only the operator retries it.
* In eager mode (no broker) a task never retries in-process, so a request is never held up by
  an outage: the retrying stage waits for `manage.py resume_pipelines` or the operator.

`due_reasons()` is the one statement of when the sweeper queues a stage again.
"""

from __future__ import annotations

import random
import smtplib
from datetime import datetime, timedelta

import botocore.exceptions
import requests
from django import db
from django.conf import settings
from django.db.models import Q

from jada.models import StageState


def task_retries() -> int:
    """How often a stage's task retries a transient error itself before the sweeper takes over."""
    return int(settings.PIPELINE_TASK_RETRIES)


def max_attempts() -> int:
    """Attempts after which only the operator retries a stage."""
    return int(settings.PIPELINE_MAX_ATTEMPTS)


def stale_after() -> timedelta:
    """How long a queued stage may wait for a worker before the sweeper queues it again."""
    return timedelta(seconds=settings.PIPELINE_STALE_AFTER_SECONDS)


def stuck_after() -> timedelta:
    """A stage `running` for longer than this was lost with its worker."""
    return timedelta(seconds=settings.PIPELINE_STUCK_AFTER_SECONDS)


def _jittered(seconds: float) -> float:
    # "Equal jitter": at least half the backoff, so retries of a burst spread out but never bunch.
    return seconds / 2 + random.uniform(0, seconds / 2)


def task_backoff(retry: int) -> float:
    """Seconds before the task's own retry number `retry` + 1 (about 10, 20, 40, 80, 160 s)."""
    base = settings.PIPELINE_RETRY_BASE_SECONDS
    return _jittered(min(settings.PIPELINE_RETRY_MAX_SECONDS, base * 2**retry))


def sweep_backoff(attempts: int) -> float:
    """Seconds before the sweeper retries a stage whose task gave up (15 min doubling, ≤ 6 h)."""
    rounds = max(0, -(-attempts // (task_retries() + 1)) - 1)
    base = settings.PIPELINE_SWEEP_BACKOFF_SECONDS
    return _jittered(min(settings.PIPELINE_SWEEP_BACKOFF_MAX_SECONDS, base * 2**rounds))


def next_attempt(
    exc: BaseException, *, attempt: int, retries: int | None, at: datetime
) -> tuple[float | None, datetime | None]:
    """(seconds until the task's own retry, when the next attempt is due) after `exc`.

    (None, None): nobody retries it but the operator.
    """
    if not is_transient(exc):
        return None, None
    if retries is not None and retries < task_retries():
        retry_in = task_backoff(retries)
        return retry_in, at + timedelta(seconds=retry_in)
    if attempt < max_attempts():
        return None, at + timedelta(seconds=sweep_backoff(attempt))
    return None, None


# Error codes of AWS (S3, CloudFront) that mean "later", not "never".
AWS_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "TooManyInvalidationsInProgress",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
    }
)


def is_transient(exc: BaseException) -> bool:
    """Whether a later try may succeed: network, SMTP, throttling, 5xx; not bad data or bugs."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False  # every address refused: retrying sends nothing new
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code < 500  # 4xx: try again later; 5xx: refused for good
    if isinstance(exc, smtplib.SMTPException):
        return True  # disconnected and the like
    if isinstance(exc, requests.RequestException):
        # Before OSError: every requests error is one, a 4xx answer included.
        if isinstance(exc, requests.HTTPError):
            status = exc.response.status_code if exc.response is not None else 500
            return status >= 500 or status == 429
        return isinstance(exc, requests.Timeout | requests.ConnectionError)
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return error.get("Code") in AWS_TRANSIENT_CODES or status >= 500 or status == 429
    if isinstance(exc, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError):
        return True  # EndpointConnectionError, timeouts, connections closed
    if isinstance(exc, db.OperationalError | db.InterfaceError):
        return True  # a lock timeout, a deadlock, a connection lost
    return isinstance(exc, OSError)  # ConnectionError, TimeoutError, socket errors


# --- When a stage is due ---------------------------------------------------------------------


def never_dispatched(now: datetime, *, run: str = "run__") -> Q:
    """Runs (through `run`, the lookup prefix) not queued for PIPELINE_STALE_AFTER_SECONDS."""
    return Q(**{f"{run}dispatched_at__isnull": True, f"{run}created_at__lte": now - stale_after()})


def stuck_running(now: datetime) -> Q:
    """Stages a worker started longer than `stuck_after()` ago: it died with them."""
    return Q(state=StageState.RUNNING, started_at__lte=now - stuck_after())


def due_reasons(now: datetime) -> dict[str, Q]:
    """Why the sweeper queues a stage row now → the rows it applies to, first match wins."""
    stale = now - stale_after()
    return {
        "never dispatched": Q(state=StageState.PENDING) & never_dispatched(now),
        "queued but never started": Q(state=StageState.PENDING, run__dispatched_at__lte=stale),
        # The margin lets a task's own scheduled retry run first.
        "retry due": Q(
            state__in=[StageState.RETRYING, StageState.FAILED], next_attempt_at__lte=stale
        ),
        "stuck running": stuck_running(now),
    }


def settled() -> Q:
    """Stages nothing more will happen to without the sweeper or the operator."""
    return Q(state__in=[StageState.SUCCEEDED, StageState.SKIPPED]) | Q(
        state=StageState.FAILED, next_attempt_at__isnull=True
    )
