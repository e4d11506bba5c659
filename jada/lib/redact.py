"""Keep the secret parts of URLs (user, password, path, query) out of errors and logs."""

from __future__ import annotations

import re

# An absolute URL as an exception prints it: scheme, then everything up to a space or a quote.
_ABSOLUTE = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^\s'\"<>]+)")
# urllib3 names only the path and query: "Max retries exceeded with url: /hook?key=… (Caused".
_PATH_ONLY = re.compile(r"(\burl: )(\S+)")
_TRAILING = ")].,;:"


def url_shown(url: str) -> str:
    """The part of a URL that may be shown: scheme and host (with port), never what follows."""
    scheme, _, rest = url.partition("://")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = netloc.rpartition("@")[2]  # drop user:password@
    tail = rest[len(netloc) :]
    return f"{scheme}://{host}" + ("/…" if tail.strip("/") else "")


def _absolute(match: re.Match[str]) -> str:
    text = match.group(0)
    stripped = text.rstrip(_TRAILING)
    return url_shown(stripped) + text[len(stripped) :]


def _path_only(match: re.Match[str]) -> str:
    token = match.group(2)
    if "://" in token:
        return match.group(0)  # an absolute URL: handled by _absolute
    stripped = token.rstrip(_TRAILING)
    return match.group(1) + "/…" + token[len(stripped) :]


def urls_redacted(text: str) -> str:
    """Every URL the text names reduced to its scheme and host, whatever its spelling.

    Parses the text rather than looking for the configured URL: requests and urllib3 print it
    normalised (`%7E` becomes `~`, `%2f` becomes `%2F`, the user and password re-quoted), so a
    literal replace of the configured string misses it.
    """
    return _ABSOLUTE.sub(_absolute, _PATH_ONLY.sub(_path_only, text))
