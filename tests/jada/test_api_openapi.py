"""The OpenAPI document at /api/openapi.json stays true: real responses are validated against it."""

from __future__ import annotations

import json

import jsonschema
import openapi_spec_validator
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jada.api import views
from jada.api.openapi import openapi_document
from jada.intake import IntakeConflict
from jada.models import ApiToken, hash_token
from tests.jada.intake_support import new_token, row_counts, write_up

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def schema(db):
    """The served document, called over WSGI in this thread (the app sees the test's rows)."""
    # As Django's test client does: a request's end must not close the test's connection
    # (on PostgreSQL that would end the transaction the test runs in).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def token(db) -> str:
    return new_token()


@pytest.fixture
def ready(dock, roster, templates) -> None:
    pass


def _post(schema, body, token: str | None):
    headers = {"X-Dashboard-Token": token} if token is not None else {}
    case = schema["/api/bookings"]["POST"].Case(
        body=body, headers=headers, media_type="application/json"
    )
    return case, case.call()


def test_the_document_is_served_and_is_openapi_3(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    openapi_spec_validator.validate(doc)  # raises on anything OpenAPI 3 does not allow
    assert set(doc["paths"]) == {"/api/bookings", "/api/bookings/{id}", "/api/openapi.json"}
    assert doc["components"]["securitySchemes"]["DashboardToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Dashboard-Token",
        "description": "A token from `manage.py create_api_token NAME`.",
    }
    post = doc["paths"]["/api/bookings"]["post"]
    assert set(post["responses"]) == {"200", "201", "400", "401", "403", "409", "411", "415"}
    assert set(doc["paths"]["/api/bookings/{id}"]["get"]["responses"]) == {"200", "401", "404"}


def test_the_request_schema_states_the_limits(client):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    request = schemas["BookingRequest"]
    props = request["properties"]
    assert request["additionalProperties"] is False
    assert props["port_fee_percent"]["anyOf"][0]["maximum"] == 100
    assert props["gross_revenue"]["anyOf"][0]["minimum"] == 0
    # OpenAPI 3.1 is JSON Schema 2020-12: exclusiveMinimum is the bound itself.
    assert props["duration_hours"]["anyOf"][0] == {
        "type": "number",
        "maximum": 24.0,
        "exclusiveMinimum": 0,
    }
    assert props["guest"] == {"$ref": "#/components/schemas/GuestRequest"}
    assert schemas["GuestRequest"]["properties"]["count"]["minimum"] == 1
    assert props["external_ref"]["maxLength"] == 100


def request_validator() -> jsonschema.Draft202012Validator:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; the request's nested models are $refs.
    schemas = openapi_document()["components"]["schemas"]
    request = {**schemas["BookingRequest"], "$defs": schemas}
    text = json.dumps(request).replace("#/components/schemas/", "#/$defs/")
    return jsonschema.Draft202012Validator(
        json.loads(text), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_the_write_up_example_is_valid_against_the_request_schema():
    validator = request_validator()
    validator.validate(openapi_document()["components"]["schemas"]["BookingRequest"]["example"])
    validator.validate(write_up())
    validator.validate(write_up(charter_date=None, start_time=None, starts_at="2030-05-30T16:00Z"))


def test_201_200_and_get_conform(schema, token, ready):
    case, created = _post(schema, write_up(), token)
    assert created.status_code == 201
    case.validate_response(created, checks=CHECKS)

    case, again = _post(schema, write_up(), token)
    assert again.status_code == 200
    case.validate_response(again, checks=CHECKS)

    booking_id = json.loads(created.content)["id"]
    get = schema["/api/bookings/{id}"]["GET"].Case(
        path_parameters={"id": booking_id}, headers={"X-Dashboard-Token": token}
    )
    response = get.call()
    assert response.status_code == 200
    get.validate_response(response, checks=CHECKS)


def test_a_booking_without_crew_or_guest_email_conforms(schema, token, ready):
    payload = write_up(captain_id=None, crew_assignments=None, net_revenue=None)
    payload["guest"] = {"name": "Sam", "count": 2}
    case, response = _post(schema, payload, token)
    assert response.status_code == 201
    case.validate_response(response, checks=CHECKS)


def test_400_conforms(schema, token, ready):
    case, response = _post(schema, write_up(crew_cost=-1), token)
    assert response.status_code == 400
    case.validate_response(response, checks=CHECKS)


def test_401_conforms(schema, ready):
    case, response = _post(schema, write_up(), None)
    assert response.status_code == 401
    case.validate_response(response, checks=CHECKS)


def test_404_conforms(schema, token):
    case = schema["/api/bookings/{id}"]["GET"].Case(
        path_parameters={"id": 424242}, headers={"X-Dashboard-Token": token}
    )
    response = case.call()
    assert response.status_code == 404
    case.validate_response(response, checks=CHECKS)


def test_a_response_that_breaks_the_document_would_be_caught(schema, token, ready):
    """The check has teeth: an undocumented status or a missing field fails validation."""
    case, response = _post(schema, write_up(), token)
    response.status_code = 202
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        case.validate_response(response, checks=CHECKS)

    case, response = _post(schema, write_up(), token)
    doc = json.loads(response.content)
    del doc["net_revenue"]
    response.content = json.dumps(doc).encode()
    response.clear_cache()
    with pytest.raises(FailureGroup, match="net_revenue"):
        case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(port_fee_percent=101),
        lambda p: p.update(gross_revenue=-1),
        lambda p: p.update(duration_hours=0),
        lambda p: p.update(colour="blue"),
        lambda p: p.pop("location"),
        lambda p: p["guest"].update(count=0),
        lambda p: p.update(status="maybe"),
        lambda p: p.update(start_time="25:00"),
    ],
)
def test_what_the_schema_rejects_the_server_rejects(schema, token, ready, mutate):
    """The schema is never stricter than the server (schemathesis' negative-data check)."""
    payload = write_up()
    mutate(payload)
    with pytest.raises(jsonschema.ValidationError):
        request_validator().validate(payload)
    before = row_counts()
    case, response = _post(schema, payload, token)
    assert response.status_code == 400
    case.validate_response(response, checks=CHECKS)
    assert row_counts() == before


def test_403_409_and_415_conform(schema, ready, monkeypatch):
    reader = ApiToken.objects.create(name="reader", token_hash=hash_token("r" * 40), scope="read")
    case, response = _post(schema, write_up(), "r" * 40)
    assert (reader.scope, response.status_code) == ("read", 403)
    case.validate_response(response, checks=CHECKS)

    writer = new_token("writer")
    case = schema["/api/bookings"]["POST"].Case(
        body="source=boatsetter",
        headers={"X-Dashboard-Token": writer},
        media_type="application/x-www-form-urlencoded",
    )
    response = case.call()
    assert response.status_code == 415
    assert response.json()["errors"]["body"]
    case.validate_response(response, checks=CHECKS)

    def conflict(**kwargs):
        raise IntakeConflict({"vessel": ["Booked at that time."]})

    monkeypatch.setattr(views, "booking_intake", conflict)
    case, response = _post(schema, write_up(), writer)
    assert response.status_code == 409
    case.validate_response(response, checks=CHECKS)
