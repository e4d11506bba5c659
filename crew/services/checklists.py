"""Checklists: each assignment's items from the templates (the `checklist` stage)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from crew.models import Assignment, ChecklistItem, ChecklistTemplate, CrewEvent, EventStatus
from crew.placeholders import placeholders_fill


def render_checklist_text(template: ChecklistTemplate, event: CrewEvent) -> str:
    local_start = timezone.localtime(event.starts_at)
    # A template saved before placeholders were checked must not stop the pipeline: any error
    # shows the text as written.
    values = {"guest_count": event.guest_count, "dock": event.dock_name}
    return placeholders_fill(template.text, values | {"start": f"{local_start:%H:%M}"})


def checklist_sync(*, event: CrewEvent) -> bool:
    """Generate each active assignment's items from templates, keeping ticks that still apply.

    An item whose text changes (a new guest count) loses its tick: the task is a new one.
    """
    templates = list(ChecklistTemplate.objects.filter(active=True))
    changed = False
    added: list[ChecklistItem] = []
    assignments = event.assignments.filter(removed_at__isnull=True).prefetch_related(
        "checklist_items"
    )
    for assignment in assignments:
        by_template = {i.template_id: i for i in assignment.checklist_items.all() if i.template_id}
        wanted = [t for t in templates if t.role in ("", assignment.role)]
        for template in wanted:
            text = render_checklist_text(template, event)
            item = by_template.pop(template.pk, None)
            if item is None:
                added.append(
                    ChecklistItem(
                        assignment=assignment,
                        template=template,
                        text=text,
                        position=template.position,
                    )
                )
                changed = True
            elif item.text != text or item.obsolete or item.position != template.position:
                if item.text != text:
                    item.done_at, item.done_by = None, None
                item.text, item.obsolete, item.position = text, False, template.position
                item.save()
                changed = True
        leftovers = [
            *by_template.values(),
            # Items whose template was deleted (the link is cleared) no longer apply either.
            *(i for i in assignment.checklist_items.all() if i.template_id is None),
        ]
        for item in leftovers:
            if not item.obsolete:
                item.obsolete = True
                item.save(update_fields=["obsolete"])
                changed = True
    if added:
        # One insert for every new item, in the order they were found.
        ChecklistItem.objects.bulk_create(added)
    return changed


def checklist_items_create(
    *, rosters: Sequence[tuple[CrewEvent, Sequence[Assignment]]]
) -> set[int]:
    """Items for new events' new assignments, in one insert; the ids of events that got some.

    What `checklist_sync` creates for an event without items yet, for many events at once.
    """
    templates = list(ChecklistTemplate.objects.filter(active=True))
    added: list[ChecklistItem] = []
    events: set[int] = set()
    for event, assignments in rosters:
        for assignment in assignments:
            for template in templates:
                if template.role in ("", assignment.role):
                    added.append(
                        ChecklistItem(
                            assignment=assignment,
                            template=template,
                            text=render_checklist_text(template, event),
                            position=template.position,
                        )
                    )
                    events.add(event.pk)
    if added:
        ChecklistItem.objects.bulk_create(added)
    return events


def checklists_resync(*, now: datetime | None = None) -> int:
    """Bring the checklists of upcoming charters in line with edited templates; returns events."""
    now = now or timezone.now()
    events = CrewEvent.objects.filter(starts_at__gte=now, status=EventStatus.SCHEDULED)
    count = 0
    for event in events.order_by("starts_at"):
        with transaction.atomic():
            checklist_sync(event=event)
        count += 1
    return count
