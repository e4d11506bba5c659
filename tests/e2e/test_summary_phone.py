"""The operator's summary email read on a phone: nothing wider than 390 px."""

from __future__ import annotations

from decimal import Decimal

from bookings.selectors import booking_operational
from crew.models import Assignment
from crew.services import assignment_respond, crew_event_sync
from jada.models import PipelineRun, Stage, StageRun, StageState
from jada.services import booking_save
from jada.summary import summary_context, summary_message
from tests.e2e.browser import PHONE, screenshot
from tests.factories import WRITEUP_PLAN, booking_data

LONG_ERROR = (
    "EndpointConnectionError: Could not connect to the endpoint URL: "
    "https://queenofsandiego-guest-pages.s3.us-west-2.amazonaws.com/"
    "jada-guest-xhqgmdh7k2p9.html?x-id=PutObject&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD"
)


def test_the_summary_fits_a_phone(phone, dock, roster, templates, settings):
    settings.SITE_URL = "https://ops.sailjada.example.com"
    settings.GUEST_SITE_URL = "https://queenofsandiego.example.com"
    data = booking_data(
        dock,
        external_ref="BS-2030-0530-EXTENDED-REFERENCE-WITHOUT-SPACES-0123456789",
        guest_name="Maximilian Alexander Featherstonehaugh-Worthington",
        guest_email="maximilian.featherstonehaugh-worthington@corporate-events.example.com",
        gross_revenue=Decimal("1234567.89"),
    )
    booking = booking_save(data=data, via="test").booking
    crew_event_sync(booking=booking_operational(booking.pk), plan=WRITEUP_PLAN)
    sam = Assignment.objects.get(event__booking_id=booking.pk, member__code="CREW_002")
    assignment_respond(assignment=sam, accepted=False, reason="Out of town that week, sorry")

    run = PipelineRun.objects.get(booking=booking)
    StageRun.objects.filter(run=run, stage=Stage.GUEST_PUBLISH).update(
        state=StageState.FAILED, attempts=6, last_error=LONG_ERROR
    )
    message = summary_message(summary_context(run))
    [(html, _)] = message.alternatives

    page = phone.new_page()
    page.set_content(html)
    shot = screenshot(page, "operator-summary-390")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{width} px wide; see {shot}"
    # Every box stays inside the screen, not only the page's scroll width.
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map(e => e.tagName + ': ' + e.textContent.slice(0, 40))"""
    )
    assert overflowing == []
    # Labels stay whole words on one line; the values beside them wrap instead.
    label_lines = page.evaluate(
        """() => [...document.querySelectorAll('th')].map(e => {
            const range = document.createRange();
            range.selectNodeContents(e);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        })"""
    )
    assert label_lines and set(label_lines) == {1}, label_lines
