"""The operator's summary of a pipeline run: one email, and a signed webhook when configured.

It goes to operators only, so it carries the money (read from bookings.models.Financials).
Each part is sent at most once per run (the run row records it), so a retry after a failed
webhook sends no second email.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bookings.audit_format import FIELD_LABELS, field_label, field_labels
from bookings.formatting import local, minutes_text, utc_text, when_text, zone_name
from bookings.models import Booking, Financials
from bookings.money import money_json, money_text
from crew.emails import message_id
from crew.models import Assignment, CrewEvent, Role
from guests.models import GuestPage
from jada.lib.redact import urls_redacted
from jada.lib.webhook import webhook_refusal
from jada.models import PipelineRun, Stage, StageRun, StageState

logger = logging.getLogger(__name__)

# States the operator hears about, with the error and when the next attempt is.
UNWELL = (StageState.FAILED, StageState.RETRYING)
WEBHOOK_TIMEOUT = 10  # seconds, connect and read
SIGNATURE_HEADER = "X-Jada-Signature"
TIMESTAMP_HEADER = "X-Jada-Timestamp"


class WebhookNotConfigured(Exception):
    """The webhook's settings are refused (no or a short secret, plain http): nothing is posted."""


@dataclass(frozen=True)
class MoneyLine:
    label: str
    key: str
    value: Decimal
    text: str


@dataclass(frozen=True)
class CrewLine:
    code: str
    name: str
    role: str
    state: str
    answered: str
    reason: str
    removed: bool


@dataclass(frozen=True)
class StageLine:
    stage: str
    label: str
    state: str
    state_label: str
    attempts: int
    detail: str
    last_error: str
    next_attempt: str


def _money_lines(financials: Financials | None) -> list[MoneyLine]:
    if financials is None:
        return []
    currency = financials.currency
    percent = f"{Decimal(financials.fee_percent).normalize():f} %"
    rows = [
        (field_label(key), key, getattr(financials, key))
        for key in ("gross_revenue", "crew_cost", "captain_cost")
    ]
    rows += [
        (f"{field_label('fee')} ({percent})", "fee", financials.fee),
        (field_label("net_revenue"), "net_revenue", financials.net_revenue),
    ]
    return [MoneyLine(label, key, value, money_text(value, currency)) for label, key, value in rows]


def _crew_lines(booking_id: int) -> list[CrewLine]:
    assignments = (
        Assignment.objects.filter(event__booking_id=booking_id)
        .select_related("member")
        .order_by("removed_at", "call_at", "pk")
    )
    ordered = sorted(assignments, key=lambda a: (a.removed_at is not None, a.role != Role.CAPTAIN))
    return [
        CrewLine(
            code=a.member.code,
            name=a.member.name,
            role=a.get_role_display(),
            state="removed" if a.removed_at else a.state,
            answered=when_text(a.responded_at) if a.responded_at else "",
            reason=a.decline_reason,
            removed=a.removed_at is not None,
        )
        for a in ordered
    ]


def _stage_lines(run: PipelineRun) -> list[StageLine]:
    # The summary reports on the other stages; its own row is the one running now.
    stages = StageRun.objects.filter(run=run).exclude(stage=Stage.SUMMARY).order_by("pk")
    return [
        StageLine(
            stage=s.stage,
            label=s.get_stage_display(),
            state=s.state,
            state_label=s.get_state_display(),
            attempts=s.attempts,
            detail=s.detail,
            last_error=s.last_error,
            next_attempt=(
                when_text(s.next_attempt_at) if s.state in UNWELL and s.next_attempt_at else ""
            ),
        )
        for s in stages
    ]


def summary_context(run: PipelineRun) -> dict[str, Any]:
    """Everything the email and the webhook say about the run.

    `recovered`: the stages the last email said had failed (or were retrying) that have since
    succeeded; when there are any, the email is a note of their recovery.
    """
    # The money comes with the booking, in one read (a booking without any has none).
    booking = Booking.objects.select_related("dock", "financials").get(pk=run.booking_id)
    financials: Financials | None = getattr(booking, "financials", None)
    event = CrewEvent.objects.filter(booking_id=booking.pk).first()
    page = GuestPage.objects.filter(booking_id=booking.pk).first()
    stages = _stage_lines(run)
    failed = [s for s in stages if s.state == StageState.FAILED]
    retrying = [s for s in stages if s.state == StageState.RETRYING]
    told = run.summary_states or {}
    recovered = [
        s for s in stages if s.state == StageState.SUCCEEDED and told.get(s.stage) in UNWELL
    ]
    if failed:
        outcome = f"{len(failed)} stage(s) failed: " + ", ".join(s.label for s in failed)
    elif retrying:
        outcome = f"{len(retrying)} stage(s) retrying: " + ", ".join(s.label for s in retrying)
    elif any(s.state in (StageState.PENDING, StageState.RUNNING) for s in stages):
        outcome = "stages still in progress"
    else:
        outcome = "all stages done"
    if recovered:
        outcome = "recovered: " + ", ".join(s.label for s in recovered) + f" ({outcome})"
    admin_path = reverse("admin:bookings_booking_change", args=[booking.pk])
    return {
        "run": run,
        "booking": booking,
        "source": booking.get_source_display(),
        "status": booking.get_status_display(),
        "cancelled": booking.is_cancelled,
        "charter_when": when_text(booking.starts_at),
        "charter_local": local(booking.starts_at),
        "charter_length": minutes_text(booking.duration_minutes),
        "zone_name": zone_name(),
        "dock": booking.dock.name,
        "changed": field_labels(run.changed),
        "labels": FIELD_LABELS,  # the booking form's and the audit log's words for each field
        "money": _money_lines(financials),
        "currency": financials.currency if financials else settings.CURRENCY,
        "crew": _crew_lines(booking.pk),
        "crew_version": event.version if event else None,
        "stages": stages,
        "failed": failed,
        "retrying": retrying,
        "recovered": recovered,
        "unwell": [str(state) for state in UNWELL],
        "outcome": outcome,
        "guest_page_url": page.url if page else "",
        "admin_url": f"{settings.SITE_URL}{admin_path}",
        "operator_name": settings.OPERATOR_NAME,
    }


def summary_message(context: dict[str, Any]) -> EmailMultiAlternatives:
    subject = render_to_string("emails/operator-summary-subject.txt", context)
    text = render_to_string("emails/operator-summary-body.txt", context)
    html = render_to_string("emails/operator-summary-body.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(settings.OPERATOR_EMAILS),
        headers={
            "Auto-Submitted": "auto-generated",
            # One per run, and one per recovery note (which stages, after how many attempts).
            "Message-ID": message_id(
                "summary",
                f"run{context['run'].pk}",
                *(f"{s.stage}-recovered-{s.attempts}" for s in context["recovered"]),
                recipient=",".join(settings.OPERATOR_EMAILS),
            ),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def summary_payload(context: dict[str, Any]) -> dict[str, Any]:
    """The webhook's JSON: the email's facts, amounts as strings so no receiver reads floats."""
    run: PipelineRun = context["run"]
    booking: Booking = context["booking"]
    return {
        "event": "pipeline.summary",
        "run": {
            "id": run.pk,
            "reason": run.reason,
            "changed": list(run.changed),
            "created_at": utc_text(run.created_at),
        },
        "booking": {
            "id": booking.pk,
            "source": booking.source,
            "external_ref": booking.external_ref,
            "status": booking.status,
            "guest_name": booking.guest_name,
            "guest_count": booking.guest_count,
            "starts_at": utc_text(booking.starts_at),
            "starts_at_local": context["charter_local"].isoformat(),
            "time_zone": context["zone_name"],
            "duration_minutes": booking.duration_minutes,
            "dock": context["dock"],
            "admin_url": context["admin_url"],
            "guest_page_url": context["guest_page_url"],
        },
        "money": {
            "currency": context["currency"],
            **{line.key: money_json(line.value) for line in context["money"]},
        },
        "crew": [
            {"id": c.code, "name": c.name, "role": c.role, "state": c.state, "reason": c.reason}
            for c in context["crew"]
        ],
        "stages": {
            s.stage: {"state": s.state, "attempts": s.attempts, "error": s.last_error}
            for s in context["stages"]
        },
        "outcome": context["outcome"],
    }


def webhook_signature(body: bytes, secret: str, *, timestamp: int) -> str:
    """The X-Jada-Signature value: sha256=<hex HMAC-SHA256 of "<timestamp>." + the raw body>.

    The timestamp (X-Jada-Timestamp, seconds since the epoch) is signed with the body, so a
    receiver that refuses old ones (five minutes, say) cannot be sent a captured delivery again.
    """
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def webhook_post(payload: dict[str, Any], *, delivery: str) -> requests.Response:
    """POST the payload, signed; raises for an unreachable receiver or a non-2xx answer."""
    url, secret = settings.SUMMARY_WEBHOOK_URL, settings.SUMMARY_WEBHOOK_SECRET
    refusal = webhook_refusal(url, secret)
    if refusal:
        raise WebhookNotConfigured(refusal)
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(time.time())
    try:
        response = requests.post(
            url,
            data=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: webhook_signature(body, secret, timestamp=timestamp),
                TIMESTAMP_HEADER: str(timestamp),
                "X-Jada-Delivery": delivery,
                "User-Agent": "jada-pipeline",
            },
            timeout=WEBHOOK_TIMEOUT,
        )
        response.raise_for_status()  # 5xx and 429 are retried (pipeline.is_transient), 4xx not
    except requests.RequestException as e:
        raise _redacted(e) from None
    return response


def _redacted(error: requests.RequestException) -> requests.RequestException:
    """The same kind of error naming the receiver's scheme and host only.

    Hook URLs carry their key in the user, path or query, and the error goes on to the stage's
    row, the logs, the admin and the next summary. The original is dropped (`from None`), with
    its request and response, so no traceback or serialised result can print the URL either.
    """
    answer = None
    if error.response is not None:
        answer = requests.Response()
        answer.status_code, answer.reason = error.response.status_code, error.response.reason
    return type(error)(urls_redacted(str(error)), response=answer)


def summary_send(*, run_id: int) -> str:
    """Email the run's summary to OPERATOR_EMAILS and post the webhook, each at most once.

    Decided under the run's lock, sent after the commit (no transaction waits on SMTP or the
    receiver), each recorded right after it went. The summary stage's own claim (a `running`
    row) keeps a second worker out; after a lost worker the resend carries the same Message-ID
    and X-Jada-Delivery, so mail systems and receivers can drop the repeat.
    """
    notes = []
    with transaction.atomic():
        run = PipelineRun.objects.select_for_update().get(pk=run_id)
        context = summary_context(run)
        email_due = bool(settings.OPERATOR_EMAILS) and (
            run.summary_emailed_at is None or bool(context["recovered"])
        )
        post_due = bool(settings.SUMMARY_WEBHOOK_URL) and run.summary_posted_at is None
    if email_due:
        summary_message(context).send()
        told = {s.stage: s.state for s in context["stages"]}
        PipelineRun.objects.filter(pk=run_id).update(
            summary_emailed_at=timezone.now(), summary_states=told
        )
        what = " a recovery note" if context["recovered"] else ""
        notes.append(f"emailed {len(settings.OPERATOR_EMAILS)} operator(s){what}")
    if post_due:
        response = webhook_post(summary_payload(context), delivery=f"run-{run_id}")
        PipelineRun.objects.filter(pk=run_id).update(summary_posted_at=timezone.now())
        notes.append(f"webhook answered {response.status_code}")
    return "; ".join(notes) or "nothing to send"
