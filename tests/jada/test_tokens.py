"""`manage.py create_api_token NAME`: a token shown once, stored only as a hash."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jada.models import ApiToken, hash_token
from tests.jada.intake_support import post, row_counts, write_up

pytestmark = pytest.mark.django_db


def create(name: str, *options: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", name, *options, stdout=out)
    return out.getvalue()


def test_it_prints_the_token_once_as_the_last_line_and_stores_only_its_hash():
    output = create("boatsetter-sync")

    token = output.splitlines()[-1]
    stored = ApiToken.objects.get()
    assert stored.name == "boatsetter-sync"
    assert len(token) >= 40
    assert stored.token_hash == hash_token(token)
    assert token not in stored.token_hash
    assert not any(token in str(value) for value in ApiToken.objects.values().get().values())
    assert "shown only now" in output


def test_every_token_is_new():
    first, second = create("a").splitlines()[-1], create("a").splitlines()[-1]
    assert first != second
    assert ApiToken.objects.count() == 2


def test_the_printed_token_opens_the_api(client, dock, roster, templates):
    token = create("dashboard").splitlines()[-1]
    assert post(client, write_up(), token=token).status_code == 201
    ApiToken.objects.update(revoked=True)
    assert post(client, write_up(), token=token).status_code == 401


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_name_is_refused(name):
    with pytest.raises(CommandError):
        create(name)
    assert ApiToken.objects.count() == 0


def test_a_token_writes_by_default(client, dock, roster, templates):
    output = create("dashboard")
    assert "scope write" in output
    assert ApiToken.objects.get().scope == "write"
    assert post(client, write_up(), token=output.splitlines()[-1]).status_code == 201


def test_a_read_token_reads_but_cannot_write(client, dock, roster, templates):
    writer = create("dashboard").splitlines()[-1]
    created = post(client, write_up(), token=writer).json()
    output = create("reporting", "--scope", "read")
    reader = output.splitlines()[-1]
    assert hash_token(reader) == ApiToken.objects.get(name="reporting").token_hash
    before = row_counts()

    refused = post(client, write_up(notes="Changed"), token=reader)

    assert refused.status_code == 403
    assert refused.json() == {"errors": {"token": ["This token may only read bookings."]}}
    assert row_counts() == before
    read = client.get(f"/api/bookings/{created['id']}", headers={"X-Dashboard-Token": reader})
    assert read.status_code == 200 and read.json()["id"] == created["id"]


def test_a_source_token_writes_and_reads_only_its_source(client, dock, roster, templates):
    token = create("boatsetter-sync", "--source", "boatsetter").splitlines()[-1]
    other = post(client, write_up(source="getmyboat"), token=create("dashboard").splitlines()[-1])
    before = row_counts()

    refused = post(client, write_up(source="getmyboat"), token=token)

    assert refused.status_code == 403
    assert "boatsetter" in refused.json()["errors"]["source"][0]
    assert row_counts() == before
    # The next day: the vessel takes one charter at a time.
    own = post(client, write_up(source="boatsetter", charter_date="2030-05-31"), token=token)
    assert own.status_code == 201
    headers = {"X-Dashboard-Token": token}
    assert client.get(f"/api/bookings/{own.json()['id']}", headers=headers).status_code == 200
    hidden = client.get(f"/api/bookings/{other.json()['id']}", headers=headers)
    assert hidden.status_code == 404
    assert "net_revenue" not in hidden.content.decode()


@pytest.mark.parametrize("options", [("--scope", "admin"), ("--source", "craigslist")])
def test_an_unknown_scope_or_source_is_refused(options):
    with pytest.raises(CommandError):
        create("x", *options)
    assert ApiToken.objects.count() == 0
