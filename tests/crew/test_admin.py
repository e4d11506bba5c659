"""Crew admin: the roster, templates, and each charter's crew, changed through the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from crew.links import crew_login_url
from crew.models import Assignment, AssignmentState, ChecklistTemplate, CrewEvent, CrewMember
from crew.services import PlannedAssignment, checklist_item_tick
from jada.models import PipelineRun
from tests.factories import charter
from tests.helpers import formset_data
from tests.vessels import other_vessel


def test_adding_a_member_gives_them_a_user_without_a_password(staff):
    response = staff.post(
        reverse("admin:crew_crewmember_add"),
        {
            "code": "CREW_009",
            "name": "Lee Park",
            "email": "lee@crew.example.com",
            "phone": "",
            "roles": ["deckhand", "steward"],
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member = CrewMember.objects.get(code="CREW_009")
    assert member.user.username == "crew_009"
    assert not member.user.has_usable_password()
    assert member.roles == ["deckhand", "steward"]


def test_regenerating_the_feed_token(staff, roster):
    member = roster["CREW_001"]
    old = member.feed_token
    staff.post(
        reverse("admin:crew_crewmember_changelist"),
        {"action": "regenerate_feed_token", "_selected_action": [member.pk]},
    )
    member.refresh_from_db()
    assert member.feed_token != old
    assert Client().get(reverse("crew-feed", args=[old])).status_code == 404


def test_revoking_links(staff, roster):
    member = roster["CREW_001"]
    link = crew_login_url(member)
    query = link.split("?", 1)[1]
    assert b"Sign in" in Client().get(f"{reverse('crew-login')}?{query}").content
    staff.post(
        reverse("admin:crew_crewmember_changelist"),
        {"action": "revoke_links", "_selected_action": [member.pk]},
    )
    assert Client().get(f"{reverse('crew-login')}?{query}").status_code == 403
    assert not User.objects.get(pk=member.user_id).has_usable_password()


def test_deactivating_an_assigned_member_tells_the_operator_to_replace_them(staff, event, roster):
    sam = roster["CREW_002"]
    response = staff.post(
        reverse("admin:crew_crewmember_change", args=[sam.pk]),
        {
            "code": sam.code,
            "name": sam.name,
            "email": sam.email,
            "phone": sam.phone,
            "roles": sam.roles,
            "active": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Sam Ortiz is still assigned to 1 upcoming charter(s)" in text
    assert event.title in text and "PDT" in text


def test_templates_are_editable(staff, templates):
    assert staff.get(reverse("admin:crew_checklisttemplate_changelist")).status_code == 200
    response = staff.post(
        reverse("admin:crew_checklisttemplate_add"),
        {"role": "deckhand", "text": "Coil lines", "position": 5, "active": "on"},
    )
    assert response.status_code == 302
    assert ChecklistTemplate.objects.filter(text="Coil lines").exists()


def test_deleting_templates_in_bulk_updates_upcoming_checklists(staff, event):
    fuel = ChecklistTemplate.objects.get(text="Check fuel")
    response = staff.post(
        reverse("admin:crew_checklisttemplate_changelist"),
        {"action": "delete_selected", "_selected_action": [fuel.pk], "post": "yes"},
    )
    assert response.status_code == 302
    live = event.assignments.get(member__code="CAP_001").checklist_items.filter(obsolete=False)
    assert "Check fuel" not in {item.text for item in live}


def test_the_event_list_shows_answers_and_checklist_progress(staff, event, roster):
    dana = Assignment.objects.get(event=event, member__code="CREW_001")
    dana.state = AssignmentState.ACCEPTED
    dana.save()
    item = dana.checklist_items.first()
    checklist_item_tick(item=item, by=roster["CREW_001"].user, done=True)
    html = staff.get(reverse("admin:crew_crewevent_changelist")).content.decode()
    # By state; no captain has accepted yet, so it stands out.
    assert "1 ✓ · 2 awaiting · no accepted captain" in html
    assert 'class="crew-fill gap"' in html
    assert "1/6" in html  # checklist items done of all


def change_url(event: CrewEvent) -> str:
    return reverse("admin:crew_crewevent_change", args=[event.pk])


def test_the_event_page_shows_state_progress_and_read_only_booking_fields(staff, event):
    html = staff.get(change_url(event)).content.decode()
    assert "Awaiting answer" in html
    assert "0/2" in html
    assert 'name="starts_at' not in html and 'name="dock_name"' not in html
    assert 'name="assignments-0-member"' in html
    # An existing row names its own member only (another member is a new row).
    first_row = html.split('id="assignments-0"')[1].split('id="assignments-1"')[0]
    assert "Marco Reyes" in first_row and "Sam Ortiz" not in first_row
    assert "Add crew event" not in html


def test_the_event_page_shows_who_ticked_what_and_when(staff, event, roster):
    from datetime import UTC, datetime

    assert "none yet" in staff.get(change_url(event)).content.decode()
    dana = Assignment.objects.get(event=event, member__code="CREW_001")
    item = dana.checklist_items.get(text="Brief 4 guests")
    at = datetime(2030, 5, 30, 15, 20, tzinfo=UTC)
    checklist_item_tick(item=item, by=roster["CREW_001"].user, done=True, now=at)
    html = staff.get(change_url(event)).content.decode()
    # 15:20 UTC is 8:20 AM in Los Angeles, the zone named.
    assert "Dana Cole (CREW_001): Brief 4 guests, Thu 30 May 2030, 8:20 AM PDT" in html


def test_the_event_page_names_the_operator_zone(staff, event):
    html = staff.get(change_url(event)).content.decode()
    # 2030-05-30 16:00 UTC is 9:00 AM in Los Angeles (PDT).
    assert "9:00 AM PDT" in html
    assert "In America/Los_Angeles." in html


def test_changing_the_crew_goes_through_the_pipeline(staff, dock, roster, templates):
    event = charter(dock, plan=[PlannedAssignment("CAP_001", "captain")])
    extra = make_member_extra()
    call = datetime(2030, 5, 30, 14, 30, tzinfo=UTC)
    data = formset_data(
        event, [{"member": extra, "role": "steward", "call_at": call, "shift_minutes": 240}]
    )
    response = staff.post(change_url(event), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    run = PipelineRun.objects.filter(booking_id=event.booking_id).latest("pk")
    assert run.reason == "crew"
    assert "assignments" in run.changed
    added = Assignment.objects.get(event=event, member=extra)
    assert (added.role, added.call_at, added.shift_minutes) == ("steward", call, 240)
    assert added.checklist_items.filter(text="Brief 4 guests").exists()
    event.refresh_from_db()
    assert event.version == 3
    # Removing someone goes the same way: the row is kept, marked removed (for the cancellation).
    response = staff.post(change_url(event), formset_data(event, [], deleted={"CREW_009"}))
    assert response.status_code == 302
    added.refresh_from_db()
    assert added.removed_at is not None
    assert PipelineRun.objects.filter(booking_id=event.booking_id, reason="crew").count() == 2


def test_saving_without_changes_starts_nothing(staff, event):
    before = PipelineRun.objects.count()
    response = staff.post(change_url(event), formset_data(event, []))
    assert response.status_code == 302
    assert PipelineRun.objects.count() == before


def test_re_adding_a_removed_member_is_allowed(staff, event, roster, dock):
    charter(dock, plan=[PlannedAssignment("CAP_001", "captain")])
    sam = roster["CREW_002"]
    call = datetime(2030, 5, 30, 15, 0, tzinfo=UTC)
    data = formset_data(
        event, [{"member": sam, "role": "deckhand", "call_at": call, "shift_minutes": 300}]
    )
    response = staff.post(change_url(event), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Assignment.objects.get(event=event, member=sam).removed_at is None


def test_the_same_member_twice_is_refused(staff, dock, roster, templates):
    event = charter(dock, plan=[PlannedAssignment("CAP_001", "captain")])
    call = datetime(2030, 5, 30, 15, 0, tzinfo=UTC)
    row = {"member": roster["CREW_002"], "role": "deckhand", "call_at": call, "shift_minutes": 300}
    response = staff.post(change_url(event), formset_data(event, [row, row]))
    assert response.status_code == 200
    assert "Please correct the duplicate" in response.content.decode()


def test_overlaps_are_shown_but_do_not_block(staff, event, dock, roster):
    other = charter(
        dock,
        plan=[PlannedAssignment("CAP_001", "captain")],
        external_ref="BS-OTHER",
        starts_at=datetime(2030, 5, 30, 18, 0, tzinfo=UTC),
        vessel=other_vessel(),
    )
    html = staff.get(change_url(event)).content.decode()
    assert "Marco Reyes (CAP_001): shift" in html and other.title in html
    call = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
    data = formset_data(
        other,
        [{"member": roster["CREW_001"], "role": "deckhand", "call_at": call, "shift_minutes": 120}],
    )
    response = staff.post(change_url(other), data, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Overlap: Dana Cole (CREW_001)") for m in messages), messages
    assert Assignment.objects.filter(event=other, member__code="CREW_001").exists()


def make_member_extra() -> CrewMember:
    from crew.services import crew_member_create

    return crew_member_create(
        code="CREW_009", name="Lee Park", email="lee@crew.example.com", roles=["steward"]
    )


def test_the_member_page_shows_the_feed_url(staff, roster):
    member = roster["CREW_001"]
    html = staff.get(reverse("admin:crew_crewmember_change", args=[member.pk])).content.decode()
    assert f"http://127.0.0.1:8000/crew/feed/{member.feed_token}.ics" in html


def test_a_new_call_time_from_the_admin_reaches_the_member(staff, event):
    from django.core import mail

    from crew.services import crew_notify

    crew_notify(event_id=event.pk)
    mail.outbox.clear()
    data = formset_data(event, [])
    dana = Assignment.objects.get(event=event, member__code="CREW_001")
    index = next(k for k, v in data.items() if v == str(dana.pk) and k.endswith("-id"))
    prefix = index.rsplit("-", 1)[0]
    data[f"{prefix}-call_at_1"] = "07:30:00"  # 30 minutes earlier, operator's zone
    assert staff.post(change_url(event), data).status_code == 302
    dana.refresh_from_db()
    assert dana.call_at == datetime(2030, 5, 30, 14, 30, tzinfo=UTC)
    assert crew_notify(event_id=event.pk) == 1
    (message,) = mail.outbox
    assert message.to == ["crew001@crew.example.com"]
    assert "- Call time: Thu 30 May 2030, 7:30 AM PDT (America/Los_Angeles)" in message.body


def test_the_event_page_shows_the_charter_length_in_hours(staff, event):
    html = staff.get(change_url(event)).content.decode()
    assert "Charter length" in html and '<div class="readonly">3 h</div>' in html
    assert '<div class="readonly">180</div>' not in html
