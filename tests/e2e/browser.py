"""Browser tests: Debian's Chromium through Playwright, a live server, and a real Celery worker.

Fixtures for the whole suite (registered by `pytest_plugins` in tests/conftest.py) and the
helpers the browser tests import.

The worker runs in a thread of this process against Redis (`JADA_TEST_REDIS_URL`), so it shares
the test database, the live server's settings and `mail.outbox`; without Redis the stages run
eagerly (locally only: CI sets the URL).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.utils import parseaddr
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection

from tests.factories import write_up
from tests.workers import broker, database_url, redis_url, require_service, worker_processes

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


# Module scope: Playwright's sync API keeps an event loop current while it is open, and the
# async-safety switch below must not outlive the browser tests (check --deploy refuses it).
@pytest.fixture(scope="module")
def browser() -> Iterator:
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(executable, os.X_OK):
        require_service("chromium", f"{executable} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are
    # still synchronous and safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def phone(browser):
    """A phone-sized browser context (the crew read the portal on the dock)."""
    # bypass_csp: the guest page's strict policy (default-src 'none') would refuse axe's script.
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, bypass_csp=True
    )
    yield context
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield context
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def admin_sign_in(page, base: str, user: str) -> None:
    """Sign in to the admin as a conftest user (their password is pw-<username>)."""
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", user)
    page.fill("#id_password", f"pw-{user}")
    page.get_by_role("button", name=re.compile("log in", re.IGNORECASE)).click()
    page.wait_for_load_state()


def no_horizontal_scroll(page) -> bool:
    """Neither the page nor a list's own table scrolls sideways."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth && "
        "[...document.querySelectorAll('#changelist-form .results')]"
        ".every(r => r.scrollWidth <= r.clientWidth)"
    )


def axe_violations(page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core (from the npm registry, node_modules/) in the page; serious and worse."""
    if not AXE.exists():
        require_service("axe-core", f"{AXE} missing: run `npm ci` (make test does)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["html"][:200] for n in v["nodes"][:3]],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


@dataclass
class Pipeline:
    """Where the stages run, and the emails they sent as (recipient, plain-text body)."""

    mode: str
    outbox: Path | None = None

    def emails(self) -> list[tuple[str, str]]:
        if self.outbox is None:
            return [(to, m.body) for m in mail.outbox for to in m.to]
        found = []
        for path in sorted(self.outbox.glob("*.log")):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if not chunk.strip():
                    continue
                message = message_from_bytes(chunk)
                text = next(
                    (
                        part.get_payload(decode=True).decode(errors="replace")
                        for part in message.walk()
                        if part.get_content_type() == "text/plain"
                    ),
                    "",
                )
                found.append((parseaddr(message["To"])[1], text))
        return found


@pytest.fixture
def pipeline_worker(settings, tmp_path, live_server) -> Iterator[Pipeline]:
    """A real `celery worker` process on Redis sharing the PostgreSQL test database.

    Locally, without Redis or PostgreSQL, the stages run eagerly in the live server instead
    (CI has both, so there the worker is always real). Links point at the live server.
    """
    settings.SITE_URL = settings.GUEST_SITE_URL = live_server.url
    settings.CSRF_TRUSTED_ORIGINS = [live_server.url]
    required = settings.REQUIRE_SERVICES or os.environ.get("CI")
    if not required and (
        not os.environ.get("JADA_TEST_REDIS_URL") or connection.vendor != "postgresql"
    ):
        yield Pipeline("eager")
        return
    if connection.vendor != "postgresql":
        require_service("postgresql", "a worker process needs a shared database (DATABASE_URL)")
    url = redis_url()
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = {
        "DATABASE_URL": database_url(settings),
        "CELERY_BROKER_URL": url,
        "CELERY_RESULT_BACKEND": url,
        "EMAIL_URL": f"filemail:///{outbox}",
        "JADA_VAR_DIR": str(tmp_path),  # guest pages in tmp_path/guest-pages, as here
        "SITE_URL": live_server.url,
        "GUEST_SITE_URL": live_server.url,
    }
    with broker(url, settings), worker_processes(["e2e"], env, tmp_path):
        yield Pipeline("worker", outbox)


# --- The intake as the browser stories drive it ---

TOKEN = "e2e-intake-token-5c1b8d2f7a90"


def payload(**overrides) -> dict:
    """The write-up's charter with one deckhand: the stories follow a single crew member."""
    return (
        write_up(
            external_ref="BS-2024-0530",
            net_revenue=None,
            status=None,
            crew_assignments=[{"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5}],
        )
        | overrides
    )


def post_booking(api, base: str, body: dict) -> dict:
    response = api.post(
        f"{base}/api/bookings", data=body, headers={"X-Dashboard-Token": TOKEN}, timeout=30_000
    )
    assert response.status in (200, 201), response.text()
    return response.json()


def wait_for_pipeline(api, base: str, booking_id: int, *, timeout: float = 60) -> dict:
    """Poll the API until no stage of the latest run is pending or running."""
    deadline = time.monotonic() + timeout
    while True:
        response = api.get(
            f"{base}/api/bookings/{booking_id}", headers={"X-Dashboard-Token": TOKEN}
        )
        stages = response.json()["pipeline"]
        if stages and not set(stages.values()) & {"pending", "running"}:
            assert "failed" not in stages.values(), stages
            return stages
        assert time.monotonic() < deadline, f"pipeline still running: {stages}"
        time.sleep(0.2)
