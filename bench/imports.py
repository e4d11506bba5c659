"""The CSV import figure: an export of 10,000 rows, checked with --dry-run, then imported."""

from __future__ import annotations

import csv
import io
import re
import time
from contextlib import contextmanager
from datetime import date, timedelta

from bench.results import row
from bench.services import VAR, flush_broker

HEADER = [
    "source",
    "external_ref",
    "charter_date",
    "start_time",
    "duration_hours",
    "gross_revenue",
    "crew_cost",
    "captain_cost",
    "port_fee_percent",
    "guest_name",
    "guest_email",
    "guest_count",
    "location",
    "captain_id",
    "crew",
    "notes",
]
SLOTS = ("09:00", "14:00", "19:00")  # back-to-back 5-hour shifts: no overlap warnings


def export_rows(count: int) -> list[dict[str, str]]:
    """Three charters a day from 2034, each slot with its own captain and two deckhands.

    One row in 100 names a dock that does not exist (rejected), and the last 1% name earlier
    bookings again with another guest count (amendments at the end of an export, as when a
    marketplace appends changed bookings): the report has every kind of line.
    """
    amended = count - count // 100
    rows = []
    for i in range(count):
        slot = i % len(SLOTS)
        values = {
            "source": "boatsetter",
            "external_ref": f"BS-IMPORT-{i}",
            "charter_date": f"{date(2034, 1, 1) + timedelta(days=i // len(SLOTS))}",
            "start_time": SLOTS[slot],
            "duration_hours": "3",
            "gross_revenue": "840.75",
            "crew_cost": "250.00",
            "captain_cost": "150.00",
            "port_fee_percent": "18",
            "guest_name": f"Guest {i}",
            "guest_email": f"guest{i}@guest.example.com",
            "guest_count": str(1 + i % 12),
            "location": "Sheraton Hotel Dock",
            "captain_id": f"CAP_1{slot}0",
            "crew": f"CREW_1{slot}1:deckhand:5;CREW_1{slot}2:deckhand:5",
            "notes": "imported",
        }
        if i >= amended:
            values = {**rows[(i - amended) * 97 % amended], "guest_count": "12"}
        elif i % 100 == 42:
            values["location"] = "Nowhere"
        rows.append(values)
    return rows


@contextmanager
def counting_statements():
    """Count SQL statements without keeping them (a million would not fit in the log)."""
    from django.db import connection

    counted = [0]

    def count(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counted


def run_import(path: str, *args: str) -> tuple[float, float, list[str], int]:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    with counting_statements() as counted:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            call_command("import_bookings", path, *args, stdout=out, stderr=io.StringIO())
        except CommandError:
            pass  # the rejected rows: expected, and reported in the output
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return elapsed, cpu, out.getvalue().splitlines(), counted[0]


def bench_import(quick: bool) -> None:
    from crew.models import Role
    from tests.factories import make_member

    for slot in range(len(SLOTS)):
        for code, role in (
            (f"CAP_1{slot}0", Role.CAPTAIN),
            *((f"CREW_1{slot}{n}", "deckhand") for n in (1, 2)),
        ):
            make_member(code, f"Crew {code}", f"{code.lower()}@crew.example.com", [role])
    count = 1_000 if quick else 10_000
    path = VAR / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(export_rows(count))

    dry_s, dry_cpu, dry_lines, dry_statements = run_import(str(path), "--dry-run")
    real_s, real_cpu, real_lines, real_statements = run_import(str(path))
    flush_broker()  # no worker ran: drop the queued stages

    # The dry run reports exactly what the import then did (booking ids aside: none exist yet).
    def shape(lines: list[str]) -> list[str]:
        return [re.sub(r" \((booking \d+|new booking)\)", "", line) for line in lines[:-1]]

    same = shape(dry_lines) == shape(real_lines)
    n = f"{count:,}"
    row(
        f"CSV import of {n} rows",
        f"{real_s:.1f} s, CPU {real_cpu:.1f} s ({real_statements / count:.2f} statements a row)",
        "≤ 60 s",
        real_s <= 60,
    )
    row(
        f"CSV import of {n} rows, --dry-run",
        f"{dry_s:.1f} s, CPU {dry_cpu:.1f} s ({dry_statements / count:.2f} statements a row)",
        "≤ 10 s",
        dry_s <= 10,
    )
    row(
        "  dry-run report = import report, row by row",
        f"{'yes' if same else 'NO'}; {real_lines[-1]}",
        "yes",
        same,
    )
