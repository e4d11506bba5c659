"""`make bench` figure: from a decline to the last offer email, with 200 crew on the roster.

Run from bench/run.py (`--only dispatch`), which passes its own helpers: `row` to report,
`worker` to start a Celery worker, `create_booking` to save a charter with its crew.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def bench_dispatch(quick: bool, *, row, worker, create_booking) -> None:
    """A deckhand declines; every other free deckhand (200) gets the offer by email."""
    from bench.data import settle_earlier_runs
    from bench.services import flush_broker
    from crew.models import Assignment, CrewMember, Offer, Role
    from crew.services import assignment_respond
    from tests.factories import make_member

    # Only this figure's messages in the queue: nothing an earlier figure left behind.
    flush_broker()
    settle_earlier_runs()
    roster = 50 if quick else 200
    for n in range(roster):
        code = f"DECK_{n:04}"
        if not CrewMember.objects.filter(code=code).exists():
            make_member(code, f"Spare Hand{n}", f"deck{n:04}@crew.example.com", [Role.DECKHAND])
    # A day no other figure books (the import's charters run from 2034 to 2043).
    booking_id = create_booking(start=datetime(2059, 6, 1, 17, tzinfo=UTC))
    decliner = Assignment.objects.get(event__booking_id=booking_id, member__code="CREW_002")
    offers = Offer.objects.filter(slot__event__booking_id=booking_id)
    with worker("dispatch", "--pool=threads", "--concurrency=4"):
        started = time.perf_counter()
        # Outside any transaction: the decline commits and its tasks are queued at once.
        assignment_respond(assignment=decliner, accepted=False, reason="bench")
        queued = time.perf_counter() - started
        offered = offers.count()
        deadline = time.monotonic() + 300
        while offers.filter(emailed_at__isnull=False).count() < offered:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{offers.filter(emailed_at__isnull=False).count()} sent")
            time.sleep(0.02)
        sent = time.perf_counter() - started
    assert offered >= roster, (offered, roster)
    row(
        f"decline → last of {offered} offer emails handed to the mail backend",
        f"{sent * 1000:.0f} ms (committed, queued: {queued * 1000:.0f} ms)",
        "",
        None,
    )
