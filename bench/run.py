"""`make bench`: every figure of the proof, measured side by side on this machine, as a table.

Needs the machine's PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379). Uses a database of
its own (`jada_bench`, dropped and created; `BENCH_DATABASE`), Redis database 14
(`BENCH_REDIS_URL`), a moto server for S3 and CloudFront, gunicorn and Celery workers as
subprocesses, and a load client in a second process. Everything stays on loopback, and every loop
is bounded in count and time.

    .venv/bin/python bench/run.py [--only NAME ...] [--quick]

Prints each figure beside its "before" (bench/before.json) and writes bench/RESULTS.md with the
machine and the date. The figures live in web.py (admin, portal, intake), workers.py (export,
pipeline, memory, burst) and imports.py (the CSV import).
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script: the project's root, not bench/, is where `bench.*` and the apps import from.
sys.path[0] = str(ROOT)

from bench import imports, web, workers  # noqa: E402
from bench.data import create_booking, seed  # noqa: E402
from bench.dispatch import bench_dispatch  # noqa: E402
from bench.fleet import bench_fleet  # noqa: E402
from bench.results import NOTES, header, row, write_results  # noqa: E402
from bench.services import (  # noqa: E402
    create_aws,
    environment,
    flush_broker,
    free_port,
    reachable,
    recreate_database,
    start_moto,
    worker,
)

FIGURES = (
    "admin",
    "export",
    "portal",
    "intake",
    "import",
    "pipeline",
    "memory",
    "burst",
    "dispatch",
    "fleet",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=FIGURES, default=list(FIGURES))
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    options = parser.parse_args()

    missing = [
        n for n, p in (("PostgreSQL", 5432), ("Redis", 6379)) if not reachable("127.0.0.1", p)
    ]
    if missing:
        print(f"bench needs {' and '.join(missing)} on 127.0.0.1 (see .ci/run to start them)")
        return 2

    moto_url, latency = start_moto()
    web_port = free_port()
    environment(moto_url, web_port)
    create_aws(moto_url)
    recreate_database()
    flush_broker()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # moto's server logs each request through werkzeug; the settings' LOGGING revived it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    seed()

    figures = {
        "admin": lambda: web.bench_admin(options.quick),
        "export": lambda: workers.bench_export(options.quick, moto_url, latency),
        "portal": lambda: web.bench_portal(options.quick, web_port),
        "intake": lambda: web.bench_intake(options.quick, web_port),
        "import": lambda: imports.bench_import(options.quick),
        "pipeline": lambda: workers.bench_pipeline(options.quick, latency),
        "memory": lambda: workers.bench_memory(options.quick),
        "burst": lambda: workers.bench_burst(options.quick, web_port),
        "dispatch": lambda: bench_dispatch(
            options.quick, row=row, worker=worker, create_booking=create_booking
        ),
        "fleet": lambda: bench_fleet(options.quick, row),
    }
    print(f"JADA benchmarks — {platform.node()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    header()
    for name in options.only:
        try:
            figures[name]()
        except Exception as e:
            row(f"{name}", f"not measured: {type(e).__name__}", "", None)
            NOTES.append(f"{name}: {type(e).__name__}: {e}".splitlines()[0][:300])
            traceback.print_exc(limit=3, file=sys.stderr)
    write_results(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
