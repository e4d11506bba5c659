"""Settings for JADA: every knob from the environment, with defaults that need no service."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("JADA_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()


def _read(name: str, cast, default):
    """Read one variable; a malformed value names the variable instead of a bare ValueError."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name and name not in os.environ:
        # Secrets may come from files (Docker/systemd credentials) rather than the environment.
        try:
            os.environ[name] = Path(file_name).read_text().strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {e}") from e
    if name not in os.environ:
        return default
    raw = os.environ[name]
    try:
        return cast(raw)
    except (ValueError, TypeError, KeyError, ImproperlyConfigured) as e:
        # django-environ raises ImproperlyConfigured itself, without the variable's name.
        raise ImproperlyConfigured(f"{name}: malformed value {raw!r} ({e})") from e


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _url(raw: str) -> str:
    raw = raw.strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an absolute http(s) URL with a host")
    return raw


def _zone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError("unknown time zone") from e
    return raw


def _db(raw: str) -> dict:
    if "://" not in raw or raw.split("://", 1)[0] not in environ.Env.DB_SCHEMES:
        raise ValueError("expected a URL such as postgres://user@host:5432/name")
    return env.db_url_config(raw)


def _redis_url(raw: str) -> str:
    if urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("expected a URL such as redis://127.0.0.1:6379/1")
    return raw


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def _email(raw: str) -> dict:
    if "://" not in raw:
        raise ValueError("expected a URL such as smtp+tls://user:pass@host:587")
    return env.email_url_config(raw)


DEBUG = _read("DEBUG", _bool, True)
SECRET_KEY = _read("SECRET_KEY", str, "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY: must be set when DEBUG=0")
    # Development only: a fixed key keeps local magic links valid across restarts.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
elif not DEBUG and SECRET_KEY.startswith(("change-me", "insecure-")):
    # The README's placeholder and the development key are public: never sign links with them.
    raise ImproperlyConfigured("SECRET_KEY: replace the placeholder with a random secret")

ALLOWED_HOSTS = _read("ALLOWED_HOSTS", _list, ["127.0.0.1", "localhost", "testserver"])
SITE_URL = _read("SITE_URL", _url, "http://127.0.0.1:8000")
GUEST_SITE_URL = _read("GUEST_SITE_URL", _url, SITE_URL)
CSRF_TRUSTED_ORIGINS = [SITE_URL]

# Django stores UTC; TIME_ZONE is the operator's zone used for display and form input
# (bookings.formatting reads it as Django's current time zone).
TIME_ZONE = _read("TIME_ZONE", _zone, "America/Los_Angeles")
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
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "sesame.backends.ModelBackend",
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
    "default": _read(
        "DATABASE_URL",
        _db,
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
CACHE_URL = _read("CACHE_URL", _redis_url, "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# Guest pages: S3 (django-storages) when a bucket is named, the local file system otherwise.
GUEST_PAGES_BUCKET = _read("GUEST_PAGES_BUCKET", str, "")
AWS_S3_ENDPOINT_URL = _read("AWS_S3_ENDPOINT_URL", _url, None)
AWS_S3_REGION_NAME = _read("AWS_S3_REGION_NAME", str, "us-east-1")
CLOUDFRONT_DISTRIBUTION_ID = _read("CLOUDFRONT_DISTRIBUTION_ID", str, "")
# A local S3-compatible server (moto) usually serves CloudFront's API too.
AWS_CLOUDFRONT_ENDPOINT_URL = _read("AWS_CLOUDFRONT_ENDPOINT_URL", _url, AWS_S3_ENDPOINT_URL)
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
CELERY_BROKER_URL = _read("CELERY_BROKER_URL", str, "")
CELERY_RESULT_BACKEND = _read("CELERY_RESULT_BACKEND", str, CELERY_BROKER_URL or "cache+memory://")
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
}
PIPELINE_STALE_AFTER_SECONDS = _read("PIPELINE_STALE_AFTER_SECONDS", int, 120)
# Retry policy of the outside-world stages (jada/pipeline/retry.py explains how they combine).
PIPELINE_TASK_RETRIES = _read("PIPELINE_TASK_RETRIES", int, 5)
PIPELINE_RETRY_BASE_SECONDS = _read("PIPELINE_RETRY_BASE_SECONDS", int, 10)
PIPELINE_RETRY_MAX_SECONDS = _read("PIPELINE_RETRY_MAX_SECONDS", int, 300)
PIPELINE_SWEEP_BACKOFF_SECONDS = _read("PIPELINE_SWEEP_BACKOFF_SECONDS", int, 15 * 60)
PIPELINE_SWEEP_BACKOFF_MAX_SECONDS = _read("PIPELINE_SWEEP_BACKOFF_MAX_SECONDS", int, 6 * 3600)
PIPELINE_MAX_ATTEMPTS = _read("PIPELINE_MAX_ATTEMPTS", int, 30)
PIPELINE_STUCK_AFTER_SECONDS = _read("PIPELINE_STUCK_AFTER_SECONDS", int, 5 * 60)
# A task its worker took and lost (the process killed) is delivered again after this long, not
# Redis' default hour; longer than any retry's countdown, which waits unacknowledged too.
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = PIPELINE_RETRY_MAX_SECONDS + 5 * 60

# Email: console by default; EMAIL_URL or the standard EMAIL_* variables for SMTP/SES.
_email_default = {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
_email_config = _read("EMAIL_URL", _email, None)
if _email_config is None and "EMAIL_HOST" in os.environ:
    _email_config = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": _read("EMAIL_HOST", str, "localhost"),
        "EMAIL_PORT": _read("EMAIL_PORT", int, 25),
        "EMAIL_HOST_USER": _read("EMAIL_HOST_USER", str, ""),
        "EMAIL_HOST_PASSWORD": _read("EMAIL_HOST_PASSWORD", str, ""),
        "EMAIL_USE_TLS": _read("EMAIL_USE_TLS", _bool, False),
        "EMAIL_USE_SSL": _read("EMAIL_USE_SSL", _bool, False),
    }
globals().update(_email_config or _email_default)
EMAIL_TIMEOUT = _read("EMAIL_TIMEOUT", int, 20)
DEFAULT_FROM_EMAIL = _read("DEFAULT_FROM_EMAIL", str, "JADA Charters <charters@sailjada.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
OPERATOR_EMAILS = _read("OPERATOR_EMAILS", _list, ["operator@sailjada.com"])
SUMMARY_WEBHOOK_URL = _read("SUMMARY_WEBHOOK_URL", _url, "")
SUMMARY_WEBHOOK_SECRET = _read("SUMMARY_WEBHOOK_SECRET", str, "")
if SUMMARY_WEBHOOK_URL:
    # Caught at start-up rather than as a summary stage failing on every run.
    from jada.lib.webhook import webhook_refusal

    if _refusal := webhook_refusal(SUMMARY_WEBHOOK_URL, SUMMARY_WEBHOOK_SECRET):
        raise ImproperlyConfigured(_refusal)
GUEST_EMAILS_ENABLED = _read("GUEST_EMAILS_ENABLED", _bool, True)
# Marketplaces whose terms forbid contacting their guests directly.
GUEST_EMAILS_BLOCKED_SOURCES = _read("GUEST_EMAILS_BLOCKED_SOURCES", _list, [])

# Branding of the operator-facing and guest-facing domains.
OPERATOR_NAME = _read("OPERATOR_NAME", str, "JADA Charters")
GUEST_BRAND_NAME = _read("GUEST_BRAND_NAME", str, "Queen of San Diego")
GUEST_CONTACT_PHONE = _read("GUEST_CONTACT_PHONE", str, "+1 619 555 0100")
GUEST_CONTACT_EMAIL = _read("GUEST_CONTACT_EMAIL", str, "hello@queenofsandiego.com")

# Magic links (django-sesame): scoped tokens with a bounded age, never the global one-time mode.
SESAME_TOKEN_NAME = "t"  # noqa: S105 (a query parameter name; short: webmail cuts long links)
SESAME_MAX_AGE = 60 * 60 * 24 * 45
SESAME_ONE_TIME = False
CREW_LINK_MAX_AGE = _read("CREW_LINK_MAX_AGE", int, 60 * 60 * 24 * 45)
CREW_LINK_MAX_DAYS = _read("CREW_LINK_MAX_DAYS", int, 45)
CREW_REMINDER_MIN_NOTICE_HOURS = _read("CREW_REMINDER_MIN_NOTICE_HOURS", int, 12)
# Crew dispatch: open slots offered to the roster, one nudge for silence, one alert per gap.
CREW_NUDGE_AFTER_HOURS = _read("CREW_NUDGE_AFTER_HOURS", int, 24)
CREW_AUTO_OFFER = _read("CREW_AUTO_OFFER", _bool, True)
CREW_ALERT_WITHIN_HOURS = _read("CREW_ALERT_WITHIN_HOURS", int, 48)
OFFICE_PHONE = _read("OFFICE_PHONE", str, "+1 619 555 0199")
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
    SECURE_SSL_REDIRECT = _read("SECURE_SSL_REDIRECT", _bool, True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _read("SECURE_HSTS_SECONDS", int, 31_536_000)
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
    "root": {"handlers": ["console"], "level": _read("LOG_LEVEL", _log_level, "INFO")},
    "loggers": {
        # Django's own logger has a console handler of its own (with DEBUG): one line, not two.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # Its debug lines print every request's path and query, where hook URLs keep their key.
        "urllib3": {"level": "INFO"},
    },
}

# Tests and CI: a missing service is a failure rather than a skip.
REQUIRE_SERVICES = _read("REQUIRE_SERVICES", _bool, False)
