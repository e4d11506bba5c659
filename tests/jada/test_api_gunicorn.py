"""The intake behind the real front server: gunicorn hands Django a chunked body, which is read.

gunicorn serves the app in a subprocess on the PostgreSQL test database (so it sees the rows
this test commits); the request goes over a socket with `Transfer-Encoding: chunked`.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from bookings.models import Booking
from tests.jada.intake_support import new_token, write_up
from tests.workers import ROOT, database_url, require_service

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@contextmanager
def gunicorn(env: dict[str, str | None], log: Path) -> Iterator[int]:
    """`gunicorn jada.wsgi` on a free port, ready before this yields the port (None unsets)."""
    environ = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    binary = Path(sys.executable).with_name("gunicorn")
    command = [str(binary), "jada.wsgi", "--bind", "127.0.0.1:0", "--workers", "1"]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        # The worker imports the app after the arbiter listens; the first request waits for it.
        yield int(found.group(1))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_chunked(port: int, body: bytes, token: str) -> tuple[int, dict]:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        pieces = iter([body[:100], body[100:]])  # an iterable body: http.client sends chunks
        connection_.request(
            "POST",
            "/api/bookings",
            body=pieces,
            headers={
                "Content-Type": "application/json",
                "X-Dashboard-Token": token,
                "X-Forwarded-Proto": "https",  # as the TLS proxy in front of gunicorn says
            },
            encode_chunked=True,
        )
        response = connection_.getresponse()
        content = response.read()
        return response.status, json.loads(content) if content else {"raw": content}
    finally:
        connection_.close()


def test_gunicorn_hands_over_a_chunked_body_and_it_is_read(
    settings, tmp_path, dock, roster, templates
):
    if connection.vendor != "postgresql":
        require_service("postgresql", "a server process needs a shared database (DATABASE_URL)")
    token = new_token()
    env: dict[str, str | None] = {
        "DATABASE_URL": database_url(settings),
        "JADA_VAR_DIR": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": "chunked-test-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env[name] = None  # unset: the pipeline runs in the request, as with the embedded defaults

    log = tmp_path / "gunicorn.log"
    with gunicorn(env, log) as port:
        status, doc = post_chunked(port, json.dumps(write_up()).encode(), token)

    assert status == 201, (doc, log.read_text()[-3000:])
    assert Booking.objects.get(pk=doc["id"]).external_ref == "BS-2030-0530"
