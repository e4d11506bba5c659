"""A Content-Security-Policy on the admin and the crew portal; guest pages keep their own."""

from __future__ import annotations

import re

from django.urls import reverse

from guests.models import GuestPage
from guests.services import guest_page_publish

HEADER = "Content-Security-Policy"


def directives(response) -> dict[str, str]:
    return dict(d.strip().split(" ", 1) for d in response[HEADER].split(";"))


def test_the_admin_sign_in_page_has_a_strict_policy(client):
    policy = directives(client.get(reverse("admin:login")))
    assert policy["frame-ancestors"] == "'none'"
    assert re.fullmatch(r"'self' 'nonce-[\w-]+'", policy["script-src"])
    assert policy["default-src"] == "'self'"
    # Only style attributes, which cannot run code, may be inline without the nonce.
    assert policy.pop("style-src-attr") == "'unsafe-inline'"
    assert "unsafe-inline" not in " ".join(policy.values())
    assert "unsafe-eval" not in " ".join(policy.values())


def test_the_crew_portal_has_the_policy_too(client, event):
    response = client.get(reverse("crew-login"))
    assert response.status_code == 200
    assert directives(response)["frame-ancestors"] == "'none'"


def test_inline_styles_carry_the_nonce_of_their_response(client, alice, event):
    client.force_login(alice)
    pages = [client.get(reverse("admin:bookings_booking_calendar")) for _ in range(2)]
    nonces = []
    for page in pages:
        assert page.status_code == 200
        nonce = re.fullmatch(r"'self' 'nonce-([\w-]+)'", directives(page)["style-src"]).group(1)
        assert f'<style nonce="{nonce}">' in page.content.decode()
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # one per response


def test_guest_pages_and_the_api_are_left_alone(client, booking):
    guest_page_publish(booking_id=booking.pk)
    page = GuestPage.objects.get(booking_id=booking.pk)
    response = client.get(page.path)
    assert response.status_code == 200
    # The page's own policy (a meta element) allows its inline styles; a header would not.
    assert HEADER not in response
    assert b'http-equiv="Content-Security-Policy"' in response.content
    assert HEADER not in client.get("/api/openapi.json")
