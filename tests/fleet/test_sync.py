"""Calendar sync against a real HTTP server: holds follow the feed; failures change nothing."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from bookings.calendar_sync import sync_all, sync_subscription
from bookings.models import CalendarSubscription, Hold, HoldConflict
from bookings.services import booking_upsert
from bookings.tasks import sync_calendars
from tests.factories import booking_data
from tests.fleet.feeds import feed_server, ics

# Fetching runs outside any transaction: these tests commit like production does.
pytestmark = pytest.mark.django_db(transaction=True)

NINE_PDT = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def server():
    with feed_server() as running:
        yield running


def subscribe(vessel, server, path: str, source: str = "getmyboat", name: str = "") -> object:
    return CalendarSubscription.objects.create(
        vessel=vessel, name=name or f"{source} {path}", url=server.url(path), source=source
    )


def holds(subscription) -> list[tuple[str, datetime, datetime, str]]:
    return [
        (h.uid, h.starts_at, h.ends_at, h.summary)
        for h in Hold.objects.filter(subscription=subscription).order_by("starts_at")
    ]


def test_events_become_holds_that_follow_the_feed(jada, server):
    server.serve(
        "/g.ics",
        ics(
            ("a@gmb", NINE_PDT, NINE_PDT + 4 * H, "Reserved: Morgan"),
            ("b@gmb", NINE_PDT + 24 * H, NINE_PDT + 27 * H, "Reserved: Riley"),
        ),
    )
    sub = subscribe(jada, server, "/g.ics")
    assert sync_subscription(sub).state == "updated"
    assert holds(sub) == [
        ("a@gmb", NINE_PDT, NINE_PDT + 4 * H, "Reserved: Morgan"),
        ("b@gmb", NINE_PDT + 24 * H, NINE_PDT + 27 * H, "Reserved: Riley"),
    ]
    assert {h.vessel_id for h in Hold.objects.all()} == {jada.pk}
    assert set(Hold.objects.values_list("source", flat=True)) == {"getmyboat"}

    # The feed changes: a moves, b is gone, c is new.
    server.serve(
        "/g.ics",
        ics(
            ("a@gmb", NINE_PDT + 2 * H, NINE_PDT + 5 * H, "Reserved: Morgan"),
            ("c@gmb", NINE_PDT + 48 * H, NINE_PDT + 50 * H, "Reserved: Sky"),
        ),
    )
    a_pk = Hold.objects.get(uid="a@gmb").pk
    outcome = sync_subscription(sub)
    assert outcome.detail.startswith("2 event(s): 1 new, 1 changed, 1 removed")
    assert holds(sub) == [
        ("a@gmb", NINE_PDT + 2 * H, NINE_PDT + 5 * H, "Reserved: Morgan"),
        ("c@gmb", NINE_PDT + 48 * H, NINE_PDT + 50 * H, "Reserved: Sky"),
    ]
    assert Hold.objects.get(uid="a@gmb").pk == a_pk  # moved, not replaced


def test_all_day_cancelled_and_floating_events(jada, server):
    server.serve(
        "/d.ics",
        "\r\n".join(
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Marketplace//Test//EN",
                "BEGIN:VEVENT",
                "UID:day@x",
                "DTSTART;VALUE=DATE:20300601",
                "DTEND;VALUE=DATE:20300602",
                "SUMMARY:Owner's day",
                "END:VEVENT",
                "BEGIN:VEVENT",
                "UID:gone@x",
                "DTSTART:20300603T160000Z",
                "DTEND:20300603T190000Z",
                "STATUS:CANCELLED",
                "END:VEVENT",
                "BEGIN:VEVENT",
                "UID:float@x",
                "DTSTART:20300604T090000",
                "DURATION:PT3H",
                "END:VEVENT",
                "END:VCALENDAR",
                "",
            ]
        ),
    )
    sub = subscribe(jada, server, "/d.ics")
    sync_subscription(sub)
    found = {h.uid: (h.starts_at, h.ends_at) for h in Hold.objects.all()}
    # The operator's day (America/Los_Angeles, PDT in June) and the operator's clock.
    assert found == {
        "day@x": (datetime(2030, 6, 1, 7, tzinfo=UTC), datetime(2030, 6, 2, 7, tzinfo=UTC)),
        "float@x": (datetime(2030, 6, 4, 16, tzinfo=UTC), datetime(2030, 6, 4, 19, tzinfo=UTC)),
    }


def test_conditional_get_sends_etag_and_last_modified_and_304_changes_nothing(jada, server):
    body = ics(("a@gmb", NINE_PDT, NINE_PDT + 3 * H, "Reserved"))
    server.serve("/e.ics", body, etag='"v1"')
    server.serve("/m.ics", body, last_modified="Wed, 01 May 2030 10:00:00 GMT")
    by_etag, by_date = subscribe(jada, server, "/e.ics"), subscribe(jada, server, "/m.ics")
    sync_all()
    by_etag.refresh_from_db()
    by_date.refresh_from_db()
    assert by_etag.etag == '"v1"' and by_date.last_modified.startswith("Wed, 01 May 2030")
    before = list(Hold.objects.values_list("pk", "updated_at"))
    server.requests.clear()

    outcomes = sync_all()

    assert [o.state for o in outcomes] == ["unchanged", "unchanged"]
    sent = dict(server.requests)
    assert sent["/e.ics"]["If-None-Match"] == '"v1"'
    assert sent["/m.ics"]["If-Modified-Since"] == "Wed, 01 May 2030 10:00:00 GMT"
    assert list(Hold.objects.values_list("pk", "updated_at")) == before


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ({"status": 500, "body": b"oops"}, "HTTP 500"),
        ({"body": b"\x00garbage" * 100}, "Not an iCalendar file"),
        ({"body": b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:tomorrow\r\n"}, "alformed"),
        ({"body": b"BEGIN:VCALENDAR\r\n" + b"X" * (10 * 1024 * 1024)}, "larger than"),
    ],
    ids=["500", "garbage", "malformed", "10 MB"],
)
def test_a_failure_is_recorded_changes_nothing_and_never_stops_the_others(
    jada, server, route, expected
):
    good = ics(("a@gmb", NINE_PDT, NINE_PDT + 3 * H, "Reserved"))
    server.serve("/bad.ics", good)
    server.serve("/other.ics", ics(("o@gmb", NINE_PDT + 48 * H, NINE_PDT + 50 * H, "Other")))
    bad = subscribe(jada, server, "/bad.ics", name="first")
    other = subscribe(jada, server, "/other.ics", name="second")
    sync_all()
    before = holds(bad)
    assert before
    server.serve("/bad.ics", **route)
    server.serve("/other.ics", ics(("o2@gmb", NINE_PDT + 72 * H, NINE_PDT + 75 * H, "New")))

    states = {o.subscription.pk: (o.state, o.detail) for o in sync_all()}

    assert states[bad.pk][0] == "failed" and expected in states[bad.pk][1]
    bad.refresh_from_db()
    assert expected in bad.last_error and bad.last_error_at is not None
    assert holds(bad) == before
    # The subscription after it was synced all the same.
    assert states[other.pk][0] == "updated"
    assert [h[0] for h in holds(other)] == ["o2@gmb"]


def test_a_server_that_hangs_times_out(jada, server, settings):
    settings.CALENDAR_SYNC_TIMEOUT_SECONDS = 0.5
    server.serve("/slow.ics", ics(), delay=5)
    sub = subscribe(jada, server, "/slow.ics")
    outcome = sync_subscription(sub)
    assert outcome.state == "failed" and "Timeout" in outcome.detail


def test_fetching_inside_a_transaction_is_refused(jada, server):
    sub = subscribe(jada, server, "/g.ics")
    with pytest.raises(AssertionError, match="outside a transaction"), transaction.atomic():
        sync_subscription(sub)


def test_the_command_reports_each_subscription_and_fails_when_one_failed(jada, queen, server):
    server.serve("/j.ics", ics(("a@gmb", NINE_PDT, NINE_PDT + 3 * H, "Reserved")))
    subscribe(jada, server, "/j.ics", name="GetMyBoat Jada")
    subscribe(queen, server, "/missing.ics", name="Sailo Queen", source="sailo")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 subscription"):
        call_command("sync_calendars", stdout=out)
    lines = out.getvalue().splitlines()
    assert "JADA GetMyBoat Jada: updated: 1 event(s): 1 new" in lines[0]
    assert lines[1].startswith("QUEEN Sailo Queen: failed: HTTP 404")
    assert Hold.objects.count() == 1


def test_beat_runs_the_sync_every_15_minutes(jada, server):
    entry = next(
        e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if "sync_calendars" in e["task"]
    )
    assert entry["schedule"] == 15 * 60
    assert entry["task"] == sync_calendars.name
    server.serve("/j.ics", ics(("a@gmb", NINE_PDT, NINE_PDT + 3 * H, "Reserved")))
    subscribe(jada, server, "/j.ics")
    assert sync_calendars.delay().get(disable_sync_subtasks=False) == {"updated": 1}
    assert Hold.objects.count() == 1


# --- holds and bookings --------------------------------------------------------------------


def book(dock, ref: str, **values):
    return booking_upsert(data=booking_data(dock, external_ref=ref, **values), via="test").booking


def test_a_hold_of_the_same_source_and_time_is_that_booking(jada, dock, server, roster, templates):
    booking = book(dock, "BS-1", vessel=jada)  # Boatsetter, 09:00-12:00
    server.serve("/bs.ics", ics(("bs-1@boatsetter", NINE_PDT, NINE_PDT + 3 * H, "Booked")))
    sub = subscribe(jada, server, "/bs.ics", source="boatsetter")
    mail.outbox.clear()
    sync_subscription(sub)
    assert Hold.objects.get().booking_id == booking.pk
    assert not HoldConflict.objects.exists()
    assert mail.outbox == []


def test_another_sources_overlap_is_one_conflict_one_email_and_a_warning(
    jada, dock, server, roster, templates
):
    from jada.intake import booking_intake

    booking = book(dock, "BS-1", vessel=jada)
    # GetMyBoat sold 11:00-15:00 on the same boat (the turnaround counts too).
    server.serve("/g.ics", ics(("g-1@gmb", NINE_PDT + 2 * H, NINE_PDT + 6 * H, "Reserved: Morgan")))
    sub = subscribe(jada, server, "/g.ics", name="GetMyBoat Jada")
    mail.outbox.clear()

    sync_subscription(sub)
    sync_subscription(sub)  # again: still one conflict, no second email

    conflict = HoldConflict.objects.get()
    assert conflict.booking_id == booking.pk and conflict.emailed_at is not None
    alerts = [m for m in mail.outbox if m.subject.startswith("Conflict")]
    assert len(alerts) == 1
    assert alerts[0].to == list(django_settings.OPERATOR_EMAILS)
    assert "BS-1" in alerts[0].subject and "GetMyBoat Jada" in alerts[0].body
    assert "Reserved: Morgan" in alerts[0].body
    # The intake's answer carries it as a warning; the booking was written all the same.
    from tests.jada.intake_support import write_up

    result = booking_intake(
        payload=write_up(external_ref="BS-1", guest={"name": "Jordan Avery", "count": 5}),
        via="api",
    )
    assert any("GetMyBoat Jada" in w and "BS-1" in w for w in result.warnings), result.warnings

    # The booking moves away: the conflict is gone.
    book(dock, "BS-1", vessel=jada, starts_at=NINE_PDT + 24 * H)
    assert not HoldConflict.objects.exists()


def test_a_booking_written_onto_a_hold_is_saved_with_a_warning_and_an_email(
    jada, dock, server, roster, templates
):
    from jada.intake import booking_intake
    from tests.jada.intake_support import write_up

    server.serve("/g.ics", ics(("g-1@gmb", NINE_PDT - 1 * H, NINE_PDT + 1 * H, "Reserved")))
    sync_subscription(subscribe(jada, server, "/g.ics", name="GetMyBoat Jada"))
    mail.outbox.clear()

    result = booking_intake(payload=write_up(), via="api")

    assert result.created  # holds never block a write
    assert any("GetMyBoat Jada" in w for w in result.warnings)
    assert len([m for m in mail.outbox if m.subject.startswith("Conflict")]) == 1


# --- repeating events ------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def calendar(*events: list[str]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Marketplace//Test//EN"]
    for event in events:
        lines += ["BEGIN:VEVENT", "DTSTAMP:20300101T000000Z", *event, "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def test_a_repeating_event_is_a_hold_per_occurrence_within_a_bounded_window(jada, server):
    now = timezone.now().astimezone(UTC)
    start = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    # The daily series runs at the other end of the day from now: no occurrence sits on the
    # window's edges, however long the test takes.
    daily = (now - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    daily += timedelta(hours=12)
    server.serve(
        "/r.ics",
        calendar(
            [
                "UID:service@x",
                f"DTSTART:{stamp(start)}",
                f"DTEND:{stamp(start + 3 * H)}",
                "RRULE:FREQ=WEEKLY;COUNT=4",
                f"EXDATE:{stamp(start + 7 * 24 * H)}",
                "SUMMARY:Hull cleaning",
            ],
            [  # the third occurrence moved two hours later
                "UID:service@x",
                f"RECURRENCE-ID:{stamp(start + 14 * 24 * H)}",
                f"DTSTART:{stamp(start + 14 * 24 * H + 2 * H)}",
                f"DTEND:{stamp(start + 14 * 24 * H + 5 * H)}",
                "SUMMARY:Hull cleaning",
            ],
            [
                "UID:owner@x",
                f"DTSTART:{stamp(daily)}",
                f"DTEND:{stamp(daily + H)}",
                "RRULE:FREQ=DAILY",
                "SUMMARY:Owner's hour",
            ],
            ["UID:a@gmb", f"DTSTART:{stamp(NINE_PDT)}", f"DTEND:{stamp(NINE_PDT + 3 * H)}"],
        ),
    )
    sub = subscribe(jada, server, "/r.ics")
    assert sync_subscription(sub).state == "updated"
    service = Hold.objects.filter(uid__startswith="service@x#").order_by("starts_at")
    assert [(h.starts_at, h.ends_at) for h in service] == [
        (start, start + 3 * H),
        (start + 14 * 24 * H + 2 * H, start + 14 * 24 * H + 5 * H),
        (start + 21 * 24 * H, start + 21 * 24 * H + 3 * H),
    ]
    owner = Hold.objects.filter(uid__startswith="owner@x#")
    # From a day ago to 400 days ahead: one a day, none older, none further.
    assert 400 <= owner.count() <= 402
    assert min(h.ends_at for h in owner) >= now - timedelta(days=1)
    assert max(h.starts_at for h in owner) <= now + timedelta(days=400)
    assert Hold.objects.filter(uid="a@gmb").exists()  # a single event, whatever its date

    # Synced again: every occurrence keeps its hold (stable UIDs), nothing changes.
    moved = service[1].pk
    outcome = sync_subscription(sub)
    assert "0 new, 0 changed, 0 removed" in outcome.detail
    assert Hold.objects.filter(uid__startswith="service@x#").order_by("starts_at")[1].pk == moved


def _hours(n: int) -> str:
    return ",".join(str(h) for h in range(n))


@pytest.mark.parametrize(
    ("rule", "since_days", "expected"),
    [
        ("FREQ=SECONDLY", 0, "repeats secondly"),
        ("FREQ=DAILY;BYHOUR=" + _hours(24) + ";BYMINUTE=" + _hours(60), 2_000, "too many"),
        ("FREQ=YEARLY;BYDAY=MO", 365_000, "too many"),  # from a thousand years ago
        ("FREQ=DAILY;BYHOUR=" + _hours(24), 0, "occurrences in the next 400 days"),
    ],
    ids=["secondly", "dense", "ancient", "flood"],
)
def test_a_repeating_event_that_would_explode_is_refused_and_changes_nothing(
    jada, server, rule, since_days, expected
):
    server.serve("/x.ics", ics(("a@gmb", NINE_PDT, NINE_PDT + 3 * H, "Reserved")))
    sub = subscribe(jada, server, "/x.ics")
    sync_subscription(sub)
    before = holds(sub)
    first = (timezone.now() - timedelta(days=since_days)).replace(microsecond=0)
    server.serve(
        "/x.ics",
        calendar(
            ["UID:a@gmb", f"DTSTART:{stamp(NINE_PDT)}", f"DTEND:{stamp(NINE_PDT + 3 * H)}"],
            ["UID:x@x", f"DTSTART:{stamp(first)}", f"DTEND:{stamp(first + H)}", f"RRULE:{rule}"],
        ),
    )
    started = time.monotonic()
    outcome = sync_subscription(sub)
    assert time.monotonic() - started < 5
    assert outcome.state == "failed" and expected in outcome.detail, outcome.detail
    sub.refresh_from_db()
    assert expected in sub.last_error
    assert holds(sub) == before
