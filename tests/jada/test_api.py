"""POST /api/bookings and GET /api/bookings/<id>: the write-up's dashboard endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from bookings.models import AuditEntry, Booking
from crew.models import Assignment, ChecklistItem, CrewEvent
from guests.models import GuestPage
from jada.models import ApiToken, PipelineRun
from tests.jada.intake_support import new_token, post, row_counts, write_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(db) -> str:
    return new_token()


@pytest.fixture
def ready(dock, roster, templates) -> None:
    """The write-up's dock, roster and checklist templates exist."""


def test_it_creates_the_write_up_booking(client, token, ready):
    response = post(client, write_up(), token=token)

    assert response.status_code == 201, response.json()
    doc = response.json()
    booking = Booking.objects.get(pk=doc["id"])
    assert (doc["source"], doc["external_ref"]) == ("boatsetter", "BS-2030-0530")
    assert doc["status"] == "confirmed"
    # The write-up's figures, as strings so no client reads them as floats.
    assert doc["gross_revenue"] == "840.75"
    assert doc["crew_cost"] == "250.00"
    assert doc["captain_cost"] == "150.00"
    assert doc["port_fee_percent"] == "18.00"
    assert doc["port_fee"] == "151.34"
    assert doc["net_revenue"] == "289.41"
    # 09:00 in San Diego on 30 May is 16:00 UTC (PDT, UTC-7).
    assert doc["starts_at"] == "2030-05-30T16:00:00Z"
    assert doc["starts_at_local"] == "2030-05-30T09:00:00-07:00"
    assert doc["time_zone"] == "America/Los_Angeles"
    assert booking.starts_at == datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
    assert (doc["charter_date"], doc["start_time"]) == ("2030-05-30", "09:00")
    assert (doc["duration_hours"], doc["duration_minutes"]) == ("3", 180)
    assert doc["guest"] == {
        "name": "Jordan Avery",
        "email": "jordan@guest.example.com",
        "phone": "+1 555 0100",
        "count": 4,
    }
    assert doc["location"] == "Sheraton Hotel Dock"
    assert doc["captain_id"] == "CAP_001"
    assert [(c["crew_id"], c["role"], c["duration_hours"]) for c in doc["crew_assignments"]] == [
        ("CREW_001", "deckhand", "5"),
        ("CREW_002", "deckhand", "5"),
    ]
    assert doc["notes"] == "Boatsetter charter, guest briefing required"
    page = GuestPage.objects.get(booking_id=booking.pk)
    assert doc["guest_page"] == {
        "session_id": page.session_id,
        "path": f"/g/{page.session_id}",
        "url": f"http://127.0.0.1:8000/g/{page.session_id}",
    }
    assert doc["pipeline"]["booking"] == "succeeded"
    assert doc["pipeline"]["crew_event"] == "succeeded"
    assert set(doc["pipeline"]) >= {"crew_notify", "guest_publish", "summary"}
    assert doc["warnings"] == []
    # The crew_event and checklist stages are done: the crew event, three assignments and their
    # checklists exist already.
    event = CrewEvent.objects.get(booking_id=booking.pk)
    assert {(a.member.code, a.role) for a in event.assignments.all()} == {
        ("CAP_001", "captain"),
        ("CREW_001", "deckhand"),
        ("CREW_002", "deckhand"),
    }
    assert ChecklistItem.objects.filter(text="Brief 4 guests").count() == 3
    assert PipelineRun.objects.filter(booking=booking).count() == 1
    entry = AuditEntry.objects.get(booking=booking)
    assert (entry.via, entry.actor, entry.by_name) == ("api", None, "API token dashboard")


@override_settings(GUEST_SITE_URL="https://queenofsandiego.com")
def test_the_guest_page_url_is_on_the_guest_domain(client, token, ready):
    doc = post(client, write_up(), token=token).json()
    assert doc["guest_page"]["url"] == f"https://queenofsandiego.com{doc['guest_page']['path']}"


def test_the_same_booking_again_is_200_and_changes_nothing(client, token, ready):
    first = post(client, write_up(), token=token).json()
    before = row_counts()

    again = post(client, write_up(), token=token)

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert row_counts() == before
    assert again.json()["net_revenue"] == "289.41"


def test_a_changed_guest_count_updates_and_runs_the_pipeline_again(client, token, ready):
    post(client, write_up(), token=token)
    guest = {**write_up()["guest"], "count": 6}

    response = post(client, write_up(guest=guest), token=token)

    assert response.status_code == 200
    assert Booking.objects.get().guest_count == 6
    run = PipelineRun.objects.order_by("-pk").first()
    assert PipelineRun.objects.count() == 2
    assert "guest_count" in run.changed
    assert ChecklistItem.objects.filter(text="Brief 6 guests", obsolete=False).count() == 3


def test_a_crew_change_alone_runs_the_pipeline_again(client, token, ready):
    post(client, write_up(), token=token)
    crew = [{"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5}]

    response = post(client, write_up(crew_assignments=crew), token=token)

    assert response.status_code == 200
    assert [c["crew_id"] for c in response.json()["crew_assignments"]] == ["CREW_001"]
    assert PipelineRun.objects.count() == 2
    assert "assignments" in PipelineRun.objects.order_by("-pk").first().changed
    removed = Assignment.objects.get(member__code="CREW_002")
    assert removed.removed_at is not None


def test_a_shift_length_change_counts_as_a_crew_change(client, token, ready):
    post(client, write_up(), token=token)
    crew = [
        {"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 6},
        {"crew_id": "CREW_002", "role": "deckhand", "duration_hours": 5},
    ]
    post(client, write_up(crew_assignments=crew), token=token)
    assert Assignment.objects.get(member__code="CREW_001").shift_minutes == 360
    assert PipelineRun.objects.count() == 2


def test_leaving_the_crew_out_keeps_the_assignments(client, token, ready):
    post(client, write_up(), token=token)
    response = post(client, write_up(captain_id=None, crew_assignments=None), token=token)
    assert response.status_code == 200
    assert response.json()["captain_id"] == "CAP_001"
    assert Assignment.objects.filter(removed_at__isnull=True).count() == 3
    assert PipelineRun.objects.count() == 1


def test_an_empty_crew_list_removes_the_crew(client, token, ready):
    post(client, write_up(), token=token)
    response = post(client, write_up(captain_id=None, crew_assignments=[]), token=token)
    assert response.json()["captain_id"] is None
    assert response.json()["crew_assignments"] == []
    assert Assignment.objects.filter(removed_at__isnull=True).count() == 0


def test_a_money_only_change_is_saved_and_audited_without_a_new_run(client, token, ready):
    post(client, write_up(), token=token)

    response = post(client, write_up(gross_revenue="900.00", net_revenue=None), token=token)

    assert response.status_code == 200
    assert response.json()["gross_revenue"] == "900.00"
    assert response.json()["port_fee"] == "162.00"
    assert response.json()["net_revenue"] == "338.00"
    assert PipelineRun.objects.count() == 1
    entry = AuditEntry.objects.filter(action="changed").get()
    assert entry.via == "api" and entry.changes["gross_revenue"] == ["840.75", "900.00"]


def test_a_cancellation_is_applied_and_runs_the_pipeline(client, token, ready):
    post(client, write_up(), token=token)
    response = post(client, write_up(status="cancelled"), token=token)
    assert response.json()["status"] == "cancelled"
    assert PipelineRun.objects.order_by("-pk").first().reason == "cancelled"


def test_starts_at_with_an_offset_is_the_same_instant(client, token, ready):
    payload = write_up(charter_date=None, start_time=None, starts_at="2030-05-30T16:00:00Z")
    doc = post(client, payload, token=token).json()
    assert doc["starts_at_local"] == "2030-05-30T09:00:00-07:00"
    payload["starts_at"] = "2030-05-30T12:00:00-04:00"
    response = post(client, payload, token=token)
    assert response.status_code == 200
    assert PipelineRun.objects.count() == 1  # the same instant: nothing changed


def test_amounts_as_strings_and_integers_are_exact(client, token, ready):
    payload = write_up(
        gross_revenue="840.75", crew_cost=250, captain_cost="150", port_fee_percent="18.00"
    )
    payload["net_revenue"] = "289.41"
    doc = post(client, payload, token=token).json()
    assert (doc["port_fee"], doc["net_revenue"]) == ("151.34", "289.41")


def test_a_half_hour_charter_is_stored_in_minutes(client, token, ready):
    doc = post(client, write_up(duration_hours="2.5"), token=token).json()
    assert (doc["duration_hours"], doc["duration_minutes"]) == ("2.5", 150)


def test_it_records_when_a_token_was_last_used(client, token, ready):
    post(client, write_up(), token=token)
    assert ApiToken.objects.get().last_used_at is not None


# --- 401 ---


@pytest.mark.parametrize("kind", ["missing", "wrong", "revoked", "empty"])
def test_it_refuses_requests_without_a_valid_token(client, ready, kind):
    good = new_token("good")
    revoked = new_token("old", revoked=True)
    sent = {"missing": None, "wrong": good + "x", "revoked": revoked, "empty": ""}[kind]
    before = row_counts()

    response = post(client, write_up(), token=sent)

    assert response.status_code == 401
    assert "token" in response.json()["errors"]
    assert row_counts() == before
    assert ApiToken.objects.get(name="good").last_used_at is None


def test_a_bad_token_is_refused_before_the_body_is_looked_at(client, ready):
    response = post(client, "{not json", token="nope", raw=True)
    assert response.status_code == 401


# --- 400: one test per case, each counting every table before and after ---


def _crew(**entry):
    return [{"crew_id": "CREW_001", "role": "deckhand", "duration_hours": 5, **entry}]


INVALID = {
    # malformed JSON and wrong top-level shapes
    "malformed JSON": ('{"source": "boatsetter", ', "body"),
    "trailing garbage": (json.dumps(write_up()) + "}", "body"),
    "not an object": ("[1, 2, 3]", "body"),
    "NaN amount": (json.dumps(write_up()).replace("840.75", "NaN"), "body"),
    "Infinity amount": (json.dumps(write_up()).replace("840.75", "Infinity"), "body"),
    "invalid UTF-8": (b'{"source": "\xff\xfe"}', "body"),
    "deep nesting": ("[" * 100_00 + "]" * 100_00, "body"),
    # wrong types
    "amount as words": (write_up(gross_revenue="a lot"), "gross_revenue"),
    "amount as boolean": (write_up(crew_cost=True), "crew_cost"),
    "amount as list": (write_up(captain_cost=[150]), "captain_cost"),
    "amount in exponent text": (write_up(gross_revenue="8.4075e2"), "gross_revenue"),
    "guest count as string": (write_up(guest={**write_up()["guest"], "count": "4"}), "guest.count"),
    "guest count as fraction": (
        write_up(guest={**write_up()["guest"], "count": 4.5}),
        "guest.count",
    ),
    "guest as string": (write_up(guest="Jordan Avery"), "guest"),
    "reference as number": (write_up(external_ref=530), "external_ref"),
    "duration as boolean": (write_up(duration_hours=True), "duration_hours"),
    "crew as object": (write_up(crew_assignments={"crew_id": "CREW_001"}), "crew_assignments"),
    "crew entry as string": (write_up(crew_assignments=["CREW_001"]), "crew_assignments.0"),
    "null field": (write_up() | {"notes": None}, "notes"),
    "null required field": (write_up() | {"location": None}, "location"),
    "unknown field": (write_up() | {"port_fee_pct": 18}, "port_fee_pct"),
    "unknown guest field": (
        write_up(guest={**write_up()["guest"], "age": 40}),
        "guest.age",
    ),
    "unknown source": (write_up(source="craigslist"), "source"),
    "unknown status": (write_up(status="maybe"), "status"),
    "wrong event type": (write_up(event_type="invoice"), "event_type"),
    "unknown role": (write_up(crew_assignments=_crew(role="cook")), "crew_assignments.0.role"),
    "NUL character": (write_up(notes="brief\x00guests"), "notes"),
    "lone surrogate": (write_up(notes="\ud800"), "notes"),
    "reference too long": (write_up(external_ref="X" * 101), "external_ref"),
    "bad guest email": (
        write_up(guest={**write_up()["guest"], "email": "not-an-address"}),
        "guest.email",
    ),
    # missing required fields
    "no source": (write_up(source=None), "source"),
    "no reference": (write_up(external_ref=None), "external_ref"),
    "blank reference": (write_up(external_ref="   "), "external_ref"),
    "no gross revenue": (write_up(gross_revenue=None), "gross_revenue"),
    "no guest": (write_up(guest=None), "guest"),
    "no guest name": (write_up(guest={"count": 4}), "guest.name"),
    "no guest count": (write_up(guest={"name": "Jordan"}), "guest.count"),
    "no location": (write_up(location=None), "location"),
    "no duration": (write_up(duration_hours=None), "duration_hours"),
    "no start at all": (write_up(charter_date=None, start_time=None), "starts_at"),
    "date without time": (write_up(start_time=None), "start_time"),
    "time without date": (write_up(charter_date=None), "charter_date"),
    # Without crew_id an item is an open slot (test_api_open_slots); without a role, nothing.
    "no role": (write_up(crew_assignments=[{"duration_hours": 5}]), "crew_assignments.0.role"),
    # negative amounts and ranges
    "negative crew cost": (write_up(crew_cost=-1, net_revenue=None), "crew_cost"),
    "negative captain cost as text": (write_up(captain_cost="-0.01"), "captain_cost"),
    "negative gross": (write_up(gross_revenue=-840.75), "gross_revenue"),
    "three decimal places": (write_up(gross_revenue="840.755"), "gross_revenue"),
    "amount too large": (write_up(gross_revenue="1000000000000"), "gross_revenue"),
    "huge exponent": (json.dumps(write_up()).replace("840.75", "1e999999"), "gross_revenue"),
    "tiny exponent": (json.dumps(write_up()).replace("840.75", "1e-999999"), "gross_revenue"),
    "huge integer": (json.dumps(write_up()).replace("840.75", "9" * 5000), "body"),
    "fee percent over 100": (write_up(port_fee_percent=100.01), "port_fee_percent"),
    "fee percent negative": (write_up(port_fee_percent=-1), "port_fee_percent"),
    "zero duration": (write_up(duration_hours=0), "duration_hours"),
    "negative duration": (write_up(duration_hours=-3), "duration_hours"),
    "over 24 hours": (write_up(duration_hours=24.5), "duration_hours"),
    "not whole minutes": (write_up(duration_hours="0.001"), "duration_hours"),
    "zero guests": (write_up(guest={**write_up()["guest"], "count": 0}), "guest.count"),
    "crew shift over 24 h": (
        write_up(crew_assignments=_crew(duration_hours=25)),
        "crew_assignments.0.duration_hours",
    ),
    # net revenue that disagrees with the computed one
    "net off by a cent": (write_up(net_revenue=289.40), "net_revenue"),
    "net as if fee rounded down": (write_up(net_revenue="289.42"), "net_revenue"),
    # unknown crew ids or dock
    "unknown crew id": (
        write_up(crew_assignments=_crew(crew_id="CREW_999")),
        "crew_assignments.0.crew_id",
    ),
    "unknown captain": (write_up(captain_id="CAP_404"), "captain_id"),
    "crew listed twice": (
        write_up(crew_assignments=_crew() + _crew()),
        "crew_assignments.1.crew_id",
    ),
    "unknown dock": (write_up(location="Atlantis Pier"), "location"),
    # unparseable dates and times
    "impossible date": (write_up(charter_date="2030-02-30"), "charter_date"),
    "day-first date": (write_up(charter_date="30/05/2030"), "charter_date"),
    "two-digit year": (write_up(charter_date="30-05-30"), "charter_date"),
    "far-past date": (write_up(charter_date="1930-05-30"), "charter_date"),
    "hour 25": (write_up(start_time="25:00"), "start_time"),
    "am/pm time": (write_up(start_time="9am"), "start_time"),
    "time with seconds": (write_up(start_time="09:00:00"), "start_time"),
    "clock change gap": (
        write_up(charter_date="2030-03-10", start_time="02:30"),
        "start_time",
    ),
    "clock change overlap": (
        write_up(charter_date="2030-11-03", start_time="01:30"),
        "start_time",
    ),
    "starts_at without offset": (
        write_up(charter_date=None, start_time=None, starts_at="2030-05-30T09:00:00"),
        "starts_at",
    ),
    "starts_at in words": (
        write_up(charter_date=None, start_time=None, starts_at="next Tuesday"),
        "starts_at",
    ),
    "starts_at at the end of time": (
        write_up(charter_date=None, start_time=None, starts_at="9999-12-31T23:00:00-05:00"),
        "starts_at",
    ),
    "both ways of giving the start": (
        write_up(starts_at="2030-05-30T16:00:00Z"),
        "charter_date",
    ),
}


@pytest.mark.parametrize("case", INVALID.keys())
def test_it_rejects_invalid_bookings_and_writes_nothing(client, token, ready, case):
    body, field = INVALID[case]
    raw = isinstance(body, str | bytes)
    before = row_counts()

    response = post(client, body, token=token, raw=raw)

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors, errors
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)
    assert row_counts() == before


def test_errors_are_reported_field_by_field_all_at_once(client, token, ready):
    payload = write_up(crew_cost=-5, location="Atlantis Pier", charter_date="2030-13-01")
    payload["guest"]["email"] = "nope"
    errors = post(client, payload, token=token).json()["errors"]
    assert set(errors) == {"crew_cost", "location", "charter_date", "guest.email"}
    assert errors["crew_cost"] == ["Must not be negative."]


def test_a_rejected_update_leaves_the_booking_as_it_was(client, token, ready):
    post(client, write_up(), token=token)
    before = row_counts()
    payload = write_up(gross_revenue=999, crew_assignments=_crew(crew_id="CREW_999"))

    response = post(client, payload, token=token)

    assert response.status_code == 400
    assert row_counts() == before
    assert str(Booking.objects.get().financials.gross_revenue) == "840.75"


def test_net_revenue_that_agrees_is_accepted_in_any_spelling(client, token, ready):
    for net in (289.41, "289.41", "289.410", 289.4100):
        response = post(client, write_up(net_revenue=net), token=token)
        assert response.status_code in (200, 201), response.json()


def test_net_revenue_disagreement_names_the_computed_figure(client, token, ready):
    errors = post(client, write_up(net_revenue=300), token=token).json()["errors"]
    assert "289.41" in errors["net_revenue"][0]
    assert "151.34" in errors["net_revenue"][0]


def test_a_body_over_64_kb_is_rejected(client, token, ready):
    payload = write_up(notes="x" * (64 * 1024))
    before = row_counts()

    response = post(client, payload, token=token)

    assert response.status_code == 400
    assert "64 KB" in response.json()["errors"]["body"][0]
    assert row_counts() == before


@pytest.mark.parametrize(("size", "status"), [(64 * 1024, 201), (64 * 1024 + 1, 400)])
def test_the_limit_is_exactly_64_kb(client, token, ready, size, status):
    # A valid booking padded with JSON whitespace to the byte.
    body = json.dumps(write_up()).encode()
    body += b" " * (size - len(body))
    before = row_counts()
    response = post(client, body, token=token, raw=True)
    assert response.status_code == status
    if status == 400:
        assert list(response.json()["errors"]) == ["body"]
        assert row_counts() == before


def test_a_body_just_under_the_limit_is_read(client, token, ready):
    # Over the notes limit but under 64 KB: the JSON is parsed and the field is blamed.
    response = post(client, write_up(notes="x" * 60_000), token=token)
    assert response.status_code == 400
    assert "notes" in response.json()["errors"]


# --- GET ---


def test_get_returns_the_same_document_with_the_pipeline_state(client, token, ready):
    created = post(client, write_up(), token=token).json()

    response = client.get(f"/api/bookings/{created['id']}", headers={"X-Dashboard-Token": token})

    assert response.status_code == 200
    assert response.json() == created
    assert response["Cache-Control"] == "no-store"


def test_get_shows_stage_progress(client, token, ready):
    created = post(client, write_up(), token=token).json()
    run = PipelineRun.objects.get()
    run.stages.filter(stage="guest_publish").update(state="failed")
    doc = client.get(f"/api/bookings/{created['id']}", headers={"X-Dashboard-Token": token}).json()
    assert doc["pipeline"]["guest_publish"] == "failed"


@pytest.mark.parametrize("path", ["12345", "abc", "-1", "99999999999999999999999", "1.5"])
def test_get_of_an_unknown_booking_is_a_json_404(client, token, ready, path):
    response = client.get(f"/api/bookings/{path}", headers={"X-Dashboard-Token": token})
    assert response.status_code == 404
    assert response.json() == {"errors": {"id": ["No booking with this id."]}}


def test_get_needs_a_token(client, token, ready):
    created = post(client, write_up(), token=token).json()
    assert client.get(f"/api/bookings/{created['id']}").status_code == 401
    response = client.get(f"/api/bookings/{created['id']}", headers={"X-Dashboard-Token": "x"})
    assert response.status_code == 401
    assert "net_revenue" not in response.content.decode()


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("get", "/api/bookings", "POST"),
        ("put", "/api/bookings", "POST"),
        ("delete", "/api/bookings/1", "GET"),
        ("post", "/api/bookings/1", "GET"),
        ("post", "/api/openapi.json", "GET"),
    ],
)
def test_other_methods_are_405(client, token, method, path, allow):
    response = getattr(client, method)(path, headers={"X-Dashboard-Token": token})
    assert response.status_code == 405
    assert response["Allow"] == allow
    assert "method" in response.json()["errors"]


def test_the_token_is_checked_by_hash_only(client, ready):
    token = new_token()
    stored = ApiToken.objects.get()
    assert token not in stored.token_hash
    assert post(client, write_up(), token=stored.token_hash).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(client, token, ready):
    post(client, write_up(), token=token)
    first = ApiToken.objects.get().last_used_at
    post(client, write_up(), token=token)
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    post(client, write_up(), token=token)
    assert ApiToken.objects.get().last_used_at > first


def test_unsafe_methods_get_a_json_405_not_a_csrf_403(token):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    for method, path in [("delete", "/api/bookings/1"), ("put", "/api/bookings")]:
        response = getattr(strict, method)(path, headers={"X-Dashboard-Token": token})
        assert response.status_code == 405
    assert post(strict, write_up(), token=token).status_code == 400  # no dock yet, no CSRF 403


# --- Warnings ---


def test_crew_double_booking_is_a_warning_not_an_error(client, token, ready):
    post(client, write_up(), token=token)
    # 12:30: the vessel is free again after its turnaround; the 5-hour shifts are not.
    payload = write_up(external_ref="BS-2030-0531", start_time="12:30")

    response = post(client, payload, token=token)

    assert response.status_code == 201
    warnings = response.json()["warnings"]
    assert any("CREW_001" in w and "overlaps" in w for w in warnings)
    doc = client.get(
        f"/api/bookings/{response.json()['id']}", headers={"X-Dashboard-Token": token}
    ).json()
    assert doc["warnings"] == warnings
