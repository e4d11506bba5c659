"""Running the CloudFront viewer-request function in Node with CloudFront-shaped events."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
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


def created(reference: str, id_: str = "I1") -> dict:
    return {
        "Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/D/invalidation/{id_}",
        "Invalidation": {
            "Id": id_,
            "Status": "InProgress",
            "CreateTime": datetime(2030, 1, 1, tzinfo=UTC),
            "InvalidationBatch": {"Paths": {"Quantity": 0}, "CallerReference": reference},
        },
    }


def references(calls: list[dict]) -> list[str]:
    return [c["InvalidationBatch"]["CallerReference"] for c in calls]
