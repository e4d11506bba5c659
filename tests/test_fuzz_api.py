"""Fuzzing the intake: schemathesis generates requests from /api/openapi.json itself.

Valid and invalid bodies (schemathesis' positive and negative modes) go through Django's WSGI
application in this process. None may answer 5xx, none that was rejected (4xx) may leave a row
behind — the tables are counted before and after every call — and every answer matches the
document. A body the schema calls valid is never refused (schemathesis'
`positive_data_acceptance`): the schema and the server agree. Derandomized, so a failure
reproduces; the budget keeps the run to a couple of minutes.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from datetime import date, timedelta

import pytest
import schemathesis
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from jada.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db

TOKEN = "fuzz-intake-token-0d5e2a9c7f31"
# Examples per operation and mode: the intake gets the most, reads a few hundred.
BUDGET = {
    ("POST", "/api/bookings", GenerationMode.POSITIVE): 400,
    ("POST", "/api/bookings", GenerationMode.NEGATIVE): 300,
    ("GET", "/api/bookings/{id}", GenerationMode.POSITIVE): 60,
    ("GET", "/api/bookings/{id}", GenerationMode.NEGATIVE): 60,
    ("GET", "/api/openapi.json", GenerationMode.POSITIVE): 5,
}
# Enough to mean something on a machine four times slower than an idle one (the time limit
# cuts the rest); an idle machine sends the whole budget.
MINIMUM_REQUESTS = 400
# A wall-clock bound for CI, shared out by budget so every operation gets its turn: past its
# share, an operation's generated cases are no longer sent.
TIME_LIMIT_SECONDS = 300
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Valid-mode bodies come from the narrowed document, where every value the server looks up
# exists; invalid-mode ones from the served document (random docks), so only the former count.
POSITIVE_CHECKS = [*CHECKS, positive_data_acceptance]


def row_counts() -> tuple[int, ...]:
    """Rows in every table of the project's apps (and users), in one query."""
    tables = [
        model._meta.db_table
        for label in ("bookings", "crew", "guests", "jada", "auth")
        for model in apps.get_app_config(label).get_models()
    ]
    # Table names come from the models, not from input.
    count = "(SELECT COUNT(*) FROM {})"
    sql = "SELECT " + ", ".join(count.format(connection.ops.quote_name(t)) for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


def with_known_names(document: dict, docks: list[str], crew: list[str]) -> dict:
    """The served document, narrowed where the schema cannot say what the server checks.

    Dock, vessel and crew names must be rows this database holds; dates must exist and fall in the
    accepted years; hours must be whole minutes; a sent net_revenue must match the computed one.
    Random values there are (rightly) refused, so valid-mode requests would seldom reach the
    write path; narrowed, most of them create or update.
    """
    narrowed = copy.deepcopy(document)
    schemas = narrowed["components"]["schemas"]
    booking = schemas["BookingRequest"]["properties"]
    booking["location"] = {"type": "string", "enum": docks}
    # The vessel's code is a row too (left out, the default vessel takes the booking).
    booking["vessel"] = {"type": "string", "enum": ["", "JADA"]}
    # One captain and one other member: the server refuses anyone named twice.
    captains, others = crew[:1], crew[1:2]
    booking["captain_id"] = {"type": "string", "enum": captains}
    booking["crew_assignments"]["maxItems"] = 1
    # Amounts with at most two decimals (the server refuses a third).
    booking["gross_revenue"] = {"enum": [840.75, "1200", 0]}
    booking["crew_cost"] = {"enum": [250, "0.50", 0]}
    booking["captain_cost"] = {"enum": [150, "99.99"]}
    booking["port_fee_percent"] = {"enum": [18, "0", 100, "12.5"]}
    # Many days: a vessel takes one charter at a time, so few days would mostly answer 409.
    days = [date(2030, 1, 1) + timedelta(days=2 * n) for n in range(1500)]
    booking["charter_date"] = {"type": "string", "enum": [f"{day}" for day in days]}
    booking["start_time"] = {"type": "string", "enum": ["09:00", "13:30", "23:45"]}
    booking["starts_at"] = {
        "type": "string",
        "enum": ["2030-05-30T09:00:00-07:00", "2031-01-15T20:30:00Z"],
    }
    booking["duration_hours"] = {"enum": [0.5, 2.5, 3, "4", 24]}
    del booking["net_revenue"]
    crew_request = schemas["CrewAssignmentRequest"]["properties"]
    crew_request["crew_id"] = {"type": "string", "enum": others}
    crew_request["duration_hours"] = {"enum": [1, 5, "7.5"]}
    return narrowed


@pytest.fixture
def connections_kept_open():
    """A request's end must not close the test's connection (Django's test client does this
    around each of its own requests, and reconnects the handlers afterwards: not used here)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_generated_requests_never_fail_the_server_nor_write_when_rejected(
    connections_kept_open, dock, roster, templates
):
    ApiToken.objects.create(name="fuzz", token_hash=hash_token(TOKEN))
    app = get_wsgi_application()
    served = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    narrowed = schemathesis.openapi.from_dict(
        with_known_names(served.raw_schema, [dock.name], list(roster))
    )
    narrowed.app = app
    statuses: Counter[str] = Counter()
    refused: Counter[str] = Counter()  # fields named in 400 answers to schema-valid bodies
    problems: list[str] = []
    calls = 0

    def send(case, label: str, path: str) -> None:
        nonlocal calls
        calls += 1
        # Every tenth request goes without the token: 401, nothing written.
        headers = dict(case.headers or {})
        headers.pop("X-Dashboard-Token", None)
        if calls % 10:
            headers["X-Dashboard-Token"] = TOKEN
        case.headers = headers
        before = row_counts()
        response = case.call()
        after = row_counts()
        statuses[f"{label} {response.status_code}"] += 1
        if response.status_code >= 500:
            problems.append(f"{label} → {response.status_code}: {case.body!r:.300}")
        try:
            checks = POSITIVE_CHECKS if "positive" in label else CHECKS
            case.validate_response(response, checks=checks)
        except FailureGroup as e:
            failed = "; ".join(f"{f.title}: {f.message:.200}" for f in e.exceptions)
            problems.append(f"{label} → {response.status_code} {failed}: {response.text:.300}")
        if response.status_code == 400:
            if "positive" in label:
                refused.update(list(response.json().get("errors", {"?": []})))
        if response.status_code >= 400 and before != after:
            problems.append(f"{label} → {response.status_code} wrote rows: {case.body!r:.300}")
        if "X-Dashboard-Token" not in headers and path != "/api/openapi.json":
            if response.status_code != 401:
                problems.append(f"{label} without a token → {response.status_code}")

    def runner(label: str, path: str, seconds: float):
        deadline = time.monotonic() + seconds

        def exercise(case) -> None:
            if time.monotonic() < deadline:
                send(case, label, path)

        return exercise

    share = TIME_LIMIT_SECONDS / sum(BUDGET.values())
    for (method, path, mode), examples in BUDGET.items():
        # Invalid-mode requests come from the document as served; valid ones from the narrowed.
        schema = narrowed if mode == GenerationMode.POSITIVE else served
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) != (method, path):
                continue
            exercise = settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(runner(f"{method} {path} [{mode.value}]", path, share * examples))
            given(case=operation.as_strategy(generation_mode=mode))(exercise)()

    report = "\n".join(f"  {count:>5}  {key}" for key, count in sorted(statuses.items()))
    print(f"fuzz: {calls} requests\n{report}")
    print(f"schema-valid bodies refused for: {refused.most_common(8)}")
    assert not problems, "\n".join(problems[:20]) + f"\n…{len(problems)} in all\n{report}"
    assert calls >= MINIMUM_REQUESTS, f"only {calls} requests generated\n{report}"
    # Both sides were exercised: bookings were created and bad input was refused.
    assert any(key.endswith(" 201") for key in statuses), report
    # Valid-mode bodies mostly reach the write path (created or updated), not the validators.
    written = sum(
        count
        for key, count in statuses.items()
        if key.startswith("POST /api/bookings [positive]") and key.endswith((" 200", " 201"))
    )
    assert written >= 150, f"only {written} valid-mode bookings written\n{report}"
    assert any(key.endswith(" 400") for key in statuses), report
