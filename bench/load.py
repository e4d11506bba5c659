"""A bounded HTTP load client: N keep-alive connections for D seconds, from its own processes.

Prints one JSON line: requests, errors, req/s, p50 and p95 latency in ms, status counts.
`{n}` in the body is replaced by a number unique to each request (new bookings per request), and
`{starts_at}` by a start time unique to the run, four hours after the previous request's, from
`--first-start`: one boat takes one charter at a time, so new bookings need times of their own.
Loopback only: it refuses any other host.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

MAX_REQUESTS_PER_CONNECTION = 100_000
SLOT = timedelta(hours=4)  # a bench charter's 3 hours and the boat's turnaround


def next_start(args) -> str:
    """The next free start of this run: a counter shared by every process and thread."""
    with args.slots.get_lock():
        slot = args.slots.value
        args.slots.value += 1
    return (datetime.fromisoformat(args.first_start) + slot * SLOT).isoformat()


def connection_loop(args, proc: int, thread: int, deadline: float, out: list) -> None:
    url = urlsplit(args.url)
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    latencies, statuses, errors = [], {}, 0
    n = 0
    while time.perf_counter() < deadline and n < MAX_REQUESTS_PER_CONNECTION:
        n += 1
        body = None
        if args.body:
            body = args.body.replace("{n}", f"{args.nonce}-{proc}-{thread}-{n}")
            if "{starts_at}" in body:
                body = body.replace("{starts_at}", next_start(args))
            body = body.encode()
        started = time.perf_counter()
        try:
            conn.request(args.method, url.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.getheader("connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            continue
        latencies.append(time.perf_counter() - started)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    conn.close()
    out.append((latencies, statuses, errors))


def process_main(args, proc: int, threads: int, start_at: float, queue) -> None:
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + args.duration
    out: list = []
    workers = [
        threading.Thread(target=connection_loop, args=(args, proc, t, deadline, out))
        for t in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--first-start", default="2040-01-01T09:00:00-08:00")
    args = parser.parse_args()
    args.slots = multiprocessing.Value("q", 0)
    args.nonce = f"{os.getpid()}{time.time_ns() % 10**6}"
    host = urlsplit(args.url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("loopback only")
    args.duration = min(args.duration, 60.0)

    queue = multiprocessing.Queue()
    start_at = time.time() + 0.3
    per_proc = [args.connections // args.processes] * args.processes
    for i in range(args.connections % args.processes):
        per_proc[i] += 1
    procs = [
        multiprocessing.Process(target=process_main, args=(args, i, n, start_at, queue))
        for i, n in enumerate(per_proc)
        if n
    ]
    for p in procs:
        p.start()
    results = [item for _ in procs for item in queue.get()]
    for p in procs:
        p.join()
    latencies = sorted(lat for lats, _, _ in results for lat in lats)
    statuses: dict[str, int] = {}
    for _, st, _ in results:
        for code, count in st.items():
            statuses[str(code)] = statuses.get(str(code), 0) + count
    errors = sum(e for _, _, e in results)

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
        )

    print(
        json.dumps(
            {
                "requests": len(latencies),
                "errors": errors,
                "rps": len(latencies) / args.duration,
                "p50_ms": pct(0.50),
                "p95_ms": pct(0.95),
                "statuses": statuses,
            }
        )
    )


if __name__ == "__main__":
    main()
