"""Guard rails: a past charter tells no one, a loss is a warning, and the admin asks first."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bookings.formatting import zone as operator_zone
from bookings.models import Booking, Status
from crew.models import Assignment, CrewEvent
from crew.services import PlannedAssignment
from guests.models import GuestPage
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.services import booking_save
from tests.factories import booking_data
from tests.helpers import formset_data, post_data
from tests.jada.intake_support import new_token, post, row, run, write_csv, write_up

pytestmark = pytest.mark.django_db

PAST = "has passed: it is recorded for the books and nothing is sent"


def sent_nothing(booking_id: int) -> bool:
    """Every outside-world stage of the booking's runs was skipped: nobody was told."""
    stages = StageRun.objects.filter(
        run__booking_id=booking_id,
        stage__in=[Stage.CREW_NOTIFY, Stage.GUEST_PUBLISH, Stage.SUMMARY],
    )
    return stages.exists() and not stages.exclude(state=StageState.SKIPPED).exists()


def past_start() -> timezone.datetime:
    return (timezone.now() - timedelta(days=3)).replace(microsecond=0)


def test_a_past_charter_is_recorded_and_starts_nothing(
    dock, roster, templates, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        saved = booking_save(
            data=booking_data(dock, starts_at=past_start()),
            plan=[PlannedAssignment(member_code="CREW_001", role="deckhand")],
            via="test",
        )
    assert Booking.objects.filter(pk=saved.booking.pk).exists()
    assert sent_nothing(saved.booking.pk)
    assert mailoutbox == []
    # The crew's record of it is kept (their portal lists it under "Past").
    kept = Assignment.objects.get(event__booking_id=saved.booking.pk)
    assert kept.notified_at is None
    assert not GuestPage.objects.filter(booking_id=saved.booking.pk, state="published").exists()
    assert len(saved.warnings) == 1 and PAST in saved.warnings[0]
    # The sentence names the start in the operator's zone.
    local = timezone.localtime(saved.booking.starts_at, operator_zone())
    assert f"{local:%Y-%m-%d %H:%M %Z}" in saved.warnings[0]


def test_an_upcoming_charter_has_no_warning(dock, roster, templates):
    saved = booking_save(data=booking_data(dock), via="test")
    assert saved.warnings == () and saved.money_warnings == ()
    assert saved.run is not None


def test_a_loss_saves_with_a_money_warning(dock, roster, templates):
    saved = booking_save(
        data=booking_data(dock, gross_revenue=Decimal("100.00"), crew_cost=Decimal("250.00")),
        via="test",
    )
    assert saved.booking.financials.net_revenue < 0
    assert saved.money_warnings == (
        "Net revenue is -318.00 USD, below zero: the costs and the fee exceed the gross revenue.",
    )


def test_the_api_answers_201_with_warnings_for_a_past_loss_making_charter(
    client, dock, roster, templates, mailoutbox
):
    token = new_token()
    day = (timezone.now() - timedelta(days=2)).astimezone(operator_zone()).date()
    body = write_up(
        charter_date=day.isoformat(), gross_revenue=100, net_revenue=None, external_ref="BS-PAST"
    )
    response = post(client, body, token=token)
    assert response.status_code == 201, response.content
    warnings = response.json()["warnings"]
    assert any(PAST in w for w in warnings)
    assert any(w.startswith("Net revenue is -") for w in warnings)
    assert Booking.objects.filter(external_ref="BS-PAST").exists()
    assert sent_nothing(Booking.objects.get(external_ref="BS-PAST").pk) and mailoutbox == []
    again = post(client, body, token=token)
    assert again.status_code == 200 and any(PAST in w for w in again.json()["warnings"])


def test_the_csv_report_says_it_per_row(tmp_path, dock, roster, templates, mailoutbox):
    day = (timezone.now() - timedelta(days=2)).astimezone(operator_zone()).date()
    path = write_csv(
        tmp_path / "export.csv",
        [row(charter_date=day.isoformat()), row(external_ref="BS-2")],
    )
    out, _, error = run(str(path))
    lines = out.splitlines()
    assert error is None
    assert lines[0].startswith("row 2: created BS-1") and PAST in lines[0]
    assert lines[1].startswith("row 3: created BS-2") and "warning" not in lines[1]
    assert sent_nothing(Booking.objects.get(external_ref="BS-1").pk)


# --- the admin asks before saving --------------------------------------------------------------


def test_the_admin_asks_before_recording_a_past_charter(client, alice, dock, roster, templates):
    client.force_login(alice)
    day = (timezone.now() - timedelta(days=2)).astimezone(operator_zone())
    data = post_data(dock=dock.pk, gross_revenue="840.75", crew_cost="250", captain_cost="150")
    data.update(fee_percent="18", starts_at_0=f"{day:%Y-%m-%d}")
    url = reverse("admin:bookings_booking_add")
    page = client.post(url, data)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Record a past charter?" in html and PAST in html
    assert not Booking.objects.exists()  # nothing written yet
    data["_confirmed"] = "1"
    saved = client.post(url, data, follow=True)
    booking = Booking.objects.get(external_ref="DIRECT-77")
    assert sent_nothing(booking.pk)
    shown = [str(m) for m in saved.context["messages"]]
    assert any(PAST in m for m in shown), shown


def test_cancelling_in_the_admin_lists_who_will_be_told_first(
    client, alice, dock, roster, templates, mailoutbox
):
    with transaction.atomic():
        booking = booking_save(
            data=booking_data(dock),
            plan=[
                PlannedAssignment(member_code="CAP_001", role="captain"),
                PlannedAssignment(member_code="CREW_001", role="deckhand"),
            ],
            via="test",
        ).booking
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    data = post_data(booking, status="cancelled")
    page = client.post(url, data)
    html = page.content.decode()
    assert page.status_code == 200 and "Cancel this charter?" in html
    assert "Marco Reyes (captain)" in html and "Dana Cole (deckhand)" in html
    assert "Jordan Avery &lt;jordan@guest.example.com&gt;" in html
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    runs = PipelineRun.objects.filter(booking=booking).count()
    data["_confirmed"] = "1"
    assert client.post(url, data).status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED
    assert PipelineRun.objects.filter(booking=booking).count() == runs + 1


def test_the_dispatcher_gets_the_same_question(client, bob, dock, roster, templates):
    booking = booking_save(data=booking_data(dock), via="test").booking
    client.force_login(bob)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    html = client.post(url, post_data(booking, status="cancelled")).content.decode()
    assert "Cancel this charter?" in html and "840.75" not in html


# --- the message after saving tells the truth --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_stage_that_failed_in_the_request_is_a_warning_naming_it(
    client, alice, dock, roster, templates, settings
):
    # Eager mode: the stages run when the admin's transaction commits, within the request.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    client.force_login(alice)
    data = post_data(dock=dock.pk, gross_revenue="840.75", crew_cost="250", captain_cost="150")
    data["fee_percent"] = "18"
    response = client.post(reverse("admin:bookings_booking_add"), data, follow=True)
    shown = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)] or [
        (m.level_tag, str(m)) for m in response.context["messages"]
    ]
    failed = StageRun.objects.filter(
        state__in=[StageState.FAILED, StageState.RETRYING]
    ).values_list("stage", flat=True)
    assert Stage.GUEST_PUBLISH in set(failed)
    assert not any("added successfully" in text for _, text in shown), shown
    assert any(
        level == "warning" and "“Guest page publish” failed" in text for level, text in shown
    ), shown


def test_removing_crew_within_48_hours_asks_first_naming_them(
    client, alice, dock, roster, templates
):
    tomorrow = (timezone.now() + timedelta(hours=30)).replace(second=0, microsecond=0)
    with transaction.atomic():
        booking = booking_save(
            data=booking_data(dock, starts_at=tomorrow),
            plan=[
                PlannedAssignment(member_code="CAP_001", role="captain"),
                PlannedAssignment(member_code="CREW_001", role="deckhand"),
            ],
            via="test",
        ).booking
    event = CrewEvent.objects.get(booking_id=booking.pk)
    url = reverse("admin:crew_crewevent_change", args=[event.pk])
    data = formset_data(event, [], deleted={"CREW_001"})
    client.force_login(alice)
    page = client.post(url, data)
    html = page.content.decode()
    assert page.status_code == 200 and "less than 48 hours away" in html
    assert "Dana Cole (deckhand)" in html and "Marco Reyes" not in html.split("told-crew")[1]
    assert Assignment.objects.get(event=event, member__code="CREW_001").removed_at is None
    data["_confirmed"] = "1"
    assert client.post(url, data).status_code == 302
    assert Assignment.objects.get(event=event, member__code="CREW_001").removed_at is not None


def test_removing_crew_from_a_charter_weeks_away_needs_no_question(
    client, alice, dock, roster, templates
):
    with transaction.atomic():
        booking = booking_save(
            data=booking_data(dock),
            plan=[PlannedAssignment(member_code="CREW_001", role="deckhand")],
            via="test",
        ).booking
    event = CrewEvent.objects.get(booking_id=booking.pk)
    client.force_login(alice)
    url = reverse("admin:crew_crewevent_change", args=[event.pk])
    assert client.post(url, formset_data(event, [], deleted={"CREW_001"})).status_code == 302
