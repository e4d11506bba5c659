"""Log lines that keep calendar feed tokens out and cannot be forged by a request's path.

A feed URL is its own key (`/crew/feed/<token>.ics`, `/calendar/vessels/<token>.ics`): whoever
reads the access log or Django's "Not Found" warnings could subscribe to the calendar. Every
segment after `/calendar/` or `/crew/feed/` that is not a route word is logged as a short hash
prefix of itself, which still lets an operator tell two requests for one feed apart from others.
"""

from __future__ import annotations

import hashlib
import logging
import re

from gunicorn.glogging import Logger

# Any path under these prefixes carries a secret (today's crew feeds, the vessel feeds to come),
# in whatever case and with however many slashes a client sends.
_FEED_PATH = re.compile(r"(?i)(/+(?:calendar|crew/+feed)(?=/))([^\s\"'?#]*)")
ROUTE_WORDS = frozenset({"vessels", "crew", "members"})
# C0 and C1 controls, the Unicode line breaks, and what would end or fake a quoted field.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\"\\]")


def _hidden(segment: str) -> str:
    if not segment or segment.lower() in ROUTE_WORDS:
        return segment
    stem, dot, suffix = segment.rpartition(".")
    if not dot or not suffix.isalnum() or len(suffix) > 4:
        stem, dot, suffix = segment, "", ""
    digest = hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"[{digest}]{dot}{suffix}"


def _feed_path(match: re.Match[str]) -> str:
    return match.group(1) + "/".join(_hidden(s) for s in match.group(2).split("/"))


def escaped(text: str) -> str:
    """Control characters, quotes and backslashes as `\\xNN`: one request, one log line."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def path_for_log(path: str) -> str:
    """A request path as it may be logged: feed tokens hashed, control characters escaped."""
    return escaped(_FEED_PATH.sub(_feed_path, path))


class FeedTokenFilter(logging.Filter):
    """Hashes feed tokens in any record's message (Django's "Not Found: /crew/feed/…", …)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _FEED_PATH.search(message):
            record.msg, record.args = _FEED_PATH.sub(_feed_path, message), None
        return True


class AccessLogger(Logger):
    """Gunicorn's logger with the path (`%(U)s`, and the request line `%(r)s`) made safe."""

    def atoms(self, resp, req, environ, request_time):  # gunicorn's signature, untyped there
        atoms = super().atoms(resp, req, environ, request_time)
        path = path_for_log(environ.get("PATH_INFO", ""))
        atoms["U"] = path
        # The request line carries the raw query string, where sign-in links keep their token.
        atoms["r"] = f"{escaped(atoms.get('m', '-'))} {path} {escaped(atoms.get('H', '-'))}"
        atoms["q"] = "-"
        return atoms
