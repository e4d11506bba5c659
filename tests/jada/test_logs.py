"""No log line prints a calendar feed's token, and a request's path cannot forge a log line."""

from __future__ import annotations

import hashlib
import http.client
import io
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jada.lib.logs import path_for_log
from tests.environments import PROCFILE, ROOT, clean_env

FEED_TOKEN = "FeedS3cretT0ken"  # made up: the logs must not show it
VESSEL_TOKEN = "VesselS3cretT0ken"
PORT = 8155  # this suite's own port


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:8]


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"/crew/feed/{FEED_TOKEN}.ics", f"/crew/feed/[{digest(FEED_TOKEN)}].ics"),
        (
            f"/calendar/vessels/{VESSEL_TOKEN}.ics",
            f"/calendar/vessels/[{digest(VESSEL_TOKEN)}].ics",
        ),
        (f"/calendar/{VESSEL_TOKEN}", f"/calendar/[{digest(VESSEL_TOKEN)}]"),
        (f"//Calendar//x/{VESSEL_TOKEN}.ics", None),
        (f"/CREW//FEED/{FEED_TOKEN}.ics", None),
        ('/crew/\n1.2.3.4 - "GET /admin/" 200', "/crew/\\x0a1.2.3.4 - \\x22GET /admin/\\x22 200"),
        ("/crew/\r\x1b[2J\u2028\x85", "/crew/\\x0d\\x1b[2J\\x2028\\x85"),
        ("/crew/assignments/3/", "/crew/assignments/3/"),
    ],
)
def test_feed_tokens_are_hashed_and_controls_escaped(path, shown):
    logged = path_for_log(path)
    assert FEED_TOKEN not in logged and VESSEL_TOKEN not in logged
    assert "\n" not in logged and "\r" not in logged
    if shown is not None:
        assert logged == shown


@pytest.mark.django_db
def test_django_s_not_found_warning_prints_no_feed_token(client):
    # The console handler the settings configure, not pytest's capture: what operators read.
    handler = next(h for h in logging.getLogger("django").handlers if h.name == "console")
    stream = io.StringIO()
    saved = handler.setStream(stream)
    try:
        for path in (f"/crew/feed/{FEED_TOKEN}.ics", f"/calendar/vessels/{VESSEL_TOKEN}.ics"):
            assert client.get(path).status_code == 404
    finally:
        handler.setStream(saved)
    text = stream.getvalue()
    assert f"Not Found: /crew/feed/[{digest(FEED_TOKEN)}].ics" in text
    assert f"Not Found: /calendar/vessels/[{digest(VESSEL_TOKEN)}].ics" in text
    assert FEED_TOKEN not in text and VESSEL_TOKEN not in text


def raw_get(path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", "127.0.0.1")
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


def test_the_procfile_s_web_process_logs_no_token_and_one_line_per_request(tmp_path):
    env = clean_env(tmp_path, {"DEBUG": "1", "PORT": str(PORT), "WEB_CONCURRENCY": "1"})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    processes = dict(line.split(":", 1) for line in PROCFILE.splitlines() if ":" in line)
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        web = subprocess.Popen(
            # No control socket: its default path is shared by every gunicorn of this user.
            ["bash", "-c", f"exec {processes['web'].strip()} --no-control-socket"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                raw_get("/crew/login/")
                break
            except OSError:
                if web.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start: {err.read_text()}")
                time.sleep(0.2)
        assert raw_get(f"/crew/feed/{FEED_TOKEN}.ics?t=1") == 404
        assert raw_get(f"/calendar/vessels/{VESSEL_TOKEN}.ics") == 404
        assert raw_get(f"//calendar/vessels/{VESSEL_TOKEN}.ics") == 404
        # An escaped line break in the path would write a second, made-up line.
        assert raw_get("/crew/%0A6.6.6.6%20-%20%22GET%20/admin/%22%20200") == 404
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    access, errors = out.read_text(), err.read_text()
    lines = access.splitlines()
    assert len(lines) == 5, access  # the start-up probe and the four requests
    assert f'"GET /crew/feed/[{digest(FEED_TOKEN)}].ics" 404' in lines[1]
    assert f'"GET /calendar/vessels/[{digest(VESSEL_TOKEN)}].ics" 404' in lines[2]
    assert lines[4].split('"')[1] == "GET /crew/\\x0a6.6.6.6 - \\x22GET /admin/\\x22 200"
    assert not any(line.startswith("6.6.6.6") for line in lines)
    # Django's "Not Found" warnings go to the error stream: no token there either.
    assert f"Not Found: /crew/feed/[{digest(FEED_TOKEN)}].ics" in errors
    for text in (access, errors):
        assert FEED_TOKEN not in text and VESSEL_TOKEN not in text
