"""Small guarantees of the guest side, each pinned so that breaking it fails here."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from guests import cloudfront, render
from guests.models import GuestPage
from guests.services import guest_pages_publish_bulk
from jada.services import booking_save
from tests.factories import booking_data
from tests.guests.cloudfront import created, references
from tests.helpers import rendered_for


def test_guest_page_text_is_escaped(dock, roster, templates):
    dock.name = "Pier <i>9</i> & Co"
    dock.directions = 'Gate "C"<script>alert(1)</script>'
    dock.save()
    booking = booking_save(
        data=booking_data(dock, guest_name="<b>Ann</b> Smith", external_ref="<img src=x>"),
        via="test",
    ).booking

    _, rendered = rendered_for(booking)
    html = rendered.html.decode()

    assert "&lt;b&gt;Ann&lt;/b&gt;" in html and "<b>" not in html
    assert "Pier &lt;i&gt;9&lt;/i&gt; &amp; Co" in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "<script" not in html
    assert "&lt;img src=x&gt;" in html and "<img" not in html


@pytest.fixture
def stubbed_cloudfront(s3_guest_storage, monkeypatch):
    """CloudFront through botocore's Stubber, recording each create_invalidation's parameters."""
    client = boto3.client(
        "cloudfront", endpoint_url=s3_guest_storage.endpoint_url, region_name="us-east-1"
    )
    calls: list[dict] = []
    client.meta.events.register(
        "before-parameter-build.cloudfront.CreateInvalidation",
        lambda params, **kwargs: calls.append(params),
    )
    monkeypatch.setattr(cloudfront, "cloudfront_client", lambda: client)
    with Stubber(client) as stubber:
        yield stubber, calls
        stubber.assert_no_pending_responses()


@pytest.fixture
def page_template_v2(monkeypatch):
    """A change to the page template: the same facts render to other bytes."""
    original = render.render_to_string

    def changed(name, context=None, *args, **kwargs):
        html = original(name, context, *args, **kwargs)
        return html.replace("</footer>", "<p>New footer line</p></footer>")

    def apply(on: bool) -> None:
        monkeypatch.setattr(render, "render_to_string", changed if on else original)

    return apply


def test_a_bulk_re_publish_after_a_template_change_and_its_revert_invalidates_each_time(
    dock,
    roster,
    templates,
    stubbed_cloudfront,
    page_template_v2,
):
    stubber, calls = stubbed_cloudfront
    for n in range(4):
        stubber.add_response("create_invalidation", created("x", f"I{n}"))
    booking = booking_save(data=booking_data(dock), via="test").booking

    guest_pages_publish_bulk()  # first publication
    page_template_v2(True)
    guest_pages_publish_bulk()  # the template changed
    page_template_v2(False)
    guest_pages_publish_bulk()  # ... and was reverted: the bytes of the first publication
    page_template_v2(True)
    guest_pages_publish_bulk()  # ... and changed again: the bytes of the second

    page = GuestPage.objects.get(booking_id=booking.pk)
    assert len(calls) == 4
    # A reference CloudFront has seen answers with the old invalidation and clears nothing.
    assert len(set(references(calls))) == 4, references(calls)
    assert all(
        sorted(c["InvalidationBatch"]["Paths"]["Items"])
        == sorted([page.path, f"/{page.object_name}"])
        for c in calls
    )
