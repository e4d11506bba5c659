"""Checklist templates: placeholders checked when saved, and never a failure when run."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crew.models import ChecklistItem, ChecklistTemplate, Role
from tests.jada.intake_support import new_token, post, write_up

BROKEN = [
    ("Prep for {guest_count[0]} guests", "{guest_count[0]}"),
    ("Meet at {dock.x}", "{dock.x}"),
    ("Meet at {dock.__class__}", "{dock.__class__}"),
    ("Board at {start!r}", "{start!r}"),
    ("Brief {guest_count:>{dock}} guests", "{guest_count:>{dock}}"),
    ("Count {guests} heads", "{guests}"),
    ("Bring {} towels", "{}"),
    ("Bring {0} towels", "{0}"),
]


@pytest.mark.parametrize(("text", "placeholder"), BROKEN)
def test_a_template_with_an_unknown_placeholder_is_refused(client, alice, text, placeholder):
    client.force_login(alice)
    response = client.post(
        reverse("admin:crew_checklisttemplate_add"),
        {"text": text, "role": Role.DECKHAND, "position": 1, "active": "on"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["text"]
    assert any(placeholder in error for error in errors), errors
    assert "{guest_count}, {dock}, {start}" in errors[0]
    assert not ChecklistTemplate.objects.exists()


def test_an_unbalanced_brace_is_refused_and_a_doubled_one_is_kept(client, alice):
    client.force_login(alice)
    url = reverse("admin:crew_checklisttemplate_add")
    refused = client.post(url, {"text": "Brief {guest_count guests", "position": 1})
    assert "no partner" in str(refused.context["adminform"].form.errors["text"])
    saved = client.post(url, {"text": "Brief {guest_count} guests {{kids}}", "position": 1})
    assert saved.status_code == 302
    assert ChecklistTemplate.objects.get().text == "Brief {guest_count} guests {{kids}}"


@pytest.mark.parametrize(("text", "placeholder"), BROKEN)
def test_a_broken_template_already_stored_shows_as_written_and_the_intake_succeeds(
    client, dock, roster, text, placeholder
):
    # Saved before placeholders were checked (or by code that skips validation).
    ChecklistTemplate.objects.create(text=text, position=1)
    ChecklistTemplate.objects.create(text="Brief {guest_count} guests", position=2)

    response = post(client, write_up(), token=new_token())

    assert response.status_code == 201, response.content
    texts = set(ChecklistItem.objects.values_list("text", flat=True))
    assert texts == {text, "Brief 4 guests"}
