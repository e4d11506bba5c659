"""A worker that dies after the SMTP server accepted an email: the resend is the same email.

"Sending" is recorded before the send, which runs outside any transaction; the email's
Message-ID is the same on every try (recipient, assignment or page or run, version, kind), so
mail systems drop the repeat. The death is a BaseException raised right after the mail backend
accepted the message, as a killed process would leave things (nothing after it runs).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.utils import timezone

from bookings.services import booking_upsert
from crew.models import Assignment
from crew.services import crew_notify
from crew.services.sending import SendBusy
from guests.models import GuestPage
from guests.services import PageBusy, guest_notify
from jada import pipeline
from jada.models import PipelineRun
from jada.pipeline.retry import is_transient
from jada.summary import summary_send
from tests.factories import SAME_SHIFT_PLAN as PLAN
from tests.factories import booking_data, charter


class WorkerKilled(BaseException):
    """The process died: no `except Exception` runs, no transaction commits."""


class Dying:
    """The mail backend accepts every message; for the first one to `victim`, the worker dies."""

    def __init__(self, victim: str, claimed: Callable[[str], bool]) -> None:
        self.victim, self.claimed = victim, claimed
        self.fired = False
        self.seen: list[dict] = []

    def __call__(self, backend: EmailBackend, messages) -> int:
        count = EmailBackend_send(backend, messages)  # accepted: in the outbox
        for message in messages:
            key = message.extra_headers.get("Message-ID", "")
            self.seen.append(
                {
                    "to": message.to,
                    "key": key,
                    # How deep in transactions the send ran (the test's own block is one).
                    "atomic": len(connection.atomic_blocks),
                    "sending recorded": bool(key) and self.claimed(key),
                }
            )
            if message.to == [self.victim] and not self.fired:
                self.fired = True
                raise WorkerKilled
        return count


EmailBackend_send = EmailBackend.send_messages


@pytest.fixture
def dies(monkeypatch):
    def arm(victim: str, claimed: Callable[[str], bool]) -> Dying:
        dying = Dying(victim, claimed)
        # A function, so that it binds to the backend as the method it replaces.
        monkeypatch.setattr(EmailBackend, "send_messages", lambda b, msgs: dying(b, msgs))
        return dying

    monkeypatch.setattr("crew.services.sending.SEND_WAIT", timedelta(seconds=0.3), raising=False)
    monkeypatch.setattr("guests.services.SEND_WAIT", timedelta(seconds=0.3), raising=False)
    return arm


def message_ids(to: str) -> list[str]:
    return [m.message()["Message-ID"] for m in mail.outbox if m.to == [to]]


def test_a_crew_email_sent_again_after_a_lost_worker_keeps_its_message_id(
    dock, roster, templates, dies
):
    event = charter(dock)
    depth = len(connection.atomic_blocks)
    dying = dies(
        "crew001@crew.example.com",
        lambda key: Assignment.objects.filter(sending_key=key).exists(),
    )
    with pytest.raises(WorkerKilled):
        crew_notify(event_id=event.pk)
    # The send ran outside any transaction, with "sending" already recorded.
    assert all(s["atomic"] == depth and s["sending recorded"] for s in dying.seen)

    # A retry while the claim is fresh waits, then gives up for later (a transient error).
    with pytest.raises(SendBusy) as busy:
        crew_notify(event_id=event.pk)
    assert is_transient(busy.value)
    # The worker is gone for good: its claim expires, the next run sends the email again.
    Assignment.objects.exclude(sending_at=None).update(
        sending_at=timezone.now() - timedelta(minutes=6)
    )
    assert crew_notify(event_id=event.pk) == 2  # Dana's again, and Sam's
    assert crew_notify(event_id=event.pk) == 0

    first, again = message_ids("crew001@crew.example.com")
    assert first == again and first.startswith("<jada.crew.new.a")
    assert len(message_ids("cap001@crew.example.com")) == 1
    assert len(message_ids("crew002@crew.example.com")) == 1
    # Different people, assignments or kinds never share one.
    ids = [m.message()["Message-ID"] for m in mail.outbox]
    assert len(set(ids)) == 3
    assert not Assignment.objects.exclude(sending_key="").exists()


def test_a_guest_email_sent_again_after_a_lost_worker_keeps_its_message_id(
    dock, roster, templates, dies
):
    booking = booking_upsert(data=booking_data(dock), via="test").booking
    depth = len(connection.atomic_blocks)
    dying = dies(
        "jordan@guest.example.com",
        lambda key: GuestPage.objects.filter(sending_key=key).exists(),
    )
    with pytest.raises(WorkerKilled):
        guest_notify(booking_id=booking.pk)
    assert dying.seen[0]["atomic"] == depth and dying.seen[0]["sending recorded"]
    with pytest.raises(PageBusy):
        guest_notify(booking_id=booking.pk)

    GuestPage.objects.update(sending_at=timezone.now() - timedelta(minutes=6))
    assert guest_notify(booking_id=booking.pk) is True
    assert guest_notify(booking_id=booking.pk) is False
    first, again = message_ids("jordan@guest.example.com")
    assert first == again and first.startswith("<jada.guest.confirmed.p")


def test_the_operator_summary_sent_again_keeps_its_message_id(
    dock, roster, templates, dies, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        with transaction.atomic():
            booking = booking_upsert(data=booking_data(dock), via="test").booking
            pipeline.start(booking.pk, created=True, crew_plan=PLAN)
    run = PipelineRun.objects.get(booking=booking)
    depth = len(connection.atomic_blocks)
    dying = dies("operator@sailjada.com", lambda key: True)
    with pytest.raises(WorkerKilled):
        summary_send(run_id=run.pk)
    assert dying.seen[0]["atomic"] == depth  # no lock on the run while SMTP works
    assert "emailed 1 operator(s)" == summary_send(run_id=run.pk)
    assert summary_send(run_id=run.pk) == "nothing to send"
    first, again = message_ids("operator@sailjada.com")
    assert first == again and first.startswith(f"<jada.summary.run{run.pk}.")
