"""One table of guest page ids, run against Django's `/g/<ID>` and the CloudFront function."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.guests.cloudfront import event, run

CASES = json.loads(Path(__file__).with_name("guest_page_ids.json").read_text())["cases"]
# Every object name a too-lenient mapping could produce, stored so a wrong lookup would succeed.
DECOYS = ["jada-guest-abc123.html", "jada-guest-abcdefghi.html", "jada-guest-xhqgmdh7k2p9.html"]


def test_the_table_covers_both_answers_and_the_length_bounds():
    accepted = [case for case in CASES if case["object"]]
    assert accepted and len(accepted) < len(CASES)
    lengths = {len(case["path"]) - len("/g/") for case in CASES if case["path"].startswith("/g/")}
    assert {9, 10, 32, 33} <= lengths


def test_the_cloudfront_function_maps_exactly_the_accepted_ids():
    originals = [event(case["path"]) for case in CASES]
    results = run(copy.deepcopy(originals))
    for case, original, request in zip(CASES, originals, results, strict=True):
        if case["object"]:
            assert request["uri"] == "/" + case["object"], case
            assert request == original["request"] | {"uri": request["uri"]}, case
        else:
            assert request == original["request"], case


@pytest.mark.parametrize("case", CASES, ids=[case["path"] for case in CASES])
def test_django_serves_exactly_the_accepted_ids(client, guest_pages_in_tmp, case):
    guest_pages_in_tmp.mkdir(parents=True, exist_ok=True)
    for name in {*DECOYS, *(c["object"] for c in CASES if c["object"])}:
        (guest_pages_in_tmp / name).write_bytes(f"<!-- {name} -->".encode())

    response = client.get(case["path"])

    if case["object"]:
        assert response.status_code == 200
        assert response.content == f"<!-- {case['object']} -->".encode()
    elif case["path"] == "/":
        # The site's front door (links to the admin and the crew sign-in), never a guest page.
        assert response.status_code == 200 and b"Crew: get a sign-in link" in response.content
        assert b"jada-guest-" not in response.content
    else:
        assert response.status_code in (404, 301), response.status_code
        assert b"jada-guest-" not in response.content
