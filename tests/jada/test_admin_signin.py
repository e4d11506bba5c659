"""The admin sign-in is rate limited per account and per client (the crew links' limiter)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from crew.limits import limit_hit
from crew.models import LinkRequest
from jada.signin import ADMIN_SIGN_IN
from tests.helpers import run_at_once

URL = reverse("admin:login")
LIMITED = b"Too many failed sign-ins"


def sign_in(username: str, password: str, ip: str = "203.0.113.5", **headers):
    client = Client(REMOTE_ADDR=ip, **headers)
    response = client.post(URL, {"username": username, "password": password, "next": "/admin/"})
    return response, client


def test_an_account_is_limited_after_failed_attempts(alice, bob):
    for i in range(ADMIN_SIGN_IN.per_account):
        response, _ = sign_in("alice", "wrong", ip=f"198.51.100.{i}")
        assert response.status_code == 200 and LIMITED not in response.content
    # Even the right password, from yet another address: the account waits.
    response, client = sign_in("alice", "pw-alice", ip="198.51.100.99")
    assert response.status_code == 200 and LIMITED in response.content
    assert "_auth_user_id" not in client.session
    # Another account is not affected.
    response, client = sign_in("bob", "pw-bob", ip="198.51.100.99")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(bob.pk)


def test_a_client_is_limited_across_accounts(alice):
    for i in range(ADMIN_SIGN_IN.per_client):
        response, _ = sign_in(f"guess{i}", "wrong")
        assert LIMITED not in response.content
    response, client = sign_in("alice", "pw-alice")
    assert LIMITED in response.content and "_auth_user_id" not in client.session
    response, client = sign_in("alice", "pw-alice", ip="203.0.113.77")
    assert response.status_code == 302


def test_successful_sign_ins_do_not_count(alice):
    for _ in range(ADMIN_SIGN_IN.per_account + 2):
        response, _ = sign_in("alice", "pw-alice")
        assert response.status_code == 302
    assert not LinkRequest.objects.exists()


def test_staff_only_still_applies(db):
    User.objects.create_user("carol", password="pw-carol")  # not staff
    response, client = sign_in("carol", "pw-carol")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert LinkRequest.objects.count() == 1


def test_a_forwarded_header_does_not_reset_the_client(alice, settings):
    # Without trusted proxies, writing X-Forwarded-For gives a client no new address.
    for i in range(ADMIN_SIGN_IN.per_client):
        sign_in(f"guess{i}", "wrong", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}")
    response, _ = sign_in("alice", "pw-alice", HTTP_X_FORWARDED_FOR="9.9.9.9")
    assert LIMITED in response.content


def test_weak_staff_passwords_are_refused(alice):
    from django.contrib.auth.forms import SetPasswordForm

    for weak in ("short1", "password1234", "alice-sailjada", "123456789012"):
        form = SetPasswordForm(alice, {"new_password1": weak, "new_password2": weak})
        assert not form.is_valid(), weak
    strong = "tide-chart-brass-9471"
    form = SetPasswordForm(alice, {"new_password1": strong, "new_password2": strong})
    assert form.is_valid(), form.errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failed_sign_ins_sent_at_once_stay_within_the_limit():
    if connection.vendor != "postgresql":
        pytest.skip("the limiter's lock is PostgreSQL's (SQLite serialises writers itself)")
    results, errors = run_at_once(
        lambda n: limit_hit(ADMIN_SIGN_IN, account="alice", client=f"198.51.100.{n}"), times=9
    )
    assert errors == []
    assert sum(hit is not None for hit in results) == ADMIN_SIGN_IN.per_account
    assert LinkRequest.objects.count() == ADMIN_SIGN_IN.per_account
