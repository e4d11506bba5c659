"""Figures of the workers: guest page export, parallel stages, memory, the 1,000-booking burst."""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections import Counter
from datetime import UTC, datetime

from bench.data import api_body, bulk_bookings, create_booking, settle_earlier_runs, wait_done
from bench.results import row
from bench.services import (
    BIN,
    REDIS_URL,
    TOKEN,
    VAR,
    Latency,
    Process,
    flush_broker,
    gunicorn,
    worker,
)


def bench_export(quick: bool, moto_url: str, latency: Latency) -> None:
    import boto3

    from bookings.selectors import bookings_operational
    from guests.models import GuestPage
    from guests.services import guest_page_ensure, guest_pages_publish_bulk

    count = 200 if quick else 1_000
    # After the admin figure's bookings (2032 to 2041, on the same bench boats): no overlap.
    ids = bulk_bookings(count, per_day=2, first_day=datetime(2050, 1, 1, 16, tzinfo=UTC))
    for booking in bookings_operational(ids).values():
        guest_page_ensure(booking=booking)
    assert GuestPage.objects.filter(booking_id__in=ids).count() == count

    latency.reset()
    started = time.perf_counter()
    result = guest_pages_publish_bulk(booking_ids=ids)
    export_s = time.perf_counter() - started
    puts = latency.counts[("s3", "PUT")]
    invalidations = latency.counts[("cloudfront", "POST")]
    assert result.published == count, result

    body = (VAR / "sample.html").write_bytes(b"x" * 6_000) and (VAR / "sample.html").read_bytes()
    sample = GuestPage.objects.filter(booking_id__in=ids).first()
    with contextlib.suppress(Exception):
        from guests.storage import page_read

        body = page_read(sample.object_name)
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    started = time.perf_counter()
    for i in range(count):
        s3.put_object(
            Bucket="bench-guest-pages",
            Key=f"raw-{i}.html",
            Body=body,
            ContentType="text/html; charset=utf-8",
            CacheControl="public, max-age=60",
        )
    raw_s = time.perf_counter() - started
    ratio = (count / export_s) / (count / raw_s)
    row(
        f"guest export pages/s ÷ raw put_object/s ({count} pages)",
        f"{count / export_s:.0f} ÷ {count / raw_s:.0f} = {ratio:.2f}",
        "≥ 0.7",
        ratio >= 0.7,
    )
    row(
        f"  uploads / invalidation calls for {count} changed pages",
        f"{puts} / {invalidations}",
        f"{count} / 1",
        puts == count and invalidations == 1,
    )

    latency.reset()
    again = guest_pages_publish_bulk(booking_ids=ids)
    requests_made = sum(latency.counts.values())
    row(
        f"requests when re-publishing {count} unchanged pages",
        f"{requests_made} (unchanged: {again.unchanged})",
        "0",
        requests_made == 0,
    )


def bench_pipeline(quick: bool, latency: Latency) -> None:
    """Stages on a worker pool vs one after another (solo pool), with remote-like latency.

    The figure with the target is a batch: bookings saved together (as an import or a busy
    morning does), timed from their commit until every stage of every one has finished, so the
    pool runs stages of one booking and of different bookings side by side. The time per lone
    booking is printed beside it: there the chord's critical path (the guest page's upload,
    invalidation and email, then the summary) bounds what parallel stages can save.
    """
    from django.db import transaction

    batch = 5 if quick else 10
    count = 4 if quick else 10
    s3_ms, mail_ms = 60, 60
    latency.delay = s3_ms / 1000
    lone, batches = {}, {}
    try:
        for mode, args in (
            ("parallel", ["--pool=threads", "--concurrency=4"]),
            ("sequential", ["--pool=solo"]),
        ):
            flush_broker()
            with worker(f"pipeline-{mode}", *args, env={"BENCH_EMAIL_LATENCY_MS": str(mail_ms)}):
                wait_done([create_booking()], timeout=120)  # warm-up
                times = []
                for _ in range(count):
                    started = time.perf_counter()
                    booking_id = create_booking()
                    wait_done([booking_id], timeout=120)
                    times.append(time.perf_counter() - started)
                lone[mode] = statistics.median(times)
                # One transaction: every run is queued on its commit, at the same moment.
                with transaction.atomic():
                    ids = [create_booking() for _ in range(batch)]
                    started = time.perf_counter()
                wait_done(ids, timeout=300)
                batches[mode] = time.perf_counter() - started
    finally:
        latency.delay = 0
    ratio = batches["parallel"] / batches["sequential"]
    row(
        f"pipeline wall, parallel ÷ sequential ({batch} bookings, S3 {s3_ms}, mail {mail_ms} ms)",
        f"{batches['parallel'] * 1000:.0f} ÷ {batches['sequential'] * 1000:.0f} ms = {ratio:.2f}",
        "≤ 0.5",
        ratio <= 0.5,
    )
    ratio = lone["parallel"] / lone["sequential"]
    row(
        "  one booking alone, parallel ÷ sequential (median)",
        f"{lone['parallel'] * 1000:.0f} ÷ {lone['sequential'] * 1000:.0f} ms = {ratio:.2f}",
        "",
        None,
    )


def bench_memory(quick: bool) -> None:
    flush_broker()
    total = 200 if quick else 1_000
    with worker("memory", "--pool=threads", "--concurrency=4") as proc:
        first = [create_booking() for _ in range(10)]
        wait_done(first, timeout=120)
        rss_10 = proc.rss_kib()
        rest = [create_booking() for _ in range(total - 10)]
        wait_done(rest, timeout=600)
        rss_all = proc.rss_kib()
    ratio = rss_all / rss_10
    row(
        f"worker RSS after {total:,} ÷ after 10 bookings",
        f"{rss_all / 1024:.0f} ÷ {rss_10 / 1024:.0f} MiB = {ratio:.2f}",
        "≤ 1.2",
        ratio <= 1.2,
    )


def bench_burst(quick: bool, port: int) -> None:
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    from bookings.models import Booking

    flush_broker()
    settle_earlier_runs()  # beat runs here: its sweeper must find only the burst's
    total = 200 if quick else 1_000

    def post(i: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(
            "POST",
            "/api/bookings",
            body=json.dumps(api_body(f"BURST-{i}", start_day=i)),
            headers={"X-Dashboard-Token": TOKEN, "Content-Type": "application/json"},
        )
        status = conn.getresponse().status
        conn.close()
        return status

    import redis

    from jada.models import StageRun, StageState

    beat_schedule = VAR / "celerybeat-schedule"
    with (
        gunicorn(port),
        worker("burst-a", "--pool=threads", "--concurrency=4"),
        worker("burst-b", "--pool=threads", "--concurrency=4"),
    ):
        # Beat runs as in production (the Procfile): its sweeper requeues what never started.
        beat = Process(
            "beat", [str(BIN / "celery"), "-A", "jada", "beat", "-s", str(beat_schedule)]
        )
        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                statuses = Counter(pool.map(post, range(total)))
            posted = time.perf_counter() - started
            assert statuses == {201: total}, statuses
            ids = list(
                Booking.objects.filter(external_ref__startswith="BURST-").values_list(
                    "pk", flat=True
                )
            )
            # Stages still pending once the queue has been empty for 10 s never reached a worker.
            stages = StageRun.objects.filter(run__booking_id__in=ids)
            open_states = [StageState.PENDING, StageState.RUNNING]
            stranded, quiet_since = None, None
            with redis.Redis.from_url(REDIS_URL) as broker:
                deadline = time.monotonic() + 600
                while stages.filter(state__in=open_states).exists():
                    assert time.monotonic() < deadline, "burst not done in 600 s"
                    if stranded is None and broker.llen("celery") == 0:
                        quiet_since = quiet_since or time.monotonic()
                        if time.monotonic() - quiet_since > 10:
                            stranded = stages.filter(state=StageState.PENDING).count()
                    else:
                        quiet_since = None
                    time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            beat.stop()
    row(
        f"burst of {total:,} bookings via the API, 2 workers: all stages done",
        f"{elapsed:.1f} s (posted in {posted:.1f} s)",
        "≤ 90 s",
        elapsed <= 90,
    )
    failed = stages.filter(state=StageState.FAILED).count()
    repeated = stages.filter(attempts__gt=1).count()
    row(
        "  burst stages failed / run more than once",
        f"{failed} / {repeated} of {stages.count()}",
        "0 / 0",
        failed == 0 and repeated == 0,
    )
    if stranded:
        row(
            "  stages whose message never reached a worker (sweeper requeued)",
            f"{stranded} of {stages.count()}",
            "0",
            False,
        )
