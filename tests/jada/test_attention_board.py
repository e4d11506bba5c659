"""The admin index's "Needs attention": what needs the operator in the next 14 days."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bookings.formatting import stamp_span_text
from bookings.holds import holds_reconcile
from bookings.models import (
    Booking,
    CalendarSubscription,
    Financials,
    Hold,
    HoldConflict,
    Vessel,
)
from crew.models import Assignment, AssignmentState, CrewEvent, Slot, SlotOrigin
from crew.services import PlannedAssignment
from guests.models import GuestPage, PageState
from jada.board import attention_rows
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.services import booking_save
from tests.factories import booking_data

pytestmark = pytest.mark.django_db

CREW = [
    PlannedAssignment(member_code="CAP_001", role="captain"),
    PlannedAssignment(member_code="CREW_001", role="deckhand"),
]


def soon(days: int = 3) -> timezone.datetime:
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


def save(dock, *, ref: str, days: int = 3, plan=CREW) -> Booking:
    with transaction.atomic():
        return booking_save(
            data=booking_data(dock, external_ref=ref, starts_at=soon(days)), plan=plan, via="test"
        ).booking


def settle(booking: Booking) -> None:
    """What a good pipeline leaves: page published, guest emailed, crew accepted."""
    GuestPage.objects.filter(booking_id=booking.pk).update(
        state=PageState.PUBLISHED, emailed_at=timezone.now()
    )
    Assignment.objects.filter(event__booking_id=booking.pk).update(state=AssignmentState.ACCEPTED)
    StageRun.objects.filter(run__booking=booking).update(state=StageState.SUCCEEDED)
    PipelineRun.objects.filter(booking=booking).update(dispatched_at=timezone.now())


def index(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def test_empty_it_says_so(client, alice, dock, roster, templates):
    settle(save(dock, ref="BS-OK"))
    html = index(client, alice)
    assert "Needs attention — next 14 days" in html
    assert "Nothing needs attention in the next 14 days" in html


def test_a_failed_stage_is_named_with_the_charter_and_a_retry_button(
    client, alice, dock, roster, templates, django_capture_on_commit_callbacks
):
    booking = save(dock, ref="BS-FAIL")
    settle(booking)
    run = PipelineRun.objects.get(booking=booking)
    StageRun.objects.filter(run=run, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, attempts=6, last_error="EndpointConnectionError: S3 unreachable"
    )
    html = index(client, alice)
    local = timezone.localtime(booking.starts_at)
    assert "Boatsetter BS-FAIL" in html
    assert f"{local:%a %Y-%m-%d %H:%M %Z}" in html  # date, time and zone
    assert "Guest page publish failed after 6 attempt(s): EndpointConnectionError" in html
    assert reverse("admin:jada_pipelinerun_change", args=[run.pk]) in html
    retry = reverse("admin:bookings_booking_retry", args=[booking.pk])
    assert f'action="{retry}"' in html
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(retry, {"next": reverse("admin:index")})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    assert StageRun.objects.get(run=run, stage=Stage.GUEST_PUBLISH).state == StageState.PENDING


def test_crew_gaps_are_listed_with_a_link_to_the_crew_event(
    client, bob, dock, roster, templates, settings
):
    booking = save(dock, ref="BS-CREW")
    settle(booking)
    event = CrewEvent.objects.get(booking_id=booking.pk)
    captain = Assignment.objects.get(event=event, role="captain")
    captain.state, captain.decline_reason = AssignmentState.DECLINED, "Family wedding"
    captain.save()
    deckhand = Assignment.objects.get(event=event, role="deckhand")
    deckhand.state = AssignmentState.PENDING
    deckhand.notified_at = timezone.now() - timedelta(hours=settings.CREW_NUDGE_AFTER_HOURS + 1)
    deckhand.save()
    Slot.objects.create(
        event=event,
        role="deckhand",
        call_at=event.starts_at,
        shift_minutes=240,
        origin=SlotOrigin.REMOVED,
        vacated_by=roster["CREW_002"],
    )
    html = index(client, bob)  # the dispatcher reads the same board
    assert "Marco Reyes declined: “Family wedding”." in html
    assert "Dana Cole (deckhand) has not answered" in html
    assert "Open deckhand slot (removed, left by Sam Ortiz)." in html
    assert "No captain has accepted." in html
    assert reverse("admin:crew_crewevent_change", args=[event.pk]) in html
    assert "840.75" not in html and "Net" not in html
    # One row for the charter's crew, its problems one per line, "no captain" with the captain.
    (crew,) = [r for r in attention_rows() if r.booking_id == booking.pk]
    assert crew.kind == "crew"
    assert crew.problems[0] == "Marco Reyes declined: “Family wedding”. No captain has accepted."
    assert len(crew.problems) == 3


def asked(booking: Booking, role: str, *, hours_ago: float) -> None:
    """The charter's crew all accepted but the member of `role`, asked `hours_ago`."""
    settle(booking)
    Assignment.objects.filter(event__booking_id=booking.pk, role=role).update(
        state=AssignmentState.PENDING, notified_at=timezone.now() - timedelta(hours=hours_ago)
    )


def test_a_captain_asked_lately_is_waited_for_not_listed(client, alice, dock, roster, templates):
    booking = save(dock, ref="BS-ASKED", days=5)
    asked(booking, "captain", hours_ago=2)
    assert attention_rows() == []
    assert "Nothing needs attention" in index(client, alice)


def test_a_captain_who_has_not_answered_in_time_is_one_row(
    client, alice, dock, roster, templates, settings
):
    late = save(dock, ref="BS-LATE", days=5)
    asked(late, "captain", hours_ago=settings.CREW_NUDGE_AFTER_HOURS + 1)
    # Asked lately, but the charter is within the alert window: the answer is due now.
    near = save(dock, ref="BS-NEAR", days=1)
    asked(near, "captain", hours_ago=1)
    rows = attention_rows()
    assert [(r.booking_id, r.kind) for r in rows] == [(near.pk, "crew"), (late.pk, "crew")]
    for r in rows:
        (line,) = r.problems
        assert line.startswith("Marco Reyes (captain) has not answered (asked ")
        assert line.endswith(". No captain has accepted.")
    html = index(client, alice)
    assert html.count("No captain has accepted.") == 2


def test_without_any_captain_the_charter_says_so_once(dock, roster, templates):
    booking = save(dock, ref="BS-NOCAP", plan=CREW[1:])
    settle(booking)
    (row,) = attention_rows()
    assert (row.kind, row.problems) == ("crew", ("No captain has accepted.",))


def test_two_failed_stages_of_a_charter_are_one_row_with_a_retry(
    client, alice, dock, roster, templates
):
    booking = save(dock, ref="BS-TWO")
    settle(booking)
    run = PipelineRun.objects.get(booking=booking)
    StageRun.objects.filter(run=run, stage__in=[Stage.GUEST_PUBLISH, Stage.SUMMARY]).update(
        state=StageState.FAILED, attempts=6, last_error="OSError: down"
    )
    (row,) = attention_rows()
    assert row.kind == "pipeline" and row.retry and len(row.problems) == 2
    assert row.fix_url == reverse("admin:jada_pipelinerun_change", args=[run.pk])
    html = index(client, alice)
    assert "Guest page publish failed after 6 attempt(s): OSError: down<br>" in html
    assert html.count('class="button">Retry</button>') == 1


def test_unpublished_pages_and_unsent_guest_emails_are_listed(
    client, alice, dock, roster, templates
):
    unpublished = save(dock, ref="BS-PAGE")
    settle(unpublished)
    GuestPage.objects.filter(booking_id=unpublished.pk).update(state=PageState.FAILED)
    unmailed = save(dock, ref="BS-MAIL", days=4)
    settle(unmailed)
    GuestPage.objects.filter(booking_id=unmailed.pk).update(emailed_at=None)
    html = index(client, alice)
    assert "Guest page publishing failed." in html
    assert "The guest&#x27;s email did not go out." in html
    page = GuestPage.objects.get(booking_id=unpublished.pk)
    assert reverse("admin:guests_guestpage_change", args=[page.pk]) in html


def test_a_marketplace_hold_over_a_charter_is_listed_with_a_link_to_its_calendar(
    client, bob, dock, roster, templates
):
    booking = save(dock, ref="BS-HELD")
    settle(booking)
    subscription = CalendarSubscription.objects.create(
        vessel=booking.vessel,
        name="GetMyBoat Jada",
        url="https://g.example/j.ics",
        source="getmyboat",
    )
    first, second = (
        Hold.objects.create(
            subscription=subscription,
            vessel=booking.vessel,
            source="getmyboat",
            uid=f"g-{n}",
            starts_at=booking.starts_at + timedelta(hours=n),
            ends_at=booking.starts_at + timedelta(hours=n + 2),
            summary="Reserved: Morgan",
        )
        for n in (1, 2)
    )
    holds_reconcile(vessel_id=booking.vessel_id)  # as a sync does
    html = index(client, bob)  # the dispatcher reads the same board
    local = timezone.localtime(booking.starts_at)
    assert "Boatsetter BS-HELD" in html and f"{local:%a %Y-%m-%d %H:%M %Z}" in html
    span = stamp_span_text(first.starts_at, first.ends_at)
    assert (
        f"Conflicts with a hold in the GetMyBoat calendar “GetMyBoat Jada”, {span} (and 1 more): "
        "check with the marketplace, then move or cancel one." in html
    )
    calendar = reverse("admin:bookings_booking_calendar")
    assert f'href="{calendar}?month={local:%Y-%m}&amp;vessel={booking.vessel.code}"' in html
    assert "Reserved: Morgan" not in html  # what the marketplace says of its guest stays there
    # Settled with the marketplace (the hold gone), the row goes.
    Hold.objects.filter(pk__in=[first.pk, second.pk]).delete()
    assert "Conflicts with" not in index(client, bob)


def test_charters_beyond_14_days_or_past_are_left_out(dock, roster, templates):
    save(dock, ref="BS-LATER", days=20)  # unsettled: would have rows if it were in range
    assert attention_rows() == []


def _bulk(dock, count: int) -> None:
    start = soon(2)
    # Ten vessels, each with a charter every two hours: no two overlap on one vessel.
    fleet = [
        Vessel.objects.create(
            code=f"V{n}", name=f"Vessel {n}", guest_name=f"Vessel {n}", capacity=12
        )
        for n in range(10)
    ]
    bookings = Booking.objects.bulk_create(
        Booking(
            source="direct",
            external_ref=f"BULK-{count}-{i}",
            guest_name="Guest",
            guest_count=2,
            starts_at=start + timedelta(hours=2 * (i // 10)),
            duration_minutes=60,
            blocked_until=start + timedelta(hours=2 * (i // 10), minutes=90),
            vessel=fleet[i % 10],
            dock=dock,
        )
        for i in range(count)
    )
    Financials.objects.bulk_create(
        Financials(
            booking=b,
            gross_revenue=Decimal("100"),
            crew_cost=Decimal("0"),
            captain_cost=Decimal("0"),
            fee_percent=Decimal("0"),
            fee=Decimal("0"),
            net_revenue=Decimal("100"),
        )
        for b in bookings
    )
    # A marketplace hold over every fifth charter: conflict rows cost no query per row.
    subscriptions = {
        v.pk: CalendarSubscription.objects.create(
            vessel=v, name=f"Sailo {v.code}", url="https://s.example/c.ics", source="sailo"
        )
        for v in fleet
    }
    holds = Hold.objects.bulk_create(
        Hold(
            subscription=subscriptions[b.vessel_id],
            vessel_id=b.vessel_id,
            source="sailo",
            uid=f"h-{b.pk}",
            starts_at=b.starts_at,
            ends_at=b.starts_at + timedelta(minutes=30),
        )
        for b in bookings[::5]
    )
    HoldConflict.objects.bulk_create(
        HoldConflict(hold=h, booking=b) for h, b in zip(holds, bookings[::5], strict=True)
    )


@pytest.mark.parametrize("count", [10, 1000])
def test_its_queries_are_pinned(client, alice, dock, roster, templates, count):
    failed = save(dock, ref="BS-FAIL")
    StageRun.objects.filter(run__booking=failed, stage=Stage.SUMMARY).update(
        state=StageState.FAILED, last_error="SMTPServerDisconnected: gone"
    )
    _bulk(dock, count)
    with CaptureQueriesContext(connection) as board:
        rows = attention_rows()
    assert len({r.booking_id for r in rows}) == count + 1
    assert sum(r.kind == "fleet" for r in rows) == count // 5
    assert len(board.captured_queries) == 7  # one per kind of thing, whatever the count
    client.force_login(alice)
    with CaptureQueriesContext(connection) as page:
        assert client.get(reverse("admin:index")).status_code == 200
    assert len(page.captured_queries) <= 12


# --- retry from the booking page and the run page; a later success folds the old error --------


def test_the_booking_and_run_pages_offer_a_retry_of_failed_stages(
    client, alice, bob, dock, roster, templates, django_capture_on_commit_callbacks
):
    booking = save(dock, ref="BS-RETRY")
    run = PipelineRun.objects.get(booking=booking)
    StageRun.objects.filter(run=run, stage=Stage.CREW_NOTIFY).update(
        state=StageState.FAILED, last_error="SMTPServerDisconnected: gone"
    )
    client.force_login(alice)
    booking_page = reverse("admin:bookings_booking_change", args=[booking.pk])
    run_page = reverse("admin:jada_pipelinerun_change", args=[run.pk])
    for page, retry in (
        (booking_page, reverse("admin:bookings_booking_retry", args=[booking.pk])),
        (run_page, reverse("admin:jada_pipelinerun_retry", args=[run.pk])),
    ):
        html = client.get(page).content.decode()
        assert f'action="{retry}"' in html and "Retry failed stages (1)" in html
        with django_capture_on_commit_callbacks(execute=False):
            response = client.post(retry)
        assert response.status_code == 302 and response["Location"] == page
        stage = StageRun.objects.get(run=run, stage=Stage.CREW_NOTIFY)
        assert stage.state == StageState.PENDING
        stage.state = StageState.FAILED
        stage.save()
    assert client.get(retry).status_code == 405  # a GET changes nothing


def test_a_stage_that_succeeded_later_folds_its_old_error(client, alice, dock, roster, templates):
    booking = save(dock, ref="BS-LATER-OK")
    run = PipelineRun.objects.get(booking=booking)
    StageRun.objects.filter(run=run, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.SUCCEEDED, attempts=2, last_error="EndpointConnectionError: S3 unreachable"
    )
    client.force_login(alice)
    for url in (
        reverse("admin:bookings_booking_change", args=[booking.pk]),
        reverse("admin:jada_pipelinerun_change", args=[run.pk]),
    ):
        html = client.get(url).content.decode()
        assert "<summary>an earlier attempt failed</summary>EndpointConnectionError" in html
        assert "— EndpointConnectionError" not in html
