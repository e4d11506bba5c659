"""No money and no crew contact on any guest surface: the page, its ICS, emails, served bytes."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from django.core import mail

from guests.models import GuestPage
from guests.services import guest_notify, guest_page_publish
from tests.factories import CANARIES, all_spellings, canary_booking


def unfold(ics: str) -> str:
    # ICS folds long lines; a value split across a fold must still be found.
    return ics.replace("\r\n ", "").replace("\n ", "")


def guest_surfaces(client, booking, s3_guest_storage) -> dict[str, str]:
    guest_page_publish(booking_id=booking.pk)
    guest_notify(booking_id=booking.pk, force=True)
    page = GuestPage.objects.get(booking_id=booking.pk)
    exported = s3_guest_storage.s3().get_object(
        Bucket=s3_guest_storage.bucket, Key=page.object_name
    )
    html = exported["Body"].read().decode()
    ics = unquote(re.search(r'href="data:text/calendar;charset=utf-8,([^"]+)"', html).group(1))
    [message] = mail.outbox
    [(_, attachment, _)] = message.attachments
    return {
        "exported html": html,
        "exported ics": unfold(ics),
        "served page": client.get(page.path).content.decode(),
        "email subject": message.subject,
        "email text": message.body,
        "email html": message.alternatives[0][0],
        "email ics": unfold(attachment),
    }


def test_no_guest_surface_shows_money_or_crew(
    client, dock, roster, templates, s3_guest_storage, caplog
):
    phones = ["+1 619 555 0111", "+1 619 555 0122", "+1 619 555 0133"]
    for member, phone in zip(roster.values(), phones, strict=True):
        member.phone = phone
        member.save()
    booking = canary_booking(dock, internal_notes="VIP: owner's friend")
    caplog.set_level(logging.DEBUG)
    surfaces = guest_surfaces(client, booking, s3_guest_storage)
    surfaces["logs"] = caplog.text
    crew_contacts = [m.email for m in roster.values()] + phones
    forbidden = all_spellings(CANARIES) + crew_contacts
    forbidden += ["VIP: owner", "guest briefing required", "Marco Reyes", "CAP_001"]
    assert "+1 619 555 0111" in forbidden and "cap001@crew.example.com" in forbidden
    assert "7319.27" in forbidden and "$7,319.27" in forbidden and "978.59" in forbidden
    for name, text in surfaces.items():
        assert text, f"{name} yielded nothing"
        for value in forbidden:
            assert value not in text, f"{value!r} leaked into the {name}"
    # The surfaces are about this charter (the check is not vacuous).
    assert "Jordan" in surfaces["exported html"] and "BS-CANARY-1" in surfaces["exported html"]
