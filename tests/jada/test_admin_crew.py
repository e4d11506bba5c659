"""The booking form assigns the captain and crew directly; a role without a member stays open."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.contrib.messages import get_messages
from django.urls import reverse

from crew.models import Assignment, Offer, Slot, Unavailability
from tests.factories import charter, make_member
from tests.helpers import post_data


def crew_row(i: int, role: str, member=None, call: str = "", shift: str = "") -> dict[str, str]:
    date_part, _, time_part = call.partition(" ")
    return {
        f"crew_{i}_role": role,
        f"crew_{i}_member": str(member.pk) if member else "",
        f"crew_{i}_call_at_0": date_part,
        f"crew_{i}_call_at_1": time_part,
        f"crew_{i}_shift_minutes": shift,
    }


def add(client, dock, *rows: dict) -> object:
    data = post_data(
        dock=dock.pk, gross_revenue="840.75", crew_cost="250.00", captain_cost="150.00"
    )
    data["fee_percent"] = "18"
    for row in rows:
        data.update(row)
    return client.post(reverse("admin:bookings_booking_add"), data, follow=True)


def test_the_add_form_assigns_captain_and_crew_and_leaves_an_open_slot(
    client, alice, dock, roster, templates, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    page = client.get(reverse("admin:bookings_booking_add")).content.decode()
    assert 'name="crew_0_member"' in page and "open slot, offered to the crew" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = add(
            client,
            dock,
            crew_row(0, "captain", roster["CAP_001"]),
            crew_row(1, "deckhand", roster["CREW_001"], "2030-05-30 07:30:00", "5:30"),
            crew_row(2, "deckhand"),  # an open deckhand slot
        )
    assert response.status_code == 200
    on_board = {
        a.member.code: (a.role, a.call_at, a.shift_minutes)
        for a in Assignment.objects.select_related("member")
    }
    assert on_board == {
        "CAP_001": ("captain", datetime(2030, 5, 30, 15, 0, tzinfo=UTC), 300),
        "CREW_001": ("deckhand", datetime(2030, 5, 30, 14, 30, tzinfo=UTC), 330),
    }
    slot = Slot.objects.get()
    assert (slot.role, slot.filled_at) == ("deckhand", None)
    assert list(Offer.objects.values_list("member__code", flat=True)) == ["CREW_002"]


def test_the_change_form_shows_the_crew_and_warns_of_unavailable_members(
    client, alice, dock, roster, templates, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        add(client, dock, crew_row(0, "captain", roster["CAP_001"]))
    from bookings.models import Booking

    booking = Booking.objects.get()
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    page = client.get(url).content.decode()
    # Prefilled: the captain's row, call time an hour before boarding, shift charter + 2 h.
    assert f'<option value="{roster["CAP_001"].pk}" selected>' in page
    assert 'name="crew_0_call_at_1" value="08:00:00"' in page
    assert 'name="crew_0_shift_minutes" value="5:00"' in page  # in hours
    Unavailability.objects.create(member=roster["CREW_002"], day=date(2030, 5, 30))
    make_member("CREW_009", "Kai Moss", "crew009@crew.example.com", ["deckhand"])
    data = post_data(booking)
    data.update(crew_row(0, "captain", roster["CAP_001"], "2030-05-30 08:00:00", "5"))
    data.update(crew_row(1, "deckhand", roster["CREW_002"], "2030-05-30 08:00:00", "5"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data, follow=True)
    assert response.status_code == 200
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(s.startswith("Unavailable: Sam Ortiz (CREW_002) marked") for s in said), said
    assert Assignment.objects.filter(member__code="CREW_002", removed_at__isnull=True).exists()


def test_a_change_without_crew_fields_leaves_the_crew_alone(client, alice, dock, roster, templates):
    from bookings.models import Booking

    event = charter(dock)
    client.force_login(alice)
    booking = Booking.objects.get(pk=event.booking_id)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    response = client.post(url, post_data(booking, notes="New notes"))
    assert response.status_code == 302
    assert Assignment.objects.filter(event=event, removed_at__isnull=True).count() == 3


def test_one_member_twice_is_a_form_error(client, alice, dock, roster, templates):
    client.force_login(alice)
    response = add(
        client,
        dock,
        crew_row(0, "captain", roster["CAP_001"]),
        crew_row(1, "deckhand", roster["CAP_001"]),
    )
    assert "is on another row already" in response.content.decode()
    assert not Assignment.objects.exists()
