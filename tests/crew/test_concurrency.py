"""Two workers running the crew stage at once (a redelivery): each member is emailed once."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection

from crew.services import crew_notify, reminders_send
from tests.factories import charter
from tests.helpers import run_at_once, run_twice_at_once


def untold(event) -> None:
    """Forget what the pipeline's own run (on commit, in these tests) already sent."""
    from crew.models import Assignment

    Assignment.objects.filter(event=event).update(
        notified_version=0, notified_snapshot={}, notified_at=None
    )
    mail.outbox.clear()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_notify_runs_send_each_email_once(dock, roster, templates):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite ignores select_for_update)")
    event = charter(dock)
    untold(event)
    results, errors = run_twice_at_once(lambda: crew_notify(event_id=event.pk))
    assert errors == []
    assert sum(results) == 3
    assert sorted(m.to[0] for m in mail.outbox) == [
        "cap001@crew.example.com",
        "crew001@crew.example.com",
        "crew002@crew.example.com",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reminder_runs_send_each_reminder_once(dock, roster, templates):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite ignores select_for_update)")
    from datetime import timedelta

    from crew.models import Assignment

    event = charter(dock)
    untold(event)
    told = event.starts_at - timedelta(days=3)
    Assignment.objects.update(created_at=told - timedelta(days=1))
    crew_notify(event_id=event.pk, now=told)
    mail.outbox.clear()
    now = event.starts_at - timedelta(hours=20)
    results, errors = run_twice_at_once(lambda: reminders_send(now=now))
    assert errors == []
    assert sum(results) == 3 and len(mail.outbox) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_link_requests_sent_at_once_stay_within_the_limit(roster):
    if connection.vendor != "postgresql":
        pytest.skip("the limiter's lock is PostgreSQL's (SQLite serialises writers itself)")
    from crew.services import LINK_REQUESTS_PER_ADDRESS, link_request

    results, errors = run_at_once(
        lambda n: link_request(email="crew001@crew.example.com", client=f"c{n}"), times=8
    )
    assert errors == []
    assert sum(results) == LINK_REQUESTS_PER_ADDRESS
    assert len(mail.outbox) == LINK_REQUESTS_PER_ADDRESS
