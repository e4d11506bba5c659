"""The viewer-request function, run in Node's vm with CloudFront-shaped events."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = ROOT / "guests" / "cloudfront" / "viewer-request.js"
RUNNER = Path(__file__).with_name("cloudfront_runner.js")


def node_binary() -> str | None:
    # The playwright wheel ships a node binary; a system node does as well.
    for candidate in sorted(
        Path(sys.prefix).glob("lib/python*/site-packages/playwright/driver/node")
    ):
        return str(candidate)
    return shutil.which("node")


def event(uri: str, querystring: dict | None = None) -> dict:
    return {
        "version": "1.0",
        "context": {
            "distributionDomainName": "d111111abcdef8.cloudfront.net",
            "distributionId": "EDFDVBD6EXAMPLE",
            "eventType": "viewer-request",
            "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
        },
        "viewer": {"ip": "198.51.100.11"},
        "request": {
            "method": "GET",
            "uri": uri,
            "querystring": querystring or {},
            "headers": {"host": {"value": "queenofsandiego.com"}, "accept": {"value": "text/html"}},
            "cookies": {},
        },
    }


def run(events: list[dict]) -> list[dict]:
    node = node_binary()
    if node is None:
        pytest.fail("no node binary: install the playwright wheel (requirements.txt) or nodejs")
    completed = subprocess.run(
        [node, str(RUNNER), str(FUNCTION)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(completed.stdout)


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
