"""Checklists: generated per assignment from role templates, regenerated without losing ticks."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crew.models import Assignment, ChecklistItem, ChecklistTemplate, Role
from crew.selectors import event_progress
from crew.services import (
    PlannedAssignment,
    checklist_item_tick,
    checklist_sync,
    checklists_resync,
)
from tests.factories import charter


def texts(event, code: str, *, obsolete: bool = False) -> list[str]:
    return list(
        ChecklistItem.objects.filter(
            assignment__event=event, assignment__member__code=code, obsolete=obsolete
        ).values_list("text", flat=True)
    )


def item(event, code: str, text: str) -> ChecklistItem:
    return ChecklistItem.objects.get(
        assignment__event=event, assignment__member__code=code, text=text
    )


def test_items_come_from_the_role_templates_with_placeholders_filled(event):
    assert texts(event, "CAP_001") == ["Brief 4 guests", "Check fuel"]
    assert texts(event, "CREW_001") == ["Brief 4 guests", "Secure fenders"]


def test_a_change_keeps_ticks_on_items_that_still_apply(event, dock, roster):
    dana = roster["CREW_001"].user
    checklist_item_tick(item=item(event, "CREW_001", "Secure fenders"), by=dana, done=True)
    checklist_item_tick(item=item(event, "CREW_001", "Brief 4 guests"), by=dana, done=True)
    charter(dock, guest_count=6, notes="Birthday party")
    fenders = item(event, "CREW_001", "Secure fenders")
    assert fenders.is_done and fenders.done_by == dana
    # "Brief 6 guests" is a new task: its tick is not carried over.
    assert texts(event, "CREW_001") == ["Brief 6 guests", "Secure fenders"]
    assert not item(event, "CREW_001", "Brief 6 guests").is_done


def test_a_role_change_marks_the_old_roles_items_obsolete(event, dock, roster):
    captain = roster["CAP_001"].user
    checklist_item_tick(item=item(event, "CAP_001", "Check fuel"), by=captain, done=True)
    charter(
        dock,
        plan=[
            PlannedAssignment("CAP_001", "deckhand"),
            PlannedAssignment("CREW_001", "deckhand", 300),
            PlannedAssignment("CREW_002", "captain"),
        ],
    )
    assert texts(event, "CAP_001") == ["Brief 4 guests", "Secure fenders"]
    assert texts(event, "CAP_001", obsolete=True) == ["Check fuel"]
    # The obsolete item keeps its tick (history), and comes back live with it if the role does.
    assert item(event, "CAP_001", "Check fuel").is_done


def test_deactivated_and_deleted_templates_make_items_obsolete(event, templates):
    fenders, brief = templates[2], templates[0]
    fenders.active = False
    fenders.save()
    brief.delete()
    assert checklist_sync(event=event) is True
    assert texts(event, "CREW_001") == []
    assert sorted(texts(event, "CREW_001", obsolete=True)) == ["Brief 4 guests", "Secure fenders"]
    assert checklist_sync(event=event) is False


def test_a_second_sync_changes_nothing(event):
    assert checklist_sync(event=event) is False


def test_new_templates_reach_upcoming_charters(event, dock):
    past = charter(dock, external_ref="BS-PAST", starts_at=timezone.now() - timedelta(days=2))
    ChecklistTemplate.objects.create(text="Stow {guest_count} life jackets", role=Role.DECKHAND)
    assert checklists_resync() == 1
    assert "Stow 4 life jackets" in texts(event, "CREW_001")
    assert "Stow 4 life jackets" not in texts(past, "CREW_001")


def test_a_broken_placeholder_does_not_stop_the_sync(event):
    ChecklistTemplate.objects.create(text="Count {guests} heads", position=9)
    checklist_sync(event=event)
    assert "Count {guests} heads" in texts(event, "CREW_002")


def test_progress_per_assignment(event, roster):
    dana = roster["CREW_001"].user
    checklist_item_tick(item=item(event, "CREW_001", "Secure fenders"), by=dana, done=True)
    progress = event_progress(event)
    by_code = {
        a.member.code: progress[a.pk]
        for a in Assignment.objects.filter(event=event).select_related("member")
    }
    assert by_code == {"CAP_001": "0/2", "CREW_001": "1/2", "CREW_002": "0/2"}
