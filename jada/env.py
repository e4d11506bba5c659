"""The one reader of the environment, and the casts settings use with it.

A malformed value raises ImproperlyConfigured naming the variable and what was expected, never
the value: URLs carry passwords, and the message ends up in logs and on consoles.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class Malformed(ValueError):
    """A value a cast refuses; its message says what was expected and never quotes the value."""


def given(name: str) -> bool:
    """Whether the variable is set, directly or as NAME_FILE."""
    return name in os.environ or f"{name}_FILE" in os.environ


def _raw(name: str) -> str | None:
    if name in os.environ:
        return os.environ[name]
    file_name = os.environ.get(f"{name}_FILE")
    if not file_name:
        return None
    # Secrets may come from files (Docker/systemd credentials) rather than the environment.
    try:
        return Path(file_name).read_text().strip()
    except OSError as e:
        raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {e.strerror}") from None


def read(name: str, cast: Callable[[str], T], default: T) -> T:
    """The one reader of the environment: NAME (or the file NAME_FILE), cast, else the default.

    A malformed value names the variable and what was expected, never the value itself: URLs
    carry passwords, and this message ends up in logs and on consoles.
    """
    raw = _raw(name)
    if raw is None:
        return default
    try:
        return cast(raw)
    except Malformed as e:
        reason = str(e)
    except (ValueError, TypeError, KeyError, ImproperlyConfigured):
        # Other libraries' messages may quote the value (int() does): never shown.
        reason = "not understood"
    # `from None`: the chained exception would print the value in the traceback.
    raise ImproperlyConfigured(f"{name}: malformed value ({reason})") from None


def boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise Malformed("expected one of 1/0, true/false, yes/no, on/off")


def integer(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise Malformed("expected a whole number") from None


def count(raw: str) -> int:
    value = integer(raw)
    if value < 0:
        raise Malformed("expected a whole number, 0 or more")
    return value


def words(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def http_url(raw: str) -> str:
    raw = raw.strip().rstrip("/")
    try:
        parts = urlsplit(raw)
        scheme, host = parts.scheme, parts.hostname
    except ValueError:
        scheme = host = None
    if scheme not in ("http", "https") or not host:
        raise Malformed("expected an absolute http(s) URL with a host")
    return raw


def service_url(raw: str) -> str:
    """A broker or result backend URL (redis://…, amqp://…, cache+memory://)."""
    raw = raw.strip()
    scheme, sep, _ = raw.partition("://")
    if not sep or not scheme or not all(c.isalnum() or c in "+-." for c in scheme):
        raise Malformed("expected a URL such as redis://host:6379/0")
    return raw


def zone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise Malformed("unknown time zone") from None
    return raw


def database_url(raw: str) -> dict:
    if "://" not in raw or raw.split("://", 1)[0] not in environ.Env.DB_SCHEMES:
        raise Malformed("expected a URL such as postgres://user@host:5432/name")
    return environ.Env.db_url_config(raw)


def redis_url(raw: str) -> str:
    try:
        scheme = urlsplit(raw).scheme
    except ValueError:
        scheme = ""
    if scheme not in ("redis", "rediss", "unix"):
        raise Malformed("expected a URL such as redis://127.0.0.1:6379/1")
    return raw


def log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise Malformed("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def email_url(raw: str) -> dict:
    if "://" not in raw:
        raise Malformed("expected a URL such as smtp+tls://user:pass@host:587")
    try:
        parts = environ.Env.email_url_config(raw)
    except ImproperlyConfigured:
        raise Malformed("expected a URL such as smtp+tls://user:pass@host:587") from None
    # The URL names TLS or SSL only when it uses one.
    return {"EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False, **parts}
