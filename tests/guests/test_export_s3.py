"""Export through django-storages and boto3 to moto's S3 and CloudFront, over real HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.conf import settings

from guests.models import GuestPage, PageState
from guests.services import guest_page_publish
from jada.services import booking_save
from tests.aws import assert_fit_for_a_page_that_changes
from tests.factories import booking_data


def uploads(requests):
    return [r for r in requests if r.service == "s3" and r.method == "PUT"]


def invalidation_calls(requests):
    return [r for r in requests if r.service == "cloudfront" and r.method == "POST"]


def test_it_uploads_the_page_with_its_headers(booking, s3_guest_storage):
    result = guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)

    obj = s3_guest_storage.s3().get_object(
        Bucket=s3_guest_storage.bucket, Key=f"jada-guest-{page.session_id.lower()}.html"
    )
    body = obj["Body"].read()
    assert obj["ContentType"] == "text/html; charset=utf-8"
    assert obj["CacheControl"] == settings.GUEST_PAGES_CACHE_CONTROL
    assert_fit_for_a_page_that_changes(obj["CacheControl"])
    assert b"Sheraton Hotel Dock" in body
    assert result.uploaded
    assert result.content_hash == page.content_hash == page.published_hash
    assert page.state == PageState.PUBLISHED and page.published_at is not None


def test_it_sets_no_acl(booking, s3_guest_storage, moto_requests):
    guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    # Buckets with ACLs disabled (the default) refuse any upload that names one, even "private".
    [put] = [r for r in moto_requests if r.service == "s3" and r.method == "PUT"]
    assert put.headers.get("content-type") == "text/html; charset=utf-8"
    assert not any(name.startswith("x-amz-grant") or name == "x-amz-acl" for name in put.headers)
    acl = s3_guest_storage.s3().get_object_acl(Bucket=s3_guest_storage.bucket, Key=page.object_name)
    # Only the owner's grant: nothing public, nothing sent by the upload.
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]


def test_it_invalidates_exactly_the_two_cache_keys(booking, s3_guest_storage):
    result = guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)

    [invalidation] = s3_guest_storage.invalidations()
    paths = invalidation["InvalidationBatch"]["Paths"]["Items"]
    assert sorted(paths) == sorted([f"/g/{page.session_id}", f"/{page.object_name}"])
    assert paths[1] == f"/jada-guest-{page.session_id.lower()}.html"
    assert invalidation["Id"] == result.invalidation_id


def test_an_unchanged_page_makes_no_request(booking, s3_guest_storage, moto_requests):
    guest_page_publish(booking_id=booking.pk)
    assert len(uploads(moto_requests)) == 1
    moto_requests.clear()

    result = guest_page_publish(booking_id=booking.pk)

    assert result.uploaded is False
    assert moto_requests == []


def test_a_changed_page_is_uploaded_and_invalidated_once(
    dock, booking, s3_guest_storage, moto_requests
):
    guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    first_hash = page.published_hash
    booking_save(
        data=booking_data(dock, starts_at=datetime(2030, 5, 30, 18, 0, tzinfo=UTC)), via="test"
    )
    moto_requests.clear()

    result = guest_page_publish(booking_id=booking.pk)

    assert len(uploads(moto_requests)) == 1
    assert len(invalidation_calls(moto_requests)) == 1
    assert len(moto_requests) == 2
    page.refresh_from_db()
    assert result.uploaded and page.published_hash != first_hash
    latest = [i for i in s3_guest_storage.invalidations() if i["Id"] == result.invalidation_id]
    assert sorted(latest[0]["InvalidationBatch"]["Paths"]["Items"]) == sorted(
        [f"/g/{page.session_id}", f"/jada-guest-{page.session_id.lower()}.html"]
    )
    body = s3_guest_storage.s3().get_object(Bucket=s3_guest_storage.bucket, Key=page.object_name)
    assert b"11:00 AM PDT" in body["Body"].read()


def test_a_money_only_change_uploads_nothing(dock, booking, s3_guest_storage, moto_requests):
    from decimal import Decimal

    guest_page_publish(booking_id=booking.pk)
    booking_save(data=booking_data(dock, gross_revenue=Decimal("999.99")), via="test")
    moto_requests.clear()

    assert guest_page_publish(booking_id=booking.pk).uploaded is False
    assert moto_requests == []


def test_without_a_distribution_it_only_uploads(booking, s3_guest_storage, moto_requests, settings):
    settings.CLOUDFRONT_DISTRIBUTION_ID = ""
    result = guest_page_publish(booking_id=booking.pk)
    assert result.uploaded and result.invalidation_id is None
    assert invalidation_calls(moto_requests) == []


def test_a_storage_error_propagates_and_marks_the_page_failed(booking, s3_guest_storage, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "guest_pages": {
            **settings.STORAGES["guest_pages"],
            "OPTIONS": {
                **settings.STORAGES["guest_pages"]["OPTIONS"],
                "bucket_name": "no-such-bucket",
            },
        },
    }
    with pytest.raises(Exception, match="NoSuchBucket"):
        guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert page.state == PageState.FAILED
    assert page.published_hash == ""


def test_a_booking_without_a_page_record_gets_one(booking, s3_guest_storage):
    GuestPage.objects.filter(booking_id=booking.pk).delete()
    result = guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert result.uploaded and result.session_id == page.session_id
    assert re.fullmatch(r"[A-Z0-9]{10,32}", page.session_id)
