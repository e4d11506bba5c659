"""Crew page fragments rendered once per content and cached (Django's cache framework).

A fragment's key is a digest of everything it shows (the card's data, the template's source,
the code that words and links it, the zone, the page it posts back to), so a change to any of
them is a new key and nothing needs invalidating: a tick, a new shipmate or a moved charter
simply renders anew. The CSRF token is not in the cached text: a marker stands in for it and
each response puts its own token there.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from bookings.formatting import zone_name

logger = logging.getLogger(__name__)

# Escaping turns every "<" of the data into "&lt;", so the data can never produce this marker.
CSRF_MARK = mark_safe("<!--csrf-->")
TIMEOUT = 60 * 60 * 24


@functools.cache
def _code_digest() -> bytes:
    """The code a fragment's text comes from besides its template: the cards' texts and URLs.

    Read once per process: a deploy restarts it, and the cache may outlive a deploy.
    """
    from crew import cards, urls

    modules = (cards, cards.formatting, urls, import_module(settings.ROOT_URLCONF))
    digest = hashlib.blake2b(digest_size=16)
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.digest()


def _key(source_digest: bytes, here: str, value: object) -> str:
    material = pickle.dumps((_code_digest(), source_digest, zone_name(), here, value), protocol=5)
    return "crew-fragment:" + hashlib.blake2b(material, digest_size=16).hexdigest()


def render_cached(
    request: HttpRequest, template_name: str, values: Sequence[object], *, name: str, here: str
) -> list[SafeString]:
    """Each of `values` rendered with `template_name` (as `name` in its context), cached."""
    if not values:
        return []
    template = get_template(template_name)
    source_digest = hashlib.blake2b(template.template.source.encode(), digest_size=16).digest()
    keys = [_key(source_digest, here, value) for value in values]
    try:
        found = cache.get_many(keys)
    except Exception:  # the cache is a shortcut: without it, render
        logger.warning("crew fragment cache unavailable", exc_info=True)
        found = {}
    rendered, missing = [], {}
    for key, value in zip(keys, values, strict=True):
        html = found.get(key)
        if html is None:
            html = missing[key] = template.render({name: value, "here": here, "csrf": CSRF_MARK})
        rendered.append(html)
    if missing:
        try:
            cache.set_many(missing, TIMEOUT)
        except Exception:
            logger.warning("crew fragment cache unavailable", exc_info=True)
    token = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )
    return [mark_safe(html.replace(CSRF_MARK, token)) for html in rendered]  # noqa: S308
