"""Settings for JADA: every knob from the environment, with defaults that need no service."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from jada import env

BASE_DIR = Path(__file__).resolve().parent.parent

VAR_DIR = env.read("JADA_VAR_DIR", Path, BASE_DIR / "var")

# Off unless asked for (`make run` asks): a forgotten variable must not serve debug pages.
DEBUG = env.read("DEBUG", env.boolean, False)
# Development only: a fixed key keeps local magic links valid across restarts. It is public,
# so without DEBUG there is no default and the app refuses to start.
DEVELOPMENT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env.read("SECRET_KEY", str, DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY: required when DEBUG is off (or SECRET_KEY_FILE)")
if not DEBUG and SECRET_KEY.startswith(("change-me", "insecure-")):
    # The README's placeholder and the development key are public: never sign links with them.
    raise ImproperlyConfigured("SECRET_KEY: replace the placeholder with a random secret")

# Proxies in front of the web process that append to X-Forwarded-For (crew.limits reads it):
# 0 trusts no header and rate limits by the socket's address.
TRUSTED_PROXY_COUNT = env.read("TRUSTED_PROXY_COUNT", env.count, 0)
ALLOWED_HOSTS = env.read("ALLOWED_HOSTS", env.words, ["127.0.0.1", "localhost", "testserver"])
SITE_URL = env.read("SITE_URL", env.http_url, "http://127.0.0.1:8000")
GUEST_SITE_URL = env.read("GUEST_SITE_URL", env.http_url, SITE_URL)
CSRF_TRUSTED_ORIGINS = [SITE_URL]

# Django stores UTC; TIME_ZONE is the operator's zone used for display and form input
# (bookings.formatting reads it as Django's current time zone).
TIME_ZONE = env.read("TIME_ZONE", env.zone, "America/Los_Angeles")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-us"
# Every date and time the admin shows carries the operator's zone (jada/formats/en).
FORMAT_MODULE_PATH = ["jada.formats"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "jada",
    "bookings",
    "crew",
    "guests",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jada.csp.ContentSecurityPolicyMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "sesame.backends.ModelBackend",
]

# Staff passwords (crew have none: they sign in by link). The admin's sign-in is rate limited
# too (jada/signin.py).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ROOT_URLCONF = "jada.urls"
WSGI_APPLICATION = "jada.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jada.context_processors.operator",
            ],
        },
    },
]

DATABASES = {
    "default": env.read(
        "DATABASE_URL",
        env.database_url,
        {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"},
    )
}
DATABASES["default"].setdefault("CONN_MAX_AGE", 0 if DEBUG else 60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Celery's eager mode and the dev server share one file; wait for a lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {"timeout": 20})
    # The embedded default must work on a fresh checkout, where var/ does not exist yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A cache shared by every process (Redis, CACHE_URL): sessions are read from it and written
# through to the database, so a logout or a changed password ends them in every process; the crew
# portal keeps its rendered cards there. Without one: local memory, sessions in the database only.
CACHE_URL = env.read("CACHE_URL", env.redis_url, "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "jada.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# Guest pages: S3 (django-storages) when a bucket is named, the local file system otherwise.
GUEST_PAGES_BUCKET = env.read("GUEST_PAGES_BUCKET", str, "")
AWS_S3_ENDPOINT_URL = env.read("AWS_S3_ENDPOINT_URL", env.http_url, None)
AWS_S3_REGION_NAME = env.read("AWS_S3_REGION_NAME", str, "us-east-1")
CLOUDFRONT_DISTRIBUTION_ID = env.read("CLOUDFRONT_DISTRIBUTION_ID", str, "")
# A local S3-compatible server (moto) usually serves CloudFront's API too.
AWS_CLOUDFRONT_ENDPOINT_URL = env.read(
    "AWS_CLOUDFRONT_ENDPOINT_URL", env.http_url, AWS_S3_ENDPOINT_URL
)
GUEST_PAGES_CACHE_CONTROL = "public, max-age=60, must-revalidate"


def guest_pages_storage(
    *,
    bucket: str,
    endpoint_url: str | None = None,
    region_name: str = "us-east-1",
    cache_control: str = GUEST_PAGES_CACHE_CONTROL,
    location: Path = VAR_DIR / "guest-pages",
) -> dict:
    """STORAGES["guest_pages"] built from values, so tests switch backends exactly as here."""
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": location,
                "file_permissions_mode": 0o644,
                "allow_overwrite": True,
            },
        }
    return {
        # Adds the charset to `Content-Type`, which plain S3Storage leaves out.
        "BACKEND": "guests.storage.GuestPageStorage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region_name,
            # New buckets have ACLs disabled; sending one makes the upload fail.
            "default_acl": None,
            "file_overwrite": True,
            "querystring_auth": False,
            "addressing_style": "path" if endpoint_url else None,
            "object_parameters": {"CacheControl": cache_control},
        },
    }


_guest_storage = guest_pages_storage(
    bucket=GUEST_PAGES_BUCKET, endpoint_url=AWS_S3_ENDPOINT_URL, region_name=AWS_S3_REGION_NAME
)
if GUEST_PAGES_BUCKET:
    # boto3 >= 1.36 sends checksums S3-compatible servers may reject (MissingContentLength).
    os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
    os.environ.setdefault("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "guest_pages": _guest_storage,
}

# Celery: eager in-process by default; a broker URL turns on real workers.
CELERY_BROKER_URL = env.read("CELERY_BROKER_URL", env.service_url, "")
CELERY_RESULT_BACKEND = env.read(
    "CELERY_RESULT_BACKEND", env.service_url, CELERY_BROKER_URL or "cache+memory://"
)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A down broker must not hang the request that saved a booking: fail fast, the sweeper resumes.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "socket_connect_timeout": 0.5,
}
# Nor the result backend (the chord's counter), which retries a dead Redis 20 times by default.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 0.5
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "resume-pipelines": {"task": "jada.tasks.resume_pipelines", "schedule": 60.0},
    "crew-reminders": {"task": "crew.tasks.send_reminders", "schedule": 300.0},
    "crew-alerts": {"task": "crew.tasks.send_alerts", "schedule": 300.0},
    "sync-calendars": {"task": "bookings.tasks.sync_calendars", "schedule": 15 * 60.0},
    # A page published before its charter stops saying "confirmed" within the hour after it.
    "guest-pages-ended": {"task": "guests.tasks.republish_ended_pages", "schedule": 3600.0},
}
PIPELINE_STALE_AFTER_SECONDS = env.read("PIPELINE_STALE_AFTER_SECONDS", env.integer, 120)
# Retry policy of the outside-world stages (jada/pipeline/retry.py explains how they combine).
PIPELINE_TASK_RETRIES = env.read("PIPELINE_TASK_RETRIES", env.integer, 5)
PIPELINE_RETRY_BASE_SECONDS = env.read("PIPELINE_RETRY_BASE_SECONDS", env.integer, 10)
PIPELINE_RETRY_MAX_SECONDS = env.read("PIPELINE_RETRY_MAX_SECONDS", env.integer, 300)
PIPELINE_SWEEP_BACKOFF_SECONDS = env.read("PIPELINE_SWEEP_BACKOFF_SECONDS", env.integer, 15 * 60)
PIPELINE_SWEEP_BACKOFF_MAX_SECONDS = env.read(
    "PIPELINE_SWEEP_BACKOFF_MAX_SECONDS", env.integer, 6 * 3600
)
PIPELINE_MAX_ATTEMPTS = env.read("PIPELINE_MAX_ATTEMPTS", env.integer, 30)
PIPELINE_STUCK_AFTER_SECONDS = env.read("PIPELINE_STUCK_AFTER_SECONDS", env.integer, 5 * 60)
# A task its worker took and lost (the process killed) is delivered again after this long, not
# Redis' default hour; longer than any retry's countdown, which waits unacknowledged too.
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = PIPELINE_RETRY_MAX_SECONDS + 5 * 60

# Email: console by default; EMAIL_URL or the standard EMAIL_* variables for SMTP/SES.
# With EMAIL_URL set, its parts win over the separate variables.
_smtp_url = env.read("EMAIL_URL", env.email_url, {})
# By parts, SMTP is on once EMAIL_HOST is set.
_parts_backend = "smtp" if env.given("EMAIL_HOST") else "console"
EMAIL_BACKEND = (
    _smtp_url["EMAIL_BACKEND"]
    if _smtp_url
    else f"django.core.mail.backends.{_parts_backend}.EmailBackend"
)
# filemail:// (the browser tests' worker processes write their emails there).
EMAIL_FILE_PATH = _smtp_url["EMAIL_FILE_PATH"] if _smtp_url else ""
EMAIL_HOST = _smtp_url["EMAIL_HOST"] if _smtp_url else env.read("EMAIL_HOST", str, "localhost")
EMAIL_PORT = _smtp_url["EMAIL_PORT"] if _smtp_url else env.read("EMAIL_PORT", env.integer, 25)
EMAIL_HOST_USER = (
    _smtp_url["EMAIL_HOST_USER"] if _smtp_url else env.read("EMAIL_HOST_USER", str, "")
)
EMAIL_HOST_PASSWORD = (
    _smtp_url["EMAIL_HOST_PASSWORD"] if _smtp_url else env.read("EMAIL_HOST_PASSWORD", str, "")
)
EMAIL_USE_TLS = (
    _smtp_url["EMAIL_USE_TLS"] if _smtp_url else env.read("EMAIL_USE_TLS", env.boolean, False)
)
EMAIL_USE_SSL = (
    _smtp_url["EMAIL_USE_SSL"] if _smtp_url else env.read("EMAIL_USE_SSL", env.boolean, False)
)
EMAIL_TIMEOUT = env.read("EMAIL_TIMEOUT", env.integer, 20)
DEFAULT_FROM_EMAIL = env.read("DEFAULT_FROM_EMAIL", str, "JADA Charters <charters@sailjada.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
OPERATOR_EMAILS = env.read("OPERATOR_EMAILS", env.words, ["operator@sailjada.com"])
SUMMARY_WEBHOOK_URL = env.read("SUMMARY_WEBHOOK_URL", env.http_url, "")
SUMMARY_WEBHOOK_SECRET = env.read("SUMMARY_WEBHOOK_SECRET", str, "")
if SUMMARY_WEBHOOK_URL:
    # Caught at start-up rather than as a summary stage failing on every run.
    from jada.lib.webhook import webhook_refusal

    if _refusal := webhook_refusal(SUMMARY_WEBHOOK_URL, SUMMARY_WEBHOOK_SECRET):
        raise ImproperlyConfigured(_refusal)
GUEST_EMAILS_ENABLED = env.read("GUEST_EMAILS_ENABLED", env.boolean, True)
# Marketplaces whose terms forbid contacting their guests directly.
GUEST_EMAILS_BLOCKED_SOURCES = env.read("GUEST_EMAILS_BLOCKED_SOURCES", env.words, [])

# Branding of the operator-facing and guest-facing domains.
OPERATOR_NAME = env.read("OPERATOR_NAME", str, "JADA Charters")
GUEST_BRAND_NAME = env.read("GUEST_BRAND_NAME", str, "Queen of San Diego")
GUEST_CONTACT_PHONE = env.read("GUEST_CONTACT_PHONE", str, "+1 619 555 0100")
GUEST_CONTACT_EMAIL = env.read("GUEST_CONTACT_EMAIL", str, "hello@queenofsandiego.com")

# Fleet: the vessel of bookings that name none, unless one is marked default in the admin.
DEFAULT_VESSEL = env.read("DEFAULT_VESSEL", str, "JADA")
# Marketplace calendars (sync_calendars): seconds to connect and between bytes, and the largest
# feed read (a bigger one is an error recorded on its subscription, nothing changes).
CALENDAR_SYNC_TIMEOUT_SECONDS = env.read("CALENDAR_SYNC_TIMEOUT_SECONDS", env.integer, 10)
CALENDAR_SYNC_MAX_BYTES = env.read("CALENDAR_SYNC_MAX_BYTES", env.integer, 2 * 1024 * 1024)

# Magic links (django-sesame): scoped tokens with a bounded age, never the global one-time mode.
SESAME_TOKEN_NAME = "t"  # noqa: S105 (a query parameter name; short: webmail cuts long links)
SESAME_MAX_AGE = 60 * 60 * 24 * 45
SESAME_ONE_TIME = False
CREW_LINK_MAX_AGE = env.read("CREW_LINK_MAX_AGE", env.integer, 60 * 60 * 24 * 45)
CREW_LINK_MAX_DAYS = env.read("CREW_LINK_MAX_DAYS", env.integer, 45)
CREW_REMINDER_MIN_NOTICE_HOURS = env.read("CREW_REMINDER_MIN_NOTICE_HOURS", env.integer, 12)
# Crew dispatch: open slots offered to the roster, one nudge for silence, one alert per gap.
CREW_NUDGE_AFTER_HOURS = env.read("CREW_NUDGE_AFTER_HOURS", env.integer, 24)
CREW_AUTO_OFFER = env.read("CREW_AUTO_OFFER", env.boolean, True)
CREW_ALERT_WITHIN_HOURS = env.read("CREW_ALERT_WITHIN_HOURS", env.integer, 48)
OFFICE_PHONE = env.read("OFFICE_PHONE", str, "+1 619 555 0199")
LOGIN_URL = "crew-login"

API_MAX_BODY_BYTES = 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Security: strict when DEBUG is off (manage.py check --deploy stays clean).
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.read("SECURE_SSL_REDIRECT", env.boolean, True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.read("SECURE_HSTS_SECONDS", env.integer, 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CURRENCY = "USD"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
        }
    },
    # Feed URLs are their own key: no log line prints one (jada.lib.logs).
    "filters": {"feed_tokens": {"()": "jada.lib.logs.FeedTokenFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["feed_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env.read("LOG_LEVEL", env.log_level, "INFO")},
    "loggers": {
        # Django's own logger has a console handler of its own (with DEBUG): one line, not two.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # Its debug lines print every request's path and query, where hook URLs keep their key.
        "urllib3": {"level": "INFO"},
    },
}

# `manage.py demo`'s users: the public password only in development (or `demo --force`).
DEMO_PUBLIC_PASSWORD = "jada-demo"  # noqa: S105
DEMO_PASSWORD = env.read("DEMO_PASSWORD", str, DEMO_PUBLIC_PASSWORD if DEBUG else "")

# Tests and CI: a missing service is a failure rather than a skip.
REQUIRE_SERVICES = env.read("REQUIRE_SERVICES", env.boolean, False)
