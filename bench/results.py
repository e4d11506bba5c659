"""The table: each figure measured now, beside the one measured before the speed work."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.services import REDIS_URL, ROOT

# The figures of 2026-11-30 04:19 UTC (the "before" of issue 13), by figure name.
BEFORE = json.loads((ROOT / "bench" / "before.json").read_text())


@dataclass
class Row:
    figure: str
    value: str
    target: str
    ok: bool | None  # None: informational or not measured

    @property
    def before(self) -> str:
        return BEFORE["figures"].get(self.figure.strip(), "")


ROWS: list[Row] = []
NOTES: list[str] = []


def row(figure: str, value: str, target: str = "", ok: bool | None = None) -> None:
    ROWS.append(Row(figure, value, target, ok))
    mark = {True: "ok", False: "MISSED", None: ""}[ok]
    before = ROWS[-1].before
    print(f"  {figure:<58} {before:<26} {value:<28} {target:<16} {mark}", flush=True)


def header() -> None:
    print(f"  {'figure':<58} {'before':<26} {'measured':<28} {'target':<16}")


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, StopIteration):
        kib = int(
            next(
                line
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            ).split()[1]
        )
        mem = f", {kib / 1024 / 1024:.0f} GiB"
    return (
        f"{platform.node()}: {os.cpu_count()} x {cpu}{mem}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}"
    )


def write_results(options: argparse.Namespace) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    import redis

    redis_version = redis.Redis.from_url(REDIS_URL).info()["redis_version"]
    lines = [
        "# Benchmark results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Services: PostgreSQL {pg_version}, Redis {redis_version}, moto (S3, CloudFront)",
        f"- Command: `make bench`{' (--quick)' if options.quick else ''}",
        "",
        f"| figure | before ({BEFORE['date']}) | measured | target | |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in ROWS:
        mark = {True: "ok", False: "**missed**", None: ""}[r.ok]
        lines.append(f"| {r.figure.strip()} | {r.before} | {r.value} | {r.target} | {mark} |")
    if NOTES:
        lines += ["", "Not measured:", "", *(f"- {n}" for n in NOTES)]
    lines += [
        "",
        (ROOT / "bench" / "NOTES.md").read_text() if (ROOT / "bench" / "NOTES.md").exists() else "",
    ]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines).rstrip() + "\n")
    print(f"\nwrote {ROOT / 'bench' / 'RESULTS.md'}")
