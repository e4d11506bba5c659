"""Fleet figures: a vessel's availability feed at 2,000 bookings and holds, and sync_calendars
over 20 marketplace calendars of 500 events each, served by a local HTTP server."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SUBSCRIPTIONS = 20
EVENTS = 500


def _calendar(feed: int, shift_hours: int = 0) -> bytes:
    start = datetime(2034, 1, 1, 16, tzinfo=UTC) + timedelta(hours=shift_hours)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Bench//EN"]
    for n in range(EVENTS):
        begin = start + timedelta(days=n, minutes=feed)
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{feed}-{n}@marketplace",
            "DTSTAMP:20340101T000000Z",
            f"DTSTART:{begin:%Y%m%dT%H%M%SZ}",
            f"DTEND:{begin + timedelta(hours=3):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:Reserved {n}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _server(bodies: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies[self.path]
            etag = f'"{hash(body)}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def bench_fleet(quick: bool, row: Callable[..., None]) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bookings.calendar_sync import sync_all
    from bookings.models import Booking, CalendarSubscription, Dock, Hold, Vessel

    dock = Dock.objects.get()
    vessel = Vessel.objects.create(
        code="FEED", name="Feed", guest_name="Feed", capacity=12, home_dock=dock
    )
    subscription = CalendarSubscription.objects.create(
        vessel=vessel, name="Bench holds", url="http://127.0.0.1:9/none.ics", source="getmyboat"
    )
    half = 100 if quick else 1_000
    first = datetime(2033, 1, 1, 16, tzinfo=UTC)
    Booking.objects.bulk_create(
        Booking(
            source="direct",
            external_ref=f"FEED-{i}",
            guest_name="Guest",
            guest_count=2,
            starts_at=first + timedelta(hours=8 * i),
            duration_minutes=180,
            dock=dock,
            vessel=vessel,
            blocked_until=first + timedelta(hours=8 * i, minutes=210),
        )
        for i in range(half)
    )
    Hold.objects.bulk_create(
        Hold(
            subscription=subscription,
            vessel=vessel,
            source="getmyboat",
            uid=f"hold-{i}",
            starts_at=first + timedelta(hours=8 * i + 4),
            ends_at=first + timedelta(hours=8 * i + 7),
        )
        for i in range(half)
    )
    from django.core.cache import cache

    client = Client()
    url = reverse("vessel-feed", args=[vessel.feed_token])

    def measure(*, built: bool) -> tuple[float, int, bytes]:
        times = []
        for _ in range(5):
            if built:
                cache.clear()  # as after a change: the file is built anew
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200
        return statistics.median(times), len(ctx.captured_queries), response.content

    client.get(url)  # warm
    for built, label in ((True, "built after a change"), (False, "polled again, unchanged")):
        took, queries, content = measure(built=built)
        events = content.count(b"BEGIN:VEVENT")
        row(
            f"vessel feed: {events:,} bookings and holds, {label}",
            f"{took * 1000:.0f} ms, {queries} queries",
            "< 1 s, 3 queries",
            took < 1 and queries == 3,
        )

    feeds = 4 if quick else SUBSCRIPTIONS
    bodies = {f"/feed-{n}.ics": _calendar(n) for n in range(feeds)}
    server = _server(bodies)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for n in range(feeds):
            boat = Vessel.objects.create(
                code=f"SYNC_{n}", name=f"Sync {n}", guest_name="Sync", capacity=12
            )
            CalendarSubscription.objects.create(
                vessel=boat, name=f"Market {n}", url=f"{base}/feed-{n}.ics", source="sailo"
            )
        CalendarSubscription.objects.filter(pk=subscription.pk).update(active=False)

        def timed() -> float:
            started = time.perf_counter()
            outcomes = sync_all()
            assert all(o.state != "failed" for o in outcomes), [o.detail for o in outcomes]
            return time.perf_counter() - started

        first_sync = timed()
        unchanged = timed()  # every feed answers 304
        for n in range(feeds):
            bodies[f"/feed-{n}.ics"] = _calendar(n, shift_hours=1)  # every event moved
        moved = timed()
        label = f"sync_calendars: {feeds} calendars x {EVENTS} events"
        row(f"{label}, first", f"{first_sync:.1f} s", "< 60 s", first_sync < 60)
        row(f"{label}, unchanged (304)", f"{unchanged * 1000:.0f} ms", "< 2 s", unchanged < 2)
        row(f"{label}, every event moved", f"{moved:.1f} s", "< 60 s", moved < 60)
    finally:
        server.shutdown()
        server.server_close()
