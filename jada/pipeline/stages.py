"""The stage table: what each outside-world stage does, one service call each.

The database stages (`booking`, `crew_event`, `checklist`) run in `start()`, inside the
transaction that saves the booking. The outside-world stages run after commit, one Celery task
each (`run_stage`): `crew_notify` and `guest_publish` in parallel, then `summary`. Each body
takes its stage's row and returns a short note for the admin.
"""

from __future__ import annotations

from collections.abc import Callable

from crew.selectors import event_id_for_booking
from crew.services import crew_notify
from guests.services import guest_notify, guest_page_publish
from jada.models import PARALLEL_STAGES, Stage, StageRun
from jada.summary import summary_send

StageBody = Callable[[StageRun], str | None]

OUTSIDE_STAGES = (*PARALLEL_STAGES, Stage.SUMMARY)


def crew_notify_body(stage: StageRun) -> str:
    """Email every crew member what they have not been told yet."""
    event_id = event_id_for_booking(stage.run.booking_id)
    if event_id is None:
        raise LookupError(f"booking {stage.run.booking_id} has no crew event")
    sent = crew_notify(event_id=event_id)
    return f"{sent} crew email(s) sent"


def guest_publish_body(stage: StageRun) -> str:
    """Publish the guest page (upload + invalidation when it changed), then email the guest."""
    booking_id = stage.run.booking_id
    result = guest_page_publish(booking_id=booking_id)
    emailed = guest_notify(booking_id=booking_id, published=True)
    notes = ["page uploaded" if result.uploaded else "page unchanged"]
    if result.invalidation_id:
        notes.append(f"invalidation {result.invalidation_id}")
    notes.append("guest emailed" if emailed else "no guest email")
    return ", ".join(notes)


def summary_body(stage: StageRun) -> str:
    """The operator's summary of the run (email, and the webhook when configured)."""
    return summary_send(run_id=stage.run_id)


STAGE_BODIES: dict[str, StageBody] = {
    Stage.CREW_NOTIFY: crew_notify_body,
    Stage.GUEST_PUBLISH: guest_publish_body,
    Stage.SUMMARY: summary_body,
}
