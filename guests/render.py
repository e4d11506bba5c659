"""The guest page, its calendar entry and emails, from the booking's operational projection."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formataddr, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from bookings.formatting import local, zone_name
from bookings.selectors import OperationalBooking
from guests.models import GuestPage

PAGE_TEMPLATE = "guests/page.html"
# iTIP methods of the guest's calendar entry (RFC 5546): a published event, or its cancellation.
PUBLISH = "PUBLISH"
CANCEL = "CANCEL"
# Characters left as they are in the data: link of the calendar entry (all valid in a URL). Not
# the apostrophe: %27 is 3 bytes where the page's HTML escaping would make it 6 (&#x27;).
ICS_SAFE = ":;,./@-_=+!*()~"


@dataclass(frozen=True)
class GuestFacts:
    """What the guest is told: a whitelist over the projection (no notes, no crew, no contact)."""

    guest_name: str
    guest_count: int
    starts_at: datetime
    duration_minutes: int
    dock_name: str
    dock_address: str
    dock_directions: str
    dock_map_url: str
    vessel_name: str  # the guest-facing name
    cancelled: bool
    source_label: str
    reference: str

    @classmethod
    def of(cls, booking: OperationalBooking) -> GuestFacts:
        return cls(
            guest_name=booking.guest_name,
            guest_count=booking.guest_count,
            starts_at=booking.starts_at.astimezone(UTC),
            duration_minutes=booking.duration_minutes,
            dock_name=booking.dock_name,
            dock_address=booking.dock_address,
            dock_directions=booking.dock_directions,
            dock_map_url=booking.dock_map_url,
            vessel_name=booking.vessel_guest_name,
            cancelled=booking.is_cancelled,
            source_label=booking.source_label,
            reference=booking.external_ref,
        )

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def fingerprint(self) -> str:
        values = asdict(self) | {"starts_at": self.starts_at.isoformat()}
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RenderedPage:
    html: bytes
    ics: bytes
    content_hash: str


def facts_told(facts: GuestFacts) -> dict[str, Any]:
    """What an email told the guest, kept to say what changed in the next one."""
    return {
        "starts_at": facts.starts_at.isoformat(),
        "duration_minutes": facts.duration_minutes,
        "guest_count": facts.guest_count,
        "dock_name": facts.dock_name,
        "dock_address": facts.dock_address,
        "dock_directions": facts.dock_directions,
    }


def facts_changes(told: dict[str, Any], facts: GuestFacts) -> list[str]:
    """ "Boarding time: 5:00 PM PST (was 4:00 PM PST)", one line per fact the guest knew."""
    if not told:
        return []
    now = facts_told(facts)
    lines = []
    before = local(datetime.fromisoformat(told["starts_at"]))
    after = local(facts.starts_at)

    def day(moment: datetime) -> str:
        return f"{moment:%A, %B} {moment.day}, {moment.year}"

    def clock(moment: datetime) -> str:
        return f"{_clock(moment)} {moment.tzname()}"

    if before.date() != after.date():
        lines.append(f"Date: {day(after)} (was {day(before)})")
    if clock(before) != clock(after):
        lines.append(f"Boarding time: {clock(after)} (was {clock(before)})")
    if told.get("duration_minutes") != now["duration_minutes"]:
        was = _duration_label(int(told.get("duration_minutes") or 0))
        lines.append(f"Charter length: {_duration_label(facts.duration_minutes)} (was {was})")
    if told.get("guest_count") != now["guest_count"]:
        lines.append(f"Guests: {facts.guest_count} (was {told.get('guest_count')})")
    if (told.get("dock_name"), told.get("dock_address")) != (facts.dock_name, facts.dock_address):
        where = ", ".join(p for p in (facts.dock_name, facts.dock_address) if p)
        was = ", ".join(p for p in (told.get("dock_name"), told.get("dock_address")) if p)
        lines.append(f"Dock: {where} (was {was})")
    elif told.get("dock_directions") != facts.dock_directions:
        lines.append("Directions to the dock: updated (below)")
    return lines


def page_revise(page: GuestPage, facts: GuestFacts) -> bool:
    """Note on `page` (unsaved) that its facts changed; True when they did."""
    fingerprint = facts.fingerprint()
    if page.facts_hash == fingerprint:
        return False
    if page.facts_hash:
        page.revision += 1
    page.facts_hash = fingerprint
    page.revised_at = timezone.now()
    return True


def _duration_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _clock(moment: datetime) -> str:
    return f"{moment:%I:%M %p}".lstrip("0")


def _tel_uri(phone: str) -> str:
    return "tel:" + re.sub(r"[^\d+]", "", phone)


def _map_url(facts: GuestFacts) -> str:
    if facts.dock_map_url:
        return facts.dock_map_url
    query = ", ".join(part for part in (facts.dock_name, facts.dock_address) if part)
    return f"https://www.google.com/maps/search/?api=1&query={quote_plus(query)}"


def guest_context(page: GuestPage, facts: GuestFacts) -> dict[str, Any]:
    """Labels shared by the page and the guest emails, in the operator's zone, named."""
    start, end = local(facts.starts_at), local(facts.ends_at)
    same_day = start.date() == end.date()
    return {
        "brand": settings.GUEST_BRAND_NAME,
        "facts": facts,
        "first_name": facts.guest_name.split()[0] if facts.guest_name.split() else "",
        "date_label": f"{start:%A, %B} {start.day}, {start.year}",
        "short_date_label": f"{start:%A, %B} {start.day}",
        "start_label": f"{_clock(start)} {start.tzname()}",
        "end_label": f"{_clock(end)} {end.tzname()}"
        + ("" if same_day else f" on {end:%A, %B} {end.day}"),
        "zone_name": zone_name(),
        "duration_label": _duration_label(facts.duration_minutes),
        "map_url": _map_url(facts),
        "contact_phone": settings.GUEST_CONTACT_PHONE,
        "contact_phone_uri": _tel_uri(settings.GUEST_CONTACT_PHONE),
        "contact_email": settings.GUEST_CONTACT_EMAIL,
        "page_url": page.url,
        "ics_filename": f"{_slug(settings.GUEST_BRAND_NAME)}-charter.ics",
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "charter"


def render_ics(page: GuestPage, facts: GuestFacts, *, method: str = PUBLISH) -> bytes:
    """The calendar entry: one event whose SEQUENCE follows the page's revision.

    `method` is PUBLISH (the page's link, the emails) or CANCEL (the cancellation email).
    """
    # The time of this version (RFC 5546: when it was created); an unchanged page keeps it, so
    # it renders the same bytes.
    version_at = page.revised_at or page.created_at or facts.starts_at
    return _ics(
        page.pk,
        page.revision,
        version_at.astimezone(UTC),
        page.url,
        facts,
        method,
        (
            settings.GUEST_BRAND_NAME,
            settings.GUEST_SITE_URL,
            settings.DEFAULT_FROM_EMAIL,
            settings.GUEST_CONTACT_PHONE,
            settings.GUEST_CONTACT_EMAIL,
        ),
    )


# Keyed on everything the entry says: the guest stage renders the page's entry, then the same
# entry again for the email, and icalendar's serialising is a good part of the stage's time.
@lru_cache(maxsize=64)
def _ics(
    page_pk: int,
    revision: int,
    version_at: datetime,
    url: str,
    facts: GuestFacts,
    method: str,
    named: tuple[str, str, str, str, str],
) -> bytes:
    brand, site_url, from_email, contact_phone, contact_email = named
    host = urlsplit(site_url).hostname or "localhost"
    calendar = Calendar()
    calendar.add("prodid", f"-//{brand}//Guest page//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    # The page id, not the session id: the UID must not carry the page's secret.
    event.add("uid", f"guest-page-{page_pk}@{host}")
    event.add("dtstamp", version_at)
    event.add("sequence", revision)
    # RFC 5546 §3.2: PUBLISH and CANCEL carry exactly one ORGANIZER, the address guests get mail
    # from, named as the brand.
    organizer = vCalAddress(f"mailto:{parseaddr(from_email)[1]}")
    organizer.params["cn"] = vText(brand)
    event["organizer"] = organizer
    event.add("dtstart", facts.starts_at)
    event.add("dtend", facts.ends_at)
    event.add("summary", f"{'Cancelled: ' if facts.cancelled else ''}{brand} charter")
    event.add("location", ", ".join(p for p in (facts.dock_name, facts.dock_address) if p))
    contact = f"Questions: {contact_phone} or {contact_email}"
    description = (facts.dock_directions, f"Details: {url}", contact)
    event.add("description", "\n\n".join(part for part in description if part))
    event.add("url", url)
    event.add("status", "CANCELLED" if facts.cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()


def render_page(page: GuestPage, facts: GuestFacts) -> RenderedPage:
    """The self-contained page (and its ICS, inlined as a data: link) plus its content hash."""
    ics = render_ics(page, facts)
    context = guest_context(page, facts)
    # Rendered after the charter: it has taken place, and the page no longer says "confirmed".
    context["past"] = facts.ends_at <= timezone.now()
    # Percent-encoded rather than base64, so the calendar text stays legible in the page source.
    context["ics_href"] = "data:text/calendar;charset=utf-8," + quote(ics, safe=ICS_SAFE)
    html = render_to_string(PAGE_TEMPLATE, context).encode("utf-8")
    return RenderedPage(html=html, ics=ics, content_hash=hashlib.sha256(html).hexdigest())


def message_id(*parts: object, recipient: str) -> str:
    """The same email gets the same Message-ID however often it is sent (mail systems then
    drop a resend after a lost worker as a duplicate)."""
    whom = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or str(DNS_NAME)
    return f"<jada.{'.'.join(str(p) for p in parts)}.{whom}@{domain}>"


def guest_email(
    page: GuestPage, facts: GuestFacts, *, to: str, kind: str, changes: list[str] | None = None
) -> EmailMultiAlternatives:
    """The guest's email (`kind`: confirmed, changed, cancelled): the page's facts and its ICS.

    `changes`: for a "changed" email, what changed since the last one, one line each.
    """
    context = guest_context(page, facts) | {"kind": kind, "changes": changes or []}
    brand_name = settings.GUEST_BRAND_NAME
    subject = " ".join(render_to_string("emails/guest-charter-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/guest-charter-body.txt", context),
        # The guest-facing brand's name on the operator's sending address; replies go to the brand.
        from_email=formataddr((brand_name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[to],
        reply_to=[settings.GUEST_CONTACT_EMAIL],
        # RFC 3834: no vacation replies to a message nobody typed.
        headers={
            "Auto-Submitted": "auto-generated",
            # Per page, version of what it says, kind and address.
            "Message-ID": message_id(
                "guest", kind, f"p{page.pk}", f"r{page.revision}", recipient=to
            ),
        },
    )
    message.attach_alternative(
        render_to_string("emails/guest-charter-body.html", context), "text/html"
    )
    method = CANCEL if kind == "cancelled" else PUBLISH
    ics = render_ics(page, facts, method=method).decode()
    # iMIP (RFC 6047): the part's content type repeats the file's METHOD.
    message.attach(context["ics_filename"], ics, f"text/calendar; method={method}")
    return message
