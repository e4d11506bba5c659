""" "Email me a new link": the same answer for any address, rate limited per address and client."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from crew.limits import client_address
from crew.models import CrewMember, LinkRequest
from crew.services import LINK_REQUESTS_PER_ADDRESS, LINK_REQUESTS_PER_CLIENT, link_request

URL = reverse("crew-link-request")


def same_page(a, b) -> bool:
    """The same bytes, but for the Content-Security-Policy nonce every response has its own."""
    return re.sub(rb'nonce="[^"]*"', b"", a.content) == re.sub(rb'nonce="[^"]*"', b"", b.content)


def ask(email: str, ip: str = "203.0.113.5"):
    return Client(REMOTE_ADDR=ip).post(URL, {"email": email})


def test_known_and_unknown_addresses_get_the_same_answer(roster):
    known = ask("Crew001@crew.example.com", ip="203.0.113.1")
    unknown = ask("nobody@example.com", ip="203.0.113.2")
    assert known.status_code == unknown.status_code == 200
    assert same_page(known, unknown)
    assert b"If that address belongs to our crew" in known.content
    (message,) = mail.outbox
    assert message.to == ["crew001@crew.example.com"]
    assert "http://127.0.0.1:8000/crew/login/?t=" in message.body
    assert "next=%2Fcrew%2F" in message.body


def test_the_link_in_the_email_signs_in(roster):
    ask("crew001@crew.example.com")
    link = next(w for w in mail.outbox[0].body.split() if w.startswith("http"))
    client = Client()
    page = client.get(link)
    assert page.status_code == 200 and b"Sign in" in page.content


def test_it_is_limited_per_address(roster):
    for i in range(LINK_REQUESTS_PER_ADDRESS):
        assert ask("crew001@crew.example.com", ip=f"198.51.100.{i}").status_code == 200
    limited = ask("crew001@crew.example.com", ip="198.51.100.99")
    assert limited.status_code == 429
    assert b"Too many requests" in limited.content
    assert len(mail.outbox) == LINK_REQUESTS_PER_ADDRESS
    # Unknown addresses are limited exactly the same way.
    for i in range(LINK_REQUESTS_PER_ADDRESS):
        assert ask("nobody@example.com", ip=f"192.0.2.{i}").status_code == 200
    assert ask("nobody@example.com", ip="192.0.2.99").status_code == 429
    # Another address is not affected.
    assert ask("crew002@crew.example.com", ip="198.51.100.100").status_code == 200


def test_it_is_limited_per_client(roster):
    for i in range(LINK_REQUESTS_PER_CLIENT):
        assert ask(f"someone{i}@example.com").status_code == 200
    assert ask("crew001@crew.example.com").status_code == 429
    assert mail.outbox == []
    assert ask("crew001@crew.example.com", ip="203.0.113.77").status_code == 200
    assert len(mail.outbox) == 1


def test_the_limits_reset_after_an_hour(roster):
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    for _ in range(LINK_REQUESTS_PER_ADDRESS):
        assert link_request(email="crew001@crew.example.com", client="c", now=now)
    assert not link_request(email="crew001@crew.example.com", client="c", now=now)
    later = now + timedelta(hours=1, seconds=1)
    assert link_request(email="crew001@crew.example.com", client="c", now=later)


def test_addresses_and_clients_are_stored_only_as_keyed_hashes(roster):
    ask("crew001@crew.example.com", ip="203.0.113.9")
    (row,) = LinkRequest.objects.all()
    assert "crew001" not in row.email_hash and "203.0.113.9" not in row.client
    assert len(row.email_hash) == 64


def test_a_malformed_address_is_a_form_error(db):
    response = ask("not-an-address")
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content


def test_behind_the_proxy_the_client_is_the_last_forwarded_address(roster, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"

    def via_proxy(email: str, client_ip: str, spoofed: str = ""):
        forwarded = f"{spoofed}, {client_ip}" if spoofed else client_ip
        return Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded).post(URL, {"email": email})

    for i in range(LINK_REQUESTS_PER_CLIENT):
        assert (
            via_proxy(f"someone{i}@example.com", "198.51.100.7", spoofed=f"1.2.3.{i}").status_code
            == 200
        )
    # The same client is limited whatever it prepends; another client behind the proxy is not.
    assert via_proxy("x@example.com", "198.51.100.7", spoofed="9.9.9.9").status_code == 429
    assert via_proxy("x@example.com", "198.51.100.8").status_code == 200


def test_a_mail_server_that_is_down_does_not_tell_known_from_unknown(roster, settings, caplog):
    # A real SMTP connection to a closed port: what a known address would trip over.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    known = ask("crew001@crew.example.com", ip="203.0.113.1")
    unknown = ask("nobody@example.com", ip="203.0.113.2")
    assert known.status_code == unknown.status_code == 200
    assert same_page(known, unknown)
    member_id = CrewMember.objects.get(code="CREW_001").pk
    assert f"sign-in link email to crew member {member_id} failed" in caplog.text
    assert LinkRequest.objects.count() == 2


def test_without_trusted_proxies_a_forwarded_header_is_ignored(roster, settings):
    # TRUSTED_PROXY_COUNT defaults to 0: a client cannot pick its own address by writing one,
    # even with the production settings (which trust the proxy's X-Forwarded-Proto).
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    def spoofing(i: int):
        return Client(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}").post(
            URL, {"email": f"someone{i}@example.com"}
        )

    for i in range(LINK_REQUESTS_PER_CLIENT):
        assert spoofing(i).status_code == 200
    assert spoofing(99).status_code == 429


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "198.51.100.7", "10.0.0.2"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
        (2, "198.51.100.7, 10.0.0.1", "198.51.100.7"),
        # Fewer entries than proxies: not through them all, so the socket's address.
        (2, "10.0.0.1", "10.0.0.2"),
        (1, "", "10.0.0.2"),
    ],
)
def test_the_client_is_counted_from_the_right_past_our_proxies(
    settings, rf, count, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    request = rf.post(URL, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
