"""The money-leak canary: the one module that owns the claim "crew and guests never see money".

A booking arrives through the intake API with amounts no other figure could produce by accident.
Then every surface a crew member, a guest or a dispatcher without the money permission can reach
is collected — portal pages and the answers to its forms, every crew email with its ICS, the
calendar feed, the exported guest page with its ICS, the guest email, whatever a crew session can
fetch under /api/ and /admin/, every admin page as staff without `view_financials`, and the log
records of the whole run — and none may contain any of the amounts in any usual spelling.
The operator's own surfaces (the summary email, the admin as alice) must show them: the check is
not vacuous.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse

from bookings.models import Booking
from crew.models import Assignment, ChecklistItem, CrewMember
from crew.services import reminders_send
from guests.models import GuestPage
from jada.models import ApiToken, hash_token
from tests.factories import (
    CANARIES,
    CANARIES_2,
    CANARY_AMOUNTS,
    CANARY_AMOUNTS_2,
    CANARY_FEE,
    CANARY_NET,
    CANARY_NET_2,
    all_spellings,
    make_member,
    write_up,
)

TOKEN = "canary-intake-token-4a7f0c2e9b1d"

# Six money fields, each distinctive (tests/factories.py); the charter's change later brings a
# second set of its own.
GROSS, CREW_COST, CAPTAIN_COST, FEE_PERCENT = (str(v) for v in CANARY_AMOUNTS.values())
GROSS_2, CREW_COST_2, CAPTAIN_COST_2, FEE_PERCENT_2 = (str(v) for v in CANARY_AMOUNTS_2.values())
FEE, NET, NET_2 = CANARY_FEE, CANARY_NET, CANARY_NET_2
FORBIDDEN = all_spellings([*CANARIES, *CANARIES_2])


def unfold(text: str) -> str:
    """ICS folds long lines and escapes commas; a value split that way must still be found."""
    return text.replace("\r\n ", "").replace("\n ", "").replace("\\,", ",")


def leaks(text: str) -> list[str]:
    flat = unfold(text)
    return [s for s in FORBIDDEN if s in flat]


class Surfaces(dict):
    """Name → text; every surface must have yielded something."""

    def add(self, name: str, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        assert name not in self, f"surface collected twice: {name}"
        self[name] = text

    def response(self, name: str, response, expect: int | None = None) -> None:
        """Add what a response shows; `expect`: the status it must have (an error page is no
        proof that the real page is clean)."""
        if expect is not None:
            assert response.status_code == expect, (name, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if not body and response.status_code in (301, 302, 303):
            # What a redirect yields is where it sends you (and that may carry values too).
            body = f"Location: {response['Location']}".encode()
        self.add(f"{name} [{response.status_code}]", body)


def the_message_parts(message) -> list[tuple[str, str]]:
    parts = [("subject", message.subject), ("text", message.body)]
    for content, mimetype in getattr(message, "alternatives", []):
        parts.append((mimetype, content))
    for attachment in message.attachments:
        if isinstance(attachment, tuple):
            filename, content, mimetype = attachment
        else:  # a MIMEBase part
            filename, content, mimetype = (
                attachment.get_filename(),
                attachment.get_payload(decode=True),
                attachment.get_content_type(),
            )
        if isinstance(content, bytes):
            content = content.decode("utf-8", errors="replace")
        parts.append((f"attachment {filename} ({mimetype})", content))
    for header, value in message.extra_headers.items():
        parts.append((f"header {header}", str(value)))
    return parts


def magic_link(body: str) -> str:
    match = re.search(r"https?://\S+/crew/login/\?\S+", body)
    assert match, f"no magic link in:\n{body}"
    return match.group(0)


def crew_login(member_email: str) -> tuple[Client, str, str]:
    """Open the member's newest magic link like a phone would: GET the page, POST its button."""
    message = next(m for m in reversed(mail.outbox) if member_email in m.to)
    link = urlsplit(magic_link(message.body))
    client = Client()
    confirm = client.get(f"{link.path}?{link.query}")
    assert confirm.status_code == 200
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', confirm.content.decode()))
    fields = {k: unquote(v).replace("&amp;", "&") for k, v in fields.items()}
    signed_in = client.post(link.path, fields, follow=True)
    assert signed_in.status_code == 200
    assert client.session.get("_auth_user_id"), "the magic link did not sign in"
    return client, confirm.content.decode(), signed_in.content.decode()


def admin_pages(booking: Booking) -> dict[str, str]:
    """Every registered admin's changelist, and change form and history of the charter's rows."""
    urls = {"admin index": reverse("admin:index")}
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label not in {"bookings", "crew", "guests", "jada"}:
            continue
        name = f"{opts.app_label}.{opts.model_name}"
        urls[f"admin {name} changelist"] = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_changelist"
        )
        # The test database holds this one charter, so every row is about it.
        for obj in model._default_manager.all()[:4]:
            for view in ("change", "history"):
                with_pk = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])
                urls[f"admin {name} {view} {obj.pk}"] = with_pk
    for extra in ("calendar", "revenue"):
        with contextlib.suppress(NoReverseMatch):
            urls[f"admin booking {extra}"] = reverse(f"admin:bookings_booking_{extra}")
    month = f"{booking.starts_at:%Y-%m}"
    urls["admin booking calendar of the month"] = (
        reverse("admin:bookings_booking_calendar") + f"?month={month}"
    )
    urls["admin booking changelist searched"] = (
        reverse("admin:bookings_booking_changelist") + "?q=CANARY"
    )
    return urls


@pytest.fixture
def token(db) -> str:
    ApiToken.objects.create(name="canary", token_hash=hash_token(TOKEN))
    return TOKEN


def canary_payload(**changes) -> dict:
    return (
        write_up(
            external_ref="BS-CANARY-7319",
            gross_revenue=GROSS,
            crew_cost=CREW_COST,
            captain_cost=CAPTAIN_COST,
            port_fee_percent=FEE_PERCENT,
            net_revenue=str(NET),
            status=None,
        )
        | changes
    )


def test_no_crew_or_guest_surface_shows_any_amount(
    client,
    token,
    dock,
    roster,
    templates,
    alice,
    bob,
    s3_guest_storage,
    caplog,
    django_capture_on_commit_callbacks,
):
    caplog.set_level(logging.DEBUG)
    surfaces = Surfaces()
    api = {"HTTP_X_DASHBOARD_TOKEN": token}
    # Two deckhands off the charter: a decline on it is offered to them.
    spares = [
        make_member("CREW_003", "Alex Kim", "crew003@crew.example.com", ["deckhand"]),
        make_member("CREW_004", "Jo Park", "crew004@crew.example.com", ["deckhand"]),
    ]

    # 1. The booking arrives through the API; the pipeline runs (eagerly) on commit.
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/bookings", json.dumps(canary_payload()), "application/json", **api
        )
    assert created.status_code == 201, created.content
    booking = Booking.objects.get(pk=created.json()["id"])
    assert booking.financials.fee == FEE and booking.financials.net_revenue == NET

    # 2. Crew: sign in through the emailed link, look around, answer, tick, fetch the feed.
    captain, deckhand = roster["CAP_001"], roster["CREW_001"]
    with django_capture_on_commit_callbacks(execute=True):
        for member, answer in ((captain, "accept"), (deckhand, "decline")):
            code = member.code
            crew, confirm_page, portal_after_login = crew_login(member.email)
            surfaces.add(f"{code} link confirmation page", confirm_page)
            surfaces.add(f"{code} portal after sign-in", portal_after_login)
            surfaces.response(f"{code} portal", crew.get(reverse("crew-portal")), expect=200)
            assignment = Assignment.objects.get(member=member, event__booking_id=booking.pk)
            page = reverse("crew-assignment", args=[assignment.pk])
            surfaces.response(f"{code} assignment page", crew.get(page), expect=200)
            respond = reverse("crew-respond", args=[assignment.pk])
            surfaces.response(
                f"{code} {answer} answer",
                crew.post(respond, {"answer": answer, "reason": "Out of town", "next": page}),
            )
            surfaces.response(
                f"{code} {answer} answer, followed",
                crew.post(
                    respond, {"answer": answer, "reason": "Out of town", "next": page}, follow=True
                ),
            )
            for item in ChecklistItem.objects.filter(assignment=assignment)[:2]:
                tick = reverse("crew-checklist-tick", args=[item.pk])
                surfaces.response(
                    f"{code} tick {item.text!r}",
                    crew.post(tick, {"done": "1", "next": page}, follow=True),
                )
            surfaces.response(
                f"{code} portal after answering", crew.get(reverse("crew-portal")), expect=200
            )
            feed = reverse("crew-feed", args=[CrewMember.objects.get(pk=member.pk).feed_token])
            surfaces.response(f"{code} ICS feed", Client().get(feed), expect=200)

            # What a crew session can reach beyond the portal: the API and the admin.
            surfaces.response(
                f"{code} GET /api/bookings/<id>", crew.get(f"/api/bookings/{booking.pk}")
            )
            surfaces.response(
                f"{code} POST /api/bookings",
                crew.post("/api/bookings", json.dumps(canary_payload()), "application/json"),
            )
            surfaces.response(f"{code} GET /api/openapi.json", crew.get("/api/openapi.json"))
            for name, url in admin_pages(booking).items():
                surfaces.response(f"{code} {name}", crew.get(url, follow=True))

        # A new link for a known address (the answer page and the email it sends).
        surfaces.response(
            "new-link answer",
            Client().post(reverse("crew-link-request"), {"email": captain.email}),
        )

    # 2b. Dispatch: CREW_001's decline opened a slot, offered to the spares. The offer page,
    # taking it, the page a later taker gets, the taker's portal and days-off page.
    offer_paths = []
    for spare in spares:
        offer_mail = next(m for m in mail.outbox if spare.email in m.to)
        url = re.search(r"https?://\S+/crew/offers/\S+", offer_mail.body).group(0)
        offer_paths.append(urlsplit(url).path)
    surfaces.response("CREW_003 offer page", Client().get(offer_paths[0]), expect=200)
    with django_capture_on_commit_callbacks(execute=True):
        taken = Client().post(offer_paths[0])
    assert b"It's yours" in taken.content
    surfaces.response("CREW_003 takes the shift", taken, expect=200)
    late = Client().post(offer_paths[1])
    assert b"This shift has been taken" in late.content
    surfaces.response("CREW_004 too late", late, expect=200)
    taker = Client()
    taker.force_login(spares[0].user, backend="sesame.backends.ModelBackend")
    surfaces.response("CREW_003 portal", taker.get(reverse("crew-portal")), expect=200)
    surfaces.response("CREW_003 days off", taker.get(reverse("crew-availability")), expect=200)

    # 3. Guests: the exported page and its ICS in the bucket, the served page, the guest email.
    page = GuestPage.objects.get(booking_id=booking.pk)
    exported = s3_guest_storage.s3().get_object(
        Bucket=s3_guest_storage.bucket, Key=page.object_name
    )
    html = exported["Body"].read().decode()
    surfaces.add("exported guest page (S3)", html)
    guest_ics = re.findall(r'href="(data:text/calendar[^"]+)"', html)
    assert guest_ics, "the guest page links no calendar entry"
    for n, href in enumerate(guest_ics):
        surfaces.add(f"exported guest ICS {n}", unquote(href.split(",", 1)[1]))
    surfaces.response("guest page served at /g/<ID>", Client().get(page.path), expect=200)

    # 3b. The third crew member answers from the email's own link (no sign-in): the page, the
    # answer, and a malformed answer's page.
    sam = roster["CREW_002"]
    message = next(m for m in mail.outbox if sam.email in m.to)
    answer_link = urlsplit(re.search(r"https?://\S+/crew/answer/\S+", message.body).group(0))
    answer_path = f"{answer_link.path}?{answer_link.query}"
    surfaces.response("CREW_002 answer link page", Client().get(answer_path), expect=200)
    token_fields = {k: v[0] for k, v in parse_qs(answer_link.query).items()}
    surfaces.response(
        "CREW_002 malformed answer",
        Client().post(answer_link.path, {**token_fields, "answer": "maybe"}),
        expect=400,
    )
    with django_capture_on_commit_callbacks(execute=True):
        surfaces.response(
            "CREW_002 accepts from the link",
            Client().post(answer_link.path, {**token_fields, "answer": "accept"}),
            expect=200,
        )

    # 3c. Marketplaces: the vessel's availability feed (busy times only: not even a name).
    feed = Client().get(reverse("vessel-feed", args=[booking.vessel.feed_token]))
    surfaces.response("vessel availability feed", feed, expect=200)
    feed_text = unfold(feed.content.decode())
    assert "Booked" in feed_text
    for private in ("Jordan", "Avery", "jordan@", "555 0100", "BS-CANARY", "Marco", "Dana"):
        assert private not in feed_text, private

    # 4. Staff without view_financials: every admin page, the calendar, the CSV export.
    dispatcher = Client()
    dispatcher.force_login(bob)
    for name, url in admin_pages(booking).items():
        surfaces.response(f"bob {name}", dispatcher.get(url))
    surfaces.response(
        "bob CSV export",
        dispatcher.post(
            reverse("admin:bookings_booking_changelist"),
            {"action": "export_csv", "_selected_action": [booking.pk]},
        ),
    )

    # 4b. The charter changes (two hours later, new amounts), reminders fall due, and then it
    # is cancelled: the changed, reminder and cancellation emails, and the cancelled page.
    with django_capture_on_commit_callbacks(execute=True):
        changed = client.post(
            "/api/bookings",
            json.dumps(
                canary_payload(
                    start_time="11:00",
                    gross_revenue=GROSS_2,
                    crew_cost=CREW_COST_2,
                    captain_cost=CAPTAIN_COST_2,
                    port_fee_percent=FEE_PERCENT_2,
                    net_revenue=str(NET_2),
                )
            ),
            "application/json",
            **api,
        )
    assert changed.status_code == 200, changed.content
    booking.refresh_from_db()
    assert Booking.objects.get(pk=booking.pk).financials.net_revenue == NET_2
    Assignment.objects.filter(event__booking_id=booking.pk, member=sam).update(
        state="pending", responded_at=None
    )
    assert reminders_send(now=booking.starts_at - timedelta(days=3)) >= 1  # unanswered
    assert reminders_send(now=booking.starts_at - timedelta(hours=20)) >= 2  # tomorrow
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = client.post(
            "/api/bookings",
            json.dumps(
                canary_payload(start_time="11:00", status="cancelled")
                | {
                    "gross_revenue": GROSS_2,
                    "crew_cost": CREW_COST_2,
                    "captain_cost": CAPTAIN_COST_2,
                    "port_fee_percent": FEE_PERCENT_2,
                    "net_revenue": str(NET_2),
                }
            ),
            "application/json",
            **api,
        )
    assert cancelled.status_code == 200, cancelled.content
    html = (
        s3_guest_storage.s3()
        .get_object(Bucket=s3_guest_storage.bucket, Key=page.object_name)["Body"]
        .read()
        .decode()
    )
    assert "cancelled" in html
    surfaces.add("exported guest page, cancelled (S3)", html)
    for n, href in enumerate(re.findall(r'href="(data:text/calendar[^"]+)"', html)):
        surfaces.add(f"exported guest ICS, cancelled {n}", unquote(href.split(",", 1)[1]))
    surfaces.response(
        f"{deckhand.code} portal after the cancellation",
        crew.get(reverse("crew-portal")),
        expect=200,
    )
    subjects = [m.subject.split(":")[0] for m in mail.outbox]
    for kind in ("New charter", "Changed", "Please answer", "Tomorrow", "Cancelled"):
        assert any(s.startswith(kind) for s in subjects), (kind, subjects)

    # 5. Every email but the operator's own summary: crew, guest, new link.
    operator_addresses = set(settings.OPERATOR_EMAILS)
    crew_addresses = {m.email for m in [*roster.values(), *spares]}
    kinds = {"crew": 0, "guest": 0, "dispatch": 0}
    for i, message in enumerate(mail.outbox):
        if set(message.to) <= operator_addresses:
            # Crew code's emails to the operators (declined, filled) are crew surfaces too.
            if " declined: " in message.subject or message.subject.startswith("Slot filled"):
                kinds["dispatch"] += 1
                for part, text in the_message_parts(message):
                    surfaces.add(f"email {i} to operators: {part}", text)
            continue
        kind = "crew" if set(message.to) <= crew_addresses else "guest"
        kinds[kind] += 1
        for part, text in the_message_parts(message):
            surfaces.add(f"email {i} to {','.join(message.to)}: {part}", text)
    assert kinds["crew"] >= 3 * 4 and kinds["guest"] >= 3 and kinds["dispatch"] == 2, kinds
    assert any("Open shift" in s for s in subjects), subjects
    assert any("text/calendar" in name for name in surfaces), "no crew or guest ICS attachment"

    # Every link in a crew or guest email opens a page (GET only: scanners do no more).
    linked = sorted(
        {
            url.rstrip(".,)>")
            for name, text in surfaces.items()
            if name.startswith("email ") and name.endswith(": text")
            for url in re.findall(r"https?://[^\s\"'<>]+", text)
            if url.startswith(settings.SITE_URL)
        }
    )
    assert linked, "no links in the emails?"
    for n, url in enumerate(linked):
        link = urlsplit(url)
        target = f"{link.path}?{link.query}" if link.query else link.path
        surfaces.response(f"emailed link {n} {link.path}", Client().get(target))

    # 6. The logs of the whole run.
    # Formatted as a handler would: tracebacks included.
    formatter = logging.Formatter()
    surfaces.add("log records", "\n".join(formatter.format(r) for r in caplog.records))

    report = "\n".join(f"  {len(text):>7}  {name}" for name, text in surfaces.items())
    print(f"canary: {len(surfaces)} surfaces checked for {len(FORBIDDEN)} spellings\n{report}")
    empty = [name for name, text in surfaces.items() if not text.strip()]
    assert not empty, f"surfaces that yielded nothing: {empty}\n{report}"
    found = {name: leaks(text) for name, text in surfaces.items() if leaks(text)}
    assert not found, f"money leaked: {found}\nsurfaces checked:\n{report}"

    # The search is not vacuous: the operator's surfaces show the same amounts in these spellings.
    operator = Client()
    operator.force_login(alice)
    change = operator.get(reverse("admin:bookings_booking_change", args=[booking.pk]))
    assert leaks(change.content.decode()), "alice's change form shows no amount: spellings wrong?"
    summaries = [m for m in mail.outbox if set(m.to) <= operator_addresses]
    assert summaries and any(leaks(m.body) for m in summaries), "the summary shows no amount"
    # And the surfaces are about this charter.
    assert "Jordan" in html and "Sheraton Hotel Dock" in surfaces["CAP_001 portal [200]"]


def test_the_spellings_cover_the_usual_formats():
    assert {"7319.27", "7,319.27", "$7,319.27", "978.59", "4,239.79", "13.37"} <= set(FORBIDDEN)
    assert leaks("Total: $7,319.27") and leaks("DESCRIPTION:gross 7\\,319.27")
    assert leaks("net 4.239,79 EUR") and not leaks("Brief 4 guests at 9:00 AM")
