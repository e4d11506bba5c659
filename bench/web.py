"""Figures of the web processes: the admin at size, the crew portal and the intake API."""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime

from bench.data import api_body, bulk_bookings, create_booking
from bench.results import row
from bench.services import TOKEN, flush_broker, gunicorn, load


def bench_admin(quick: bool) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="alice"))
    month = "2032-01"
    pages = {
        "changelist": "/admin/bookings/booking/",
        "calendar": f"/admin/bookings/booking/calendar/?month={month}",
    }

    def measure(url: str) -> tuple[int, float]:
        client.get(url)  # warm
        times = []
        for _ in range(7):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        return len(ctx.captured_queries), statistics.median(times)

    bulk_bookings(100)
    small = {name: measure(url) for name, url in pages.items()}
    bulk_bookings(1_000 if quick else 9_900, first_day=datetime(2032, 2, 5, 16, tzinfo=UTC))
    large = {name: measure(url) for name, url in pages.items()}
    n = "1,100" if quick else "10,000"
    for name in pages:
        (q1, t1), (q2, t2) = small[name], large[name]
        row(f"admin {name}: queries at 100 vs {n} bookings", f"{q1} vs {q2}", "equal", q1 == q2)
        row(
            f"admin {name}: time at {n} ÷ at 100",
            f"{t2 * 1000:.1f} ÷ {t1 * 1000:.1f} ms = {t2 / t1:.2f}",
            "≤ 2",
            t2 / t1 <= 2,
        )


def bench_portal(quick: bool, port: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crew.models import CrewMember

    # CREW_003 works 1 charter, CREW_004 works 50: the portal must not grow with them.
    create_booking(crew=("CAP_001", "CREW_003"))
    for _ in range(50):
        create_booking(crew=("CAP_001", "CREW_004"))

    def queries(code: str) -> tuple[int, Client]:
        client = Client()
        client.force_login(CrewMember.objects.get(code=code).user)
        response = client.get("/crew/")
        assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as ctx:
            client.get("/crew/")
        return len(ctx.captured_queries), client

    q1, one = queries("CREW_003")
    q50, fifty = queries("CREW_004")
    row(
        "portal queries at 1 vs 50 assignments",
        f"{q1} vs {q50}",
        "equal, ≤ 4",
        q1 == q50 and q50 <= 4,
    )

    duration = 3 if quick else 6
    with gunicorn(port):
        base = f"http://127.0.0.1:{port}"
        load(f"{base}/bench/bare", connections=4, duration=1)  # warm both workers
        for count, client, target in ((1, one, 0.25), (50, fifty, 0.15)):
            # The bare view just before: the machine's other load moves both alike.
            bare = load(f"{base}/bench/bare", connections=32, duration=duration)
            cookie = f"Cookie: sessionid={client.cookies['sessionid'].value}"
            portal = load(f"{base}/crew/", connections=32, duration=duration, headers=[cookie])
            assert portal["statuses"].get("200", 0) == portal["requests"], portal
            ratio = portal["rps"] / bare["rps"]
            row(
                f"portal req/s ÷ bare view req/s ({count} assignment(s), 32 conns)",
                f"{portal['rps']:.0f} ÷ {bare['rps']:.0f} = {ratio:.2f}",
                f"≥ {target}",
                ratio >= target,
            )
            row(
                f"  portal p95 ({count} assignment(s), 32 conns)",
                f"{portal['p95_ms']:.1f} ms (bare {bare['p95_ms']:.1f})",
                "≤ 25 ms",
                portal["p95_ms"] <= 25,
            )


def bench_intake(quick: bool, port: int) -> None:
    # Each request a new charter at a time of its own: one boat, one charter at a time.
    payload = api_body("BENCH-LOAD-{n}")
    del payload["charter_date"], payload["start_time"]
    body = json.dumps({**payload, "starts_at": "{starts_at}"})
    headers = [f"X-Dashboard-Token: {TOKEN}", "Content-Type: application/json"]
    duration = 3 if quick else 6
    with gunicorn(port):
        base = f"http://127.0.0.1:{port}"
        probe = load(
            f"{base}/api/bookings",
            connections=1,
            duration=0.5,
            method="POST",
            body=body,
            headers=headers,
            first_start="2040-01-01T09:00:00-08:00",
        )
        assert probe["statuses"].get("201"), f"intake did not create: {probe}"
        bare = load(
            f"{base}/bench/bare-json",
            connections=16,
            duration=duration,
            method="POST",
            body=body,
            headers=headers,
        )
        intake = load(
            f"{base}/api/bookings",
            connections=16,
            duration=duration,
            method="POST",
            body=body,
            headers=headers,
            first_start="2045-01-01T09:00:00-08:00",
        )
    flush_broker()  # no worker ran: drop the queued stages
    assert intake["statuses"].get("201", 0) == intake["requests"], intake
    ratio = intake["rps"] / bare["rps"]
    row(
        "intake API req/s ÷ bare JSON POST req/s (16 conns)",
        f"{intake['rps']:.0f} ÷ {bare['rps']:.0f} = {ratio:.2f}",
        "≥ 0.08",
        ratio >= 0.08,
    )
    row(
        "  intake p95 at 16 connections",
        f"{intake['p95_ms']:.1f} ms (bare {bare['p95_ms']:.1f})",
        "≤ 50 ms",
        intake["p95_ms"] <= 50,
    )
