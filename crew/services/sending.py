"""One email per assignment at a time: "sending" is recorded before the send, "sent" after it.

The SMTP call runs outside any transaction. Between the two records the assignment is claimed
(`sending_at`): a concurrent run waits for the claim to clear and then finds the email recorded;
a run after a worker died mid-send (the claim expired) sends it again with the same Message-ID,
which mail systems drop as a duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from crew.models import Assignment

# Longer than an SMTP send can take (EMAIL_TIMEOUT per call), so only a dead worker's expires.
SEND_CLAIM = timedelta(minutes=5)
# How long a run waits for another's send to the same assignment before trying again later.
SEND_WAIT = timedelta(seconds=30)
SENDING_FIELDS = ["sending_key", "sending_at"]

T = TypeVar("T")


class SendBusy(TimeoutError):
    """Another run has been sending this assignment's email for a while; retry later."""


def _locked(pk: int, *, related: bool = True) -> Assignment:
    rows = Assignment.objects.select_for_update(of=("self",))
    if related:
        # The member's user signs the email's links (sesame): joined here, not read per email.
        rows = rows.select_related("event", "member__user")
    return rows.get(pk=pk)


def assignment_send_once(
    pk: int,
    *,
    prepare: Callable[[Assignment], tuple[EmailMessage, T] | None],
    record: Callable[[Assignment, T], list[str]],
) -> bool:
    """Send the email `prepare` builds for the locked assignment, then `record` it; True if sent.

    `prepare` runs under the row lock and returns (message, what `record` needs) or None when
    nothing is owed (saving any bookkeeping itself). `record` runs under the lock after the
    send, on the row alone (its event and member are not read again), and returns the fields
    it changed.
    """
    deadline = time.monotonic() + SEND_WAIT.total_seconds()
    while True:
        with transaction.atomic():
            assignment = _locked(pk)
            at = assignment.sending_at
            if at is None or at <= timezone.now() - SEND_CLAIM:
                prepared = prepare(assignment)
                if prepared is None:
                    return False
                message, payload = prepared
                key = message.extra_headers["Message-ID"]
                assignment.sending_key, assignment.sending_at = key, timezone.now()
                assignment.save(update_fields=SENDING_FIELDS)
                break
        if time.monotonic() > deadline:
            raise SendBusy(f"assignment {pk}: another run is sending its email")
        time.sleep(0.2)
    try:
        message.send()
    except Exception:
        Assignment.objects.filter(pk=pk, sending_key=key).update(sending_key="", sending_at=None)
        raise
    with transaction.atomic():
        assignment = _locked(pk, related=False)
        fields = record(assignment, payload)
        assignment.sending_key, assignment.sending_at = "", None
        assignment.save(update_fields=[*fields, *SENDING_FIELDS])
    return True
