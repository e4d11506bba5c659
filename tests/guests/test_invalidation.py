"""CloudFront: deterministic CallerReference, exact paths, one call per bulk re-export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from guests import cloudfront
from guests.models import GuestPage, PageState
from guests.services import guest_page_publish, guest_pages_publish_bulk
from jada.services import booking_save
from tests.factories import booking_data
from tests.guests.cloudfront import created, references

START = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)


@pytest.fixture
def stubbed_cloudfront(s3_guest_storage, monkeypatch):
    """CloudFront through botocore's Stubber (moto has no CallerReference idempotency).

    Yields (stubber, calls): queue responses on the stubber; `calls` receives the parameters of
    every create_invalidation the code makes.
    """
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


def test_a_retried_publish_sends_the_same_reference(booking, stubbed_cloudfront):
    stubber, calls = stubbed_cloudfront
    stubber.add_client_error("create_invalidation", "ServiceUnavailable", http_status_code=503)
    stubber.add_response("create_invalidation", created("x"))

    with pytest.raises(Exception, match="ServiceUnavailable"):
        guest_page_publish(booking_id=booking.pk)
    assert GuestPage.objects.get(booking_id=booking.pk).state == PageState.FAILED
    result = guest_page_publish(booking_id=booking.pk)

    page = GuestPage.objects.get(booking_id=booking.pk)
    assert result.uploaded and page.state == PageState.PUBLISHED
    assert len(calls) == 2
    first, second = references(calls)
    assert first == second
    assert str(page.pk) in first and page.content_hash in first
    assert calls[0]["InvalidationBatch"]["Paths"] == calls[1]["InvalidationBatch"]["Paths"]


def test_each_new_version_gets_a_new_reference(dock, booking, stubbed_cloudfront):
    stubber, calls = stubbed_cloudfront
    for n in range(3):
        stubber.add_response("create_invalidation", created("x", f"I{n}"))
    nine, ten = datetime(2030, 5, 30, 16, tzinfo=UTC), datetime(2030, 5, 30, 17, tzinfo=UTC)

    guest_page_publish(booking_id=booking.pk)
    booking_save(data=booking_data(dock, starts_at=ten), via="test")
    guest_page_publish(booking_id=booking.pk)
    # Back to the first time: the page must still be invalidated, so the reference is new too.
    booking_save(data=booking_data(dock, starts_at=nine), via="test")
    guest_page_publish(booking_id=booking.pk)

    assert len(set(references(calls))) == 3


def test_the_reference_follows_page_and_content_only():
    a = cloudfront.caller_reference([(1, "", "a" * 64)])
    assert a == cloudfront.caller_reference([(1, "", "a" * 64)])
    assert a != cloudfront.caller_reference([(2, "", "a" * 64)])
    assert a != cloudfront.caller_reference([(1, "", "b" * 64)])
    bulk = [(1, "", "a" * 64), (2, "c" * 64, "d" * 64)]
    assert cloudfront.caller_reference(bulk) == cloudfront.caller_reference(bulk[::-1])
    assert len(cloudfront.caller_reference(bulk)) <= 128


def make_bookings(dock, count: int) -> list[int]:
    return [
        booking_save(
            # A day apart: one vessel, one charter at a time.
            data=booking_data(
                dock, external_ref=f"BS-BULK-{n}", starts_at=START + timedelta(days=n)
            ),
            via="test",
        ).booking.pk
        for n in range(count)
    ]


def test_a_bulk_export_makes_one_invalidation_call(
    dock, roster, templates, s3_guest_storage, moto_requests
):
    ids = make_bookings(dock, 5)
    done: list[int] = []

    result = guest_pages_publish_bulk(progress=done.append)

    assert (result.checked, result.published, result.unchanged) == (5, 5, 0)
    assert sum(done) == 5
    assert len([r for r in moto_requests if r.service == "s3" and r.method == "PUT"]) == 5
    assert len([r for r in moto_requests if r.service == "cloudfront"]) == 1
    [invalidation] = s3_guest_storage.invalidations()
    pages = GuestPage.objects.filter(booking_id__in=ids)
    expected = {p for page in pages for p in (f"/g/{page.session_id}", f"/{page.object_name}")}
    assert set(invalidation["InvalidationBatch"]["Paths"]["Items"]) == expected
    assert all(page.state == PageState.PUBLISHED for page in pages)
    assert result.summary().startswith("5 guest pages checked: 5 published, 0 unchanged")


def test_an_unchanged_bulk_export_makes_no_request(
    dock, roster, templates, s3_guest_storage, moto_requests
):
    make_bookings(dock, 3)
    guest_pages_publish_bulk()
    moto_requests.clear()

    result = guest_pages_publish_bulk()

    assert (result.published, result.unchanged, result.invalidation_calls) == (0, 3, 0)
    assert moto_requests == []


def test_a_bulk_export_of_some_changed_pages(
    dock, roster, templates, s3_guest_storage, moto_requests
):
    ids = make_bookings(dock, 4)
    guest_pages_publish_bulk()
    data = booking_data(
        dock, external_ref="BS-BULK-2", guest_count=6, starts_at=START + timedelta(days=2)
    )
    booking_save(data=data, via="test")
    moto_requests.clear()

    result = guest_pages_publish_bulk()

    assert (result.published, result.unchanged, result.invalidation_calls) == (1, 3, 1)
    assert [(r.service, r.method) for r in moto_requests] == [("s3", "PUT"), ("cloudfront", "POST")]
    page = GuestPage.objects.get(booking_id=ids[2])
    [latest] = [i for i in s3_guest_storage.invalidations() if i["Id"] == result.invalidation_id]
    assert sorted(latest["InvalidationBatch"]["Paths"]["Items"]) == sorted(
        [f"/g/{page.session_id}", f"/{page.object_name}"]
    )


def test_all_re_uploads_even_unchanged_pages(
    dock, roster, templates, s3_guest_storage, moto_requests
):
    make_bookings(dock, 3)
    guest_pages_publish_bulk()
    moto_requests.clear()

    result = guest_pages_publish_bulk(changed_only=False)

    assert (result.published, result.invalidation_calls, result.invalidated_paths) == (3, 1, 6)
    assert len(moto_requests) == 4


def test_a_dry_run_writes_nothing(dock, roster, templates, s3_guest_storage, moto_requests):
    make_bookings(dock, 3)
    result = guest_pages_publish_bulk(dry_run=True)
    assert (result.published, result.dry_run) == (3, True)
    assert moto_requests == []
    assert not GuestPage.objects.exclude(published_hash="").exists()
    assert "would be published" in result.summary()


def test_a_huge_batch_falls_back_to_the_two_wildcards(
    dock, roster, templates, s3_guest_storage, monkeypatch
):
    make_bookings(dock, 3)
    monkeypatch.setattr(cloudfront, "MAX_EXACT_PATHS", 4)
    guest_pages_publish_bulk()
    [invalidation] = s3_guest_storage.invalidations()
    assert sorted(invalidation["InvalidationBatch"]["Paths"]["Items"]) == ["/g/*", "/jada-guest-*"]


def test_pages_whose_booking_is_gone_are_counted_not_published(
    dock, roster, templates, s3_guest_storage
):
    from bookings.models import Booking

    ids = make_bookings(dock, 2)
    Booking.objects.filter(pk=ids[0]).delete()
    result = guest_pages_publish_bulk()
    assert (result.checked, result.missing, result.published) == (2, 1, 1)


def test_a_failed_bulk_upload_records_nothing(
    dock, roster, templates, s3_guest_storage, settings, moto_requests
):
    make_bookings(dock, 3)
    options = settings.STORAGES["guest_pages"]["OPTIONS"]
    settings.STORAGES = {
        **settings.STORAGES,
        "guest_pages": {
            **settings.STORAGES["guest_pages"],
            "OPTIONS": {**options, "bucket_name": "no-such-bucket"},
        },
    }

    with pytest.raises(Exception, match="NoSuchBucket"):
        guest_pages_publish_bulk()

    assert not GuestPage.objects.exclude(published_hash="").exists()
    assert [r for r in moto_requests if r.service == "cloudfront"] == []


def test_a_forced_re_send_of_unchanged_pages_gets_a_reference_of_its_own(
    dock, roster, templates, stubbed_cloudfront
):
    # Retries of a change share a reference; a forced re-send exists to clear a wrong cache,
    # so CloudFront must not answer it with an earlier invalidation.
    stubber, calls = stubbed_cloudfront
    for n in range(5):
        stubber.add_response("create_invalidation", created("x", f"I{n}"))
    [booking_id] = make_bookings(dock, 1)
    guest_pages_publish_bulk()
    guest_pages_publish_bulk(changed_only=False)
    guest_pages_publish_bulk(changed_only=False)
    guest_page_publish(booking_id=booking_id, force=True)
    guest_page_publish(booking_id=booking_id, force=True)
    first, *forced = references(calls)
    assert len(forced) == 4 and len(set(forced)) == 4
    assert first not in forced
