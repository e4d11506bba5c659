"""Input that used to break the intake API: framing, media types, duplicate keys, Unicode, -0."""

from __future__ import annotations

import io
import json
import unicodedata

import pytest
from django.test import Client

from bookings.models import AuditEntry, Booking
from jada.api import views
from jada.intake import IntakeConflict
from tests.jada.intake_support import new_token, post, row_counts, write_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(db) -> str:
    return new_token()


@pytest.fixture
def ready(dock, roster, templates) -> None:
    """The write-up's dock, roster and checklist templates exist."""


def chunked(client, body: bytes, token: str, *, terminated: bool = True):
    """A POST framed as gunicorn hands over a chunked one: no Content-Length, input to EOF."""
    extra = {
        "CONTENT_LENGTH": "",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_X_DASHBOARD_TOKEN": token,
        "wsgi.input": io.BytesIO(body),
    }
    if terminated:
        extra["wsgi.input_terminated"] = True
    return client.generic("POST", "/api/bookings", b"", "application/json", **extra)


def test_a_chunked_body_is_read(client, token, ready):
    response = chunked(client, json.dumps(write_up()).encode(), token)
    assert response.status_code == 201, response.json()
    assert Booking.objects.get().external_ref == "BS-2030-0530"


def test_a_chunked_body_over_the_limit_is_refused_unread(client, token, ready):
    body = json.dumps(write_up(notes="x" * 70_000)).encode()
    before = row_counts()
    response = chunked(client, body, token)
    assert response.status_code == 400
    assert "64 KB" in response.json()["errors"]["body"][0]
    assert row_counts() == before


def test_a_chunked_body_the_server_cannot_end_is_a_json_411(client, token, ready):
    before = row_counts()
    response = chunked(client, json.dumps(write_up()).encode(), token, terminated=False)
    assert response.status_code == 411
    assert "Content-Length" in response.json()["errors"]["body"][0]
    assert row_counts() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_json_is_a_415(client, token, ready, content_type):
    before = row_counts()
    response = client.post(
        "/api/bookings",
        data=json.dumps(write_up()),
        content_type=content_type,
        headers={"X-Dashboard-Token": token},
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["errors"]["body"][0]
    assert row_counts() == before


def test_json_with_a_charset_is_json(client, token, ready):
    response = client.post(
        "/api/bookings",
        data=json.dumps(write_up()),
        content_type="application/json; charset=utf-8",
        headers={"X-Dashboard-Token": token},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        '{"source": "boatsetter", ' + json.dumps(write_up())[1:],
        json.dumps(write_up())[:-1] + ', "guest": {"name": "A", "count": 2, "count": 40}}',
    ],
    ids=["top level", "nested"],
)
def test_a_key_given_twice_is_a_400(client, token, ready, body):
    before = row_counts()
    response = post(client, body, token=token, raw=True)
    assert response.status_code == 400
    assert "appears twice" in response.json()["errors"]["body"][0]
    assert row_counts() == before


def test_a_reference_in_nfc_and_nfd_is_one_booking(client, token, ready):
    nfc, nfd = "\u00c9-1", "E\u0301-1"
    assert unicodedata.normalize("NFC", nfd) == nfc != nfd

    first = post(client, write_up(external_ref=nfd), token=token)
    second = post(client, write_up(external_ref=nfc), token=token)

    assert (first.status_code, second.status_code) == (201, 200)
    assert Booking.objects.get().external_ref == nfc
    assert first.json()["external_ref"] == nfc


def test_negative_zero_is_stored_and_audited_as_zero(client, token, ready):
    post(client, write_up(crew_cost=250), token=token)
    body = json.dumps(write_up(net_revenue=None)).replace('"crew_cost": 250.0', '"crew_cost": -0.0')
    assert '"crew_cost": -0.0' in body

    response = post(client, body, token=token, raw=True)

    assert response.status_code == 200, response.json()
    assert response.json()["crew_cost"] == "0.00"
    assert str(Booking.objects.get().financials.crew_cost) == "0.00"
    entry = AuditEntry.objects.filter(action="changed").get()
    assert entry.changes["crew_cost"] == ["250.00", "0.00"]
    again = post(client, write_up(crew_cost="-0", net_revenue=None), token=token)
    assert again.status_code == 200 and again.json()["crew_cost"] == "0.00"
    assert AuditEntry.objects.filter(action="changed").count() == 1  # -0 again is no change


def test_a_trailing_slash_is_the_same_endpoint(client, token, ready):
    response = client.post(
        "/api/bookings/",
        data=json.dumps(write_up()),
        content_type="application/json",
        headers={"X-Dashboard-Token": token},
    )
    assert response.status_code == 201
    doc = client.get(
        f"/api/bookings/{response.json()['id']}/", headers={"X-Dashboard-Token": token}
    )
    assert doc.status_code == 200 and doc.json()["id"] == response.json()["id"]
    assert client.get("/api/bookings/", headers={"X-Dashboard-Token": token}).json()["errors"]


@pytest.mark.parametrize("path", ["/api/", "/api/booking", "/api/bookings/1/crew", "/api/x%0Ay"])
def test_any_other_api_path_is_a_json_404(client, token, path):
    response = client.get(path, headers={"X-Dashboard-Token": token})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "No such endpoint" in response.json()["errors"]["path"][0]


def test_an_unexpected_failure_is_a_json_500(token, ready, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(views, "booking_intake", broken)
    client = Client(raise_request_exception=False)

    response = post(client, write_up(), token=token)

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["errors"]) == ["server"]
    assert "disk" not in response.content.decode()
    # Logged as Django logs a 500, with the traceback, for the operator.
    logged = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert logged and "the disk is full" in str(logged[0].exc_info[1])


def test_a_failure_outside_the_views_is_json_under_api_only(rf):
    api = views.server_error(rf.get("/api/bookings/1"))
    assert (api.status_code, api["Content-Type"]) == (500, "application/json")
    site = views.server_error(rf.get("/admin/"))
    assert site.status_code == 500 and site["Content-Type"].startswith("text/html")
    bad = views.bad_request(rf.get("/api/bookings"), ValueError("bad host"))
    assert (bad.status_code, bad["Content-Type"]) == (400, "application/json")


def test_a_conflict_is_a_409_with_the_errors_shape(client, token, ready, monkeypatch):
    message = "JADA is booked 09:00-12:00 by BS-1."

    def conflict(**kwargs):
        raise IntakeConflict({"vessel": [message]})

    monkeypatch.setattr(views, "booking_intake", conflict)
    response = post(client, write_up(), token=token)
    assert response.status_code == 409
    assert response.json() == {"errors": {"vessel": [message]}}
