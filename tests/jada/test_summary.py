"""The operator's summary: one email with the money and every stage, and the signed webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bookings.models import Financials
from bookings.services import booking_upsert
from crew.models import Assignment
from crew.services import assignment_respond
from jada import pipeline
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.summary import summary_context, summary_send
from tests.factories import SAME_SHIFT_PLAN, booking_data

pytestmark = pytest.mark.django_db

SECRET = "whsec-test-4f1b2c-9d8e7a6b5c4d3e2f1a0b"  # 32 characters or more, as required
# The write-up's crew, every deckhand on the charter's own shift.
PLAN = SAME_SHIFT_PLAN


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records each POST and answers with `statuses`."""

    url: str
    statuses: list[int]
    requests: list[dict] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="", statuses=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"headers": dict(self.headers), "body": body})
            time.sleep(state.delay)
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/jada"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def create(dock):
    with transaction.atomic():
        booking = booking_upsert(data=booking_data(dock), via="test").booking
        pipeline.start(booking.pk, created=True, crew_plan=PLAN)
    return booking


def summaries():
    return [m for m in mail.outbox if m.to == ["operator@sailjada.com"]]


def test_the_summary_tells_the_operator_everything_including_money(
    dock, roster, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        booking = create(dock)
    captain = Assignment.objects.get(event__booking_id=booking.pk, member__code="CAP_001")
    assignment_respond(assignment=captain, accepted=True)
    deckhand = Assignment.objects.get(event__booking_id=booking.pk, member__code="CREW_002")
    assignment_respond(assignment=deckhand, accepted=False, reason="Out of town that week")
    run = PipelineRun.objects.get(booking=booking)
    pipeline.dispatch(run.pk)

    [message] = summaries()
    assert message.subject == "Boatsetter BS-2024-0530 created: all stages done"
    text = message.body
    html = message.alternatives[0][0]
    for body in (text, html):
        assert "Thu 30 May 2030, 9:00 AM PDT (America/Los_Angeles)" in body
        assert "Sheraton Hotel Dock" in body and "Jordan Avery" in body
        # Money: gross 840.75, costs, fee 18 % = 151.34, net 840.75 - 400 - 151.34 = 289.41.
        for amount in ("840.75 USD", "250.00 USD", "150.00 USD", "151.34 USD", "289.41 USD"):
            assert amount in body
        assert "Fee (18 %)" in body
        assert "Marco Reyes (CAP_001), Captain: <strong>accepted" in body or (
            "Marco Reyes (CAP_001), Captain: accepted" in body
        )
        assert "Out of town that week" in body
        assert "Crew notifications: " in body and "Guest page publish: " in body
    assert "Dana Cole (CREW_001), Deckhand: pending" in text
    assert "Crew notifications: Succeeded (3 crew email(s) sent)" in text
    assert f"/admin/bookings/booking/{booking.pk}/change/" in text
    stage = StageRun.objects.get(run=run, stage=Stage.SUMMARY)
    assert (stage.state, stage.detail) == ("succeeded", "emailed 1 operator(s)")


def test_the_summary_reads_the_money_with_the_booking(
    dock, roster, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        booking = create(dock)
    run = PipelineRun.objects.get(booking=booking)
    with CaptureQueriesContext(connection) as captured:
        context = summary_context(run)
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    money = [sql for sql in reads if "bookings_financials" in sql]
    assert len(money) == 1 and 'FROM "bookings_booking"' in money[0]
    assert [line.text for line in context["money"]][-1] == "289.41 USD"
    # A booking without money: no lines, the operator's currency.
    Financials.objects.filter(booking=booking).delete()
    context = summary_context(run)
    assert (context["money"], context["currency"]) == ([], django_settings.CURRENCY)


def test_a_failed_stage_is_named_in_the_subject_with_its_error(
    dock, roster, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        booking = create(dock)
    run = PipelineRun.objects.get(booking=booking)
    StageRun.objects.filter(run=run, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, attempts=6, last_error="EndpointConnectionError: S3 unreachable"
    )
    pipeline.dispatch(run.pk)

    [message] = summaries()
    assert message.subject.endswith("created: 1 stage(s) failed: Guest page publish")
    assert "Guest page publish: Failed after 6 attempts" in message.body
    assert "Error: EndpointConnectionError: S3 unreachable" in message.body
    assert "Retry it from the admin." in message.body


def test_the_webhook_receives_the_summary_signed_over_its_raw_body(
    dock, roster, templates, settings, receiver, django_capture_on_commit_callbacks
):
    settings.SUMMARY_WEBHOOK_URL = receiver.url
    settings.SUMMARY_WEBHOOK_SECRET = SECRET
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)

    [request] = receiver.requests
    body, headers = request["body"], request["headers"]
    # Signed over "<timestamp>." + the raw body, the timestamp sent beside it and recent.
    timestamp = headers["X-Jada-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Jada-Signature"], expected)
    # A captured delivery replayed with a fresh timestamp no longer verifies.
    later = str(int(timestamp) + 600).encode() + b"." + body
    replayed = "sha256=" + hmac.new(SECRET.encode(), later, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(headers["X-Jada-Signature"], replayed)
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["event"] == "pipeline.summary"
    assert payload["booking"]["external_ref"] == "BS-2024-0530"
    assert payload["booking"]["starts_at"] == "2030-05-30T16:00:00Z"
    assert payload["booking"]["starts_at_local"] == "2030-05-30T09:00:00-07:00"
    assert payload["booking"]["time_zone"] == "America/Los_Angeles"
    assert payload["money"] == {
        "currency": "USD",
        "gross_revenue": "840.75",
        "crew_cost": "250.00",
        "captain_cost": "150.00",
        "fee": "151.34",
        "net_revenue": "289.41",
    }
    assert payload["stages"]["crew_notify"]["state"] == "succeeded"
    assert payload["stages"]["guest_publish"]["state"] == "succeeded"
    assert [c["id"] for c in payload["crew"]] == ["CAP_001", "CREW_001", "CREW_002"]
    run = PipelineRun.objects.get(booking=booking)
    assert headers["X-Jada-Delivery"] == f"run-{run.pk}"
    assert run.summary_emailed_at and run.summary_posted_at
    assert len(summaries()) == 1
    # A tampered body no longer matches the signature.
    forged = hmac.new(SECRET.encode(), signed + b" ", hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(headers["X-Jada-Signature"], "sha256=" + forged)


def test_a_webhook_5xx_is_retried_without_a_second_email(
    dock, roster, templates, settings, receiver, django_capture_on_commit_callbacks
):
    settings.SUMMARY_WEBHOOK_URL = receiver.url
    settings.SUMMARY_WEBHOOK_SECRET = SECRET
    receiver.statuses = [503]
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    stage = StageRun.objects.get(run__booking=booking, stage=Stage.SUMMARY)
    assert stage.state == "retrying" and "503" in stage.last_error
    assert stage.next_attempt_at is not None  # transient: retried
    assert len(summaries()) == 1

    pipeline.resume(now=stage.next_attempt_at + timezone.timedelta(hours=1))

    stage.refresh_from_db()
    assert (stage.state, stage.attempts) == ("succeeded", 2)
    assert len(receiver.requests) == 2 and len(summaries()) == 1
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]


def test_a_webhook_4xx_fails_the_summary_for_the_operator(
    dock, roster, templates, settings, receiver, django_capture_on_commit_callbacks
):
    settings.SUMMARY_WEBHOOK_URL = receiver.url
    settings.SUMMARY_WEBHOOK_SECRET = SECRET
    receiver.statuses = [403]
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    stage = StageRun.objects.get(run__booking=booking, stage=Stage.SUMMARY)
    assert stage.state == "failed" and "403" in stage.last_error
    assert stage.next_attempt_at is None


def test_an_unreachable_webhook_is_a_transient_failure(
    dock, roster, templates, settings, django_capture_on_commit_callbacks
):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    settings.SUMMARY_WEBHOOK_URL = f"http://127.0.0.1:{port}/hook"
    settings.SUMMARY_WEBHOOK_SECRET = SECRET
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    stage = StageRun.objects.get(run__booking=booking, stage=Stage.SUMMARY)
    assert stage.state == "retrying" and stage.last_error.startswith("ConnectionError")
    assert stage.next_attempt_at is not None


def test_a_receiver_that_hangs_is_given_up_on_and_retried(
    dock, roster, templates, settings, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    # Without a timeout a stuck receiver would hold a worker thread for good.
    monkeypatch.setattr("jada.summary.WEBHOOK_TIMEOUT", 0.3)
    settings.SUMMARY_WEBHOOK_URL = receiver.url
    settings.SUMMARY_WEBHOOK_SECRET = SECRET
    receiver.delay = 2
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    stage = StageRun.objects.get(run__booking=booking, stage=Stage.SUMMARY)
    assert stage.state == "retrying" and stage.last_error.startswith("ReadTimeout")
    assert stage.next_attempt_at is not None
    assert len(summaries()) == 1


# What a hook URL hides (user, password, path, query), spelled as receivers hand them out:
# requests prints `%7E` as `~` and `%2f` as `%2F`, so a literal replace of the setting misses it.
HOOK_PATHS = [
    "/services/T0/B1/SeCrEtPaTh?key=SECRETKEY",
    "/hooks/%7ESeCrEtPaTh/%2fx?key=%7ESECRETKEY",
    "/hooks/SeCrEtPaTh?key=SECRETKEY%2f%7E",
]
HIDDEN = ("SeCrEtPaTh", "SECRETKEY", "hookuser", "hookpass")


def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed once the block ends


@pytest.mark.parametrize("userinfo", ["", "hookuser:hookpass@"])
@pytest.mark.parametrize("path", HOOK_PATHS)
@pytest.mark.parametrize("reachable", [True, False])
def test_the_hook_url_s_secrets_never_reach_errors_logs_admin_or_payloads(
    dock,
    roster,
    templates,
    settings,
    receiver,
    caplog,
    client,
    alice,
    reachable,
    path,
    userinfo,
    django_capture_on_commit_callbacks,
):
    import logging

    caplog.set_level(logging.DEBUG)
    base = receiver.url.rsplit("/hooks/", 1)[0] if reachable else closed_port_url()
    receiver.statuses = [503]
    host = base.removeprefix("http://")
    settings.SUMMARY_WEBHOOK_URL = f"http://{userinfo}{host}{path}"
    settings.SUMMARY_WEBHOOK_SECRET = SECRET
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    stage = StageRun.objects.get(run__booking=booking, stage=Stage.SUMMARY)
    assert stage.state == "retrying" and stage.next_attempt_at is not None
    if reachable:
        assert stage.last_error.startswith("HTTPError: 503 Server Error")
    else:
        assert stage.last_error.startswith("ConnectionError")
    # The receiver is still named, by scheme and host: the operator knows what failed.
    assert f"http://{host}/…" in stage.last_error or "host='127.0.0.1'" in stage.last_error

    client.force_login(alice)
    admin = client.get(reverse("admin:jada_pipelinerun_change", args=[stage.run_id]))
    assert admin.status_code == 200 and "Summary to operator" in admin.content.decode()
    # The retry's delivery and the emails of the run, too.
    pipeline.resume(now=stage.next_attempt_at + timezone.timedelta(hours=1))
    payloads = [r["body"].decode() for r in receiver.requests]
    surfaces = [stage.last_error, caplog.text, admin.content.decode(), *payloads]
    surfaces += [m.body for m in mail.outbox]
    for text in surfaces:
        for hidden in HIDDEN:
            assert hidden not in text
    assert len(payloads) == (2 if reachable else 0)


def test_no_webhook_is_posted_unsigned(
    dock, roster, templates, settings, receiver, django_capture_on_commit_callbacks
):
    settings.SUMMARY_WEBHOOK_URL = receiver.url
    settings.SUMMARY_WEBHOOK_SECRET = ""
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    stage = StageRun.objects.get(run__booking=booking, stage=Stage.SUMMARY)
    assert stage.state == "failed" and "SUMMARY_WEBHOOK_SECRET" in stage.last_error
    assert receiver.requests == []
    assert stage.next_attempt_at is None


@pytest.mark.parametrize(
    ("url", "secret"),
    [("http://hooks.example.com/jada", SECRET), ("RECEIVER", "s" * 31)],
)
def test_a_weak_webhook_is_never_posted(
    dock, roster, templates, settings, receiver, url, secret, django_capture_on_commit_callbacks
):
    settings.SUMMARY_WEBHOOK_URL = receiver.url if url == "RECEIVER" else url
    settings.SUMMARY_WEBHOOK_SECRET = secret
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    stage = StageRun.objects.get(run__booking=booking, stage=Stage.SUMMARY)
    assert stage.state == "failed" and stage.next_attempt_at is None
    assert stage.last_error.startswith("WebhookNotConfigured: SUMMARY_WEBHOOK_")
    assert receiver.requests == []


def test_the_summary_is_sent_once_per_run(
    dock, roster, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = create(dock)
    run = PipelineRun.objects.get(booking=booking)
    assert len(summaries()) == 1
    assert summary_send(run_id=run.pk) == "nothing to send"
    StageRun.objects.filter(run=run, stage=Stage.SUMMARY).update(state=StageState.PENDING)
    pipeline.dispatch(run.pk)
    assert len(summaries()) == 1
