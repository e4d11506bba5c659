"""The roster: members with password-less users, created or updated by code."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crew.models import CrewMember
from crew.services import crew_member_create, member_codes_unknown


def test_it_creates_a_member_with_an_unusable_password(db):
    member = crew_member_create(
        code="CAP_002", name="Ana Lima", email="ana@crew.example.com", roles=["captain"]
    )
    assert member.user.username == "cap_002"
    assert member.user.email == "ana@crew.example.com"
    assert not member.user.has_usable_password()
    assert member.roles == ["captain"] and member.active
    assert member.feed_token


def test_it_updates_the_member_with_the_same_code(db):
    first = crew_member_create(code="CAP_002", name="Ana Lima", email="ana@crew.example.com")
    again = crew_member_create(
        code="CAP_002", name="Ana Lima Souza", email="ana.s@crew.example.com", phone="+1 555 0101"
    )
    assert again.pk == first.pk and again.user_id == first.user_id
    stored = CrewMember.objects.select_related("user").get()
    assert stored.name == "Ana Lima Souza" and stored.user.email == "ana.s@crew.example.com"


def test_it_refuses_a_bad_address(db):
    with pytest.raises(ValidationError):
        crew_member_create(code="CAP_003", name="X", email="not-an-address")


def test_unknown_codes(roster):
    roster["CREW_002"].active = False
    roster["CREW_002"].save()
    assert member_codes_unknown(["CAP_001", "CREW_002", "NOPE"]) == ["CREW_002", "NOPE"]
