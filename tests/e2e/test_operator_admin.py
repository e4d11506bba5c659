"""The operator's admin at 1280 px in Chromium: index with its board, list, booking, calendar."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from crew.models import Assignment, AssignmentState, CrewEvent, CrewMember
from crew.services import PlannedAssignment, assignment_respond
from jada.models import Stage, StageRun, StageState
from jada.services import booking_save
from tests.e2e.browser import admin_sign_in, no_horizontal_scroll, screenshot
from tests.factories import booking_data

pytestmark = pytest.mark.django_db(transaction=True)


def word_fits(page, selector: str, word: str) -> bool:
    """Whether `word`, in the element's own font, fits its width (so it is not broken)."""
    return page.evaluate(
        """([selector, word]) => {
            const element = document.querySelector(selector);
            const style = getComputedStyle(element);
            const probe = document.createElement("span");
            probe.style.font = style.font;
            probe.style.whiteSpace = "nowrap";
            probe.textContent = word;
            document.body.appendChild(probe);
            const width = probe.getBoundingClientRect().width;
            probe.remove();
            const room = element.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return width <= room;
        }""",
        [selector, word],
    )


def indent_in_cell(page, selector: str) -> float:
    """How far the element starts right of the table cell holding it, in pixels."""
    return page.evaluate(
        """(selector) => {
            const element = document.querySelector(selector);
            const cell = element.closest("td");
            return element.getBoundingClientRect().left - cell.getBoundingClientRect().left;
        }""",
        selector,
    )


def test_the_operator_reads_the_admin_at_1280(live_server, desktop, alice, dock, roster, templates):
    soon = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    with transaction.atomic():
        booking = booking_save(
            data=booking_data(dock, external_ref="BS-BOARD-1", starts_at=soon),
            plan=[
                PlannedAssignment(member_code="CAP_001", role="captain"),
                PlannedAssignment(member_code="CREW_001", role="deckhand"),
                PlannedAssignment(member_code="CREW_002", role="deckhand"),
            ],
            via="test",
        ).booking
        for i in range(2, 6):
            booking_save(
                data=booking_data(
                    dock,
                    external_ref=f"GMB-LONG-REFERENCE-{i}",
                    source="getmyboat",
                    guest_name="Alexandra Montgomery-Whitfield",
                    starts_at=soon + timedelta(days=i),
                ),
                via="test",
            )
    StageRun.objects.filter(run__booking=booking, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, attempts=3, last_error="EndpointConnectionError: S3 unreachable"
    )
    Assignment.objects.filter(event__booking_id=booking.pk, role="captain").update(
        state=AssignmentState.DECLINED, decline_reason="Family wedding"
    )
    base = live_server.url
    page = desktop.new_page()
    admin_sign_in(page, base, "alice")

    page.goto(f"{base}/admin/")
    board = page.inner_text("#needs-attention")
    assert "Boatsetter BS-BOARD-1" in board and "Guest page publish failed" in board
    assert page.get_by_role("button", name="Retry").count() >= 1
    # One row per charter and kind: BS-BOARD-1's pipeline and crew, a crew row for each other.
    assert page.locator("#needs-attention tbody tr").count() == 6
    assert "Marco Reyes declined: “Family wedding”. No captain has accepted." in board
    # The board takes the page's width (no column kept empty for the admin's recent actions).
    assert page.evaluate("document.getElementById('needs-attention').offsetWidth") >= 1100
    screenshot(page, "admin-index-1280")

    page.goto(f"{base}/admin/bookings/booking/")
    assert "GMB-LONG-REFERENCE-5" in page.inner_text("#result_list")
    assert no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "admin-bookings-list-1280")

    # The captain's shift typed in hours on the booking form; a deckhand slot opened on the crew
    # event page: the booking's audit log says both in words, by name and role.
    change = f"{base}/admin/bookings/booking/{booking.pk}/change/"
    page.goto(change)
    assert page.input_value("#id_crew_0_shift_minutes") == "5:00"
    page.fill("#id_crew_0_shift_minutes", "5.5")
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state()
    event = CrewEvent.objects.get(booking_id=booking.pk)
    page.goto(f"{base}/admin/crew/crewevent/{event.pk}/change/")
    assert "shift (hours)" in page.inner_text("#assignments-group").lower()
    page.select_option("#id_add_slot", "deckhand")
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state()
    # The shifts' boxes are narrow ("5:30"): the inline's rows fit the page.
    assert no_horizontal_scroll(page), page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "admin-crew-event-1280")

    # Sam leaves the roster (the operator unticks him); Dana declines in the portal: the log
    # names both, and the places each opens, beside the first crew the "created" entry lists.
    sam = CrewMember.objects.get(code="CREW_002")
    page.goto(f"{base}/admin/crew/crewmember/{sam.pk}/change/")
    page.uncheck("#id_active")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert "Sam Ortiz is still assigned to 1 upcoming charter(s)" in page.inner_text(".messagelist")
    dana = Assignment.objects.get(event=event, member__code="CREW_001")
    assignment_respond(assignment=dana, accepted=False, reason="Sick")

    page.goto(change)
    audit = page.inner_text(".audit-log")
    assert "Crew: changed Marco Reyes (captain): shift 5 h → 5 h 30 min" in audit, audit
    assert "Crew: opened a deckhand slot" in audit, audit
    for line in (
        "Crew: added Sam Ortiz (deckhand)",
        "Crew: Sam Ortiz deactivated (deckhand)",
        "Crew: opened a deckhand slot in Sam Ortiz's place",
        "Crew: Dana Cole declined (deckhand)",
        "Crew: opened a deckhand slot in Dana Cole's place",
    ):
        assert line in audit, audit
    assert "CAP_001" not in audit
    assert page.get_by_role("button", name=re.compile("Retry failed stages")).count() == 1
    assert no_horizontal_scroll(page)
    # The zone in a label is not cut mid-word; the audit's lines start under their heading.
    assert word_fits(page, ".field-starts_at label", "(America/Los_Angeles):")
    assert indent_in_cell(page, "ul.audit-changes") < 16
    assert "Vessel: Jada" in page.inner_text(".audit-log")
    screenshot(page, "admin-booking-1280")

    page.goto(f"{base}/admin/bookings/booking/calendar/?month={soon:%Y-%m}")
    assert "day: gross" in page.inner_text("#content")
    screenshot(page, "admin-calendar-1280")
