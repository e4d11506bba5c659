"""`manage.py create_api_token NAME`: a token shown once, stored only as a hash."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jada.models import ApiToken, hash_token
from tests.jada.intake_support import post, write_up

pytestmark = pytest.mark.django_db


def create(name: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", name, stdout=out)
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
