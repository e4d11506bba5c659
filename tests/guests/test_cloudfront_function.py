"""The viewer-request function, run in Node's vm with CloudFront-shaped events."""

from __future__ import annotations

import copy

import pytest

from tests.guests.cloudfront import FUNCTION, event, run


def test_it_maps_guest_urls_to_the_exported_object():
    [upper, lower, longest] = run(
        [
            event("/g/ABC123DEF4"),
            event("/g/xhqgmdh7k2"),
            event("/g/" + "XHQGMDH7K2P9" * 2 + "ABCDEFGH"),
        ]
    )
    assert upper["uri"] == "/jada-guest-abc123def4.html"
    assert lower["uri"] == "/jada-guest-xhqgmdh7k2.html"
    assert longest["uri"] == "/jada-guest-" + "xhqgmdh7k2p9" * 2 + "abcdefgh.html"


@pytest.mark.parametrize(
    "uri",
    [
        "/g/",
        "/g",
        "/g/abc/extra",
        "/g/ABC123/",
        "/g/ABC-123",
        "/g/ABC123.html",
        "/",
        "/index.html",
        "/jada-guest-abc123.html",
        "/x/g/ABC123",
        "/G/ABC123",
    ],
)
def test_it_leaves_everything_else_untouched(uri):
    original = event(uri)
    [request] = run([copy.deepcopy(original)])
    assert request == original["request"]


def test_it_keeps_the_query_string_and_headers():
    querystring = {
        "utm_source": {"value": "email"},
        "lang": {"value": "en", "multiValue": [{"value": "en"}]},
    }
    original = event("/g/ABC123DEF4", querystring)
    [request] = run([copy.deepcopy(original)])
    assert request["uri"] == "/jada-guest-abc123def4.html"
    assert request["querystring"] == querystring
    assert request["headers"] == original["request"]["headers"]
    assert request["method"] == "GET"


def test_it_is_plain_es5():
    source = FUNCTION.read_text()
    assert "function handler(event)" in source
    for construct in ("let ", "const ", "=>", "`", "import ", "export ", "require(", "class "):
        assert construct not in source, construct
