"""`/g/<ID>` serves the exported bytes from the configured storage; anything else is a bare 404."""

from __future__ import annotations

import http.server
import threading

import html5lib
import pytest
from django.urls import reverse

from guests.models import GuestPage
from guests.services import guest_page_publish
from tests.aws import assert_fit_for_a_page_that_changes


def test_the_default_storage_is_the_file_system(booking, guest_pages_in_tmp):
    guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    exported = guest_pages_in_tmp / f"jada-guest-{page.session_id.lower()}.html"
    assert exported.read_bytes()[:15] == b"<!DOCTYPE html>"


def test_it_serves_the_exported_file(client, booking, guest_pages_in_tmp):
    guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)

    response = client.get(reverse("guests-page", args=[page.session_id]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response.content == (guest_pages_in_tmp / page.object_name).read_bytes()
    assert page.path == f"/g/{page.session_id}"
    assert_fit_for_a_page_that_changes(response["Cache-Control"])


def test_it_serves_the_s3_object(client, booking, s3_guest_storage):
    guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)

    response = client.get(page.path)

    stored = s3_guest_storage.s3().get_object(Bucket=s3_guest_storage.bucket, Key=page.object_name)
    assert response.status_code == 200
    assert response.content == stored["Body"].read()


def test_serving_needs_no_database(client, booking, django_assert_num_queries):
    guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    # Like CloudFront, the view maps the id to the object name; nothing is looked up.
    with django_assert_num_queries(0):
        assert client.get(page.path).status_code == 200
        assert client.get("/g/ZZZZZZZZZZZZ").status_code == 404


def test_ids_are_case_insensitive_like_the_cloudfront_function(client, booking):
    guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert client.get(f"/g/{page.session_id.lower()}").status_code == 200


def test_an_overwritten_page_keeps_its_name(client, dock, booking, guest_pages_in_tmp):
    from jada.services import booking_save
    from tests.factories import booking_data

    guest_page_publish(booking_id=booking.pk)
    booking_save(data=booking_data(dock, guest_count=7), via="test")
    guest_page_publish(booking_id=booking.pk)
    assert len(list(guest_pages_in_tmp.iterdir())) == 1
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert b"party of 7" in client.get(page.path).content


@pytest.mark.parametrize(
    "path",
    [
        "/g/ZZZZZZZZZZZZ",  # well-formed, unknown
        "/g/SHORT",  # too short to be an id
        "/g/" + "A" * 33,  # too long
        "/g/ABC..DEF123",
        "/g/ABCDEFGHIJ%00",
        "/g/ABCDEFGHIJ%2e%2e",
    ],
)
def test_unknown_ids_get_a_404_that_reveals_nothing(client, booking, path):
    guest_page_publish(booking_id=booking.pk)
    response = client.get(path)
    assert response.status_code == 404
    body = response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "Page not found" in body
    for secret in ("Jordan", "Sheraton", "jada-guest", "Traceback", "urlpatterns", "Boatsetter"):
        assert secret not in body
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(response.content)


@pytest.mark.parametrize("path", ["/g/", "/g/%2e%2e%2fdb.sqlite3", "/g/ABCDEFGHIJKL/extra"])
def test_paths_that_are_no_id_are_plain_404s(client, booking, path):
    guest_page_publish(booking_id=booking.pk)
    response = client.get(path)
    assert response.status_code == 404
    assert b"Jordan" not in response.content and b"jada-guest" not in response.content


def test_a_page_not_yet_published_is_unknown(client, booking):
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert client.get(page.path).status_code == 404


def test_it_only_answers_get_and_head(client, booking):
    guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert client.head(page.path).status_code == 200
    assert client.post(page.path).status_code == 405


def test_an_unknown_id_on_s3_is_the_same_404(client, booking, s3_guest_storage):
    guest_page_publish(booking_id=booking.pk)
    response = client.get("/g/ZZZZZZZZZZZZ")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Jordan" not in response.content and b"NoSuchKey" not in response.content


@pytest.fixture
def s3_that_denies(settings, monkeypatch):
    """An S3 endpoint answering every request 403 AccessDenied, as S3 does for a missing key
    when the reader may not list the bucket."""
    from guests.storage import STORAGE_ALIAS
    from jada.settings import guest_pages_storage
    from tests.aws import FAKE_AWS_ENV

    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)

    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
        b"<Message>Access Denied</Message></Error>"
    )

    class Deny(http.server.BaseHTTPRequestHandler):
        def _deny(self) -> None:
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_PUT = _deny

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Deny)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    settings.STORAGES = {
        **settings.STORAGES,
        STORAGE_ALIAS: guest_pages_storage(
            bucket="guest-pages", endpoint_url=endpoint, region_name="us-east-1"
        ),
    }
    yield endpoint
    server.shutdown()
    server.server_close()


def test_a_key_s3_will_not_admit_to_is_a_404_not_a_500(client, booking, s3_that_denies):
    response = client.get("/g/ZZZZZZZZZZZZ")
    assert response.status_code == 404
    assert b"Page not found" in response.content
