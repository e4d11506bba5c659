"""Benchmark settings: the application's own, plus bare views to compare against (never shipped)."""

from __future__ import annotations

import os

from jada.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The benchmark speaks plain HTTP on loopback; the production flags would drop its cookies.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Email goes to a backend that waits like SES would and keeps nothing (no memory growth).
EMAIL_BACKEND = "bench.mail.LatencyBackend"
BENCH_EMAIL_LATENCY = float(os.environ.get("BENCH_EMAIL_LATENCY_MS", "0")) / 1000
