"""S3 and CloudFront without AWS: moto's server over real HTTP, shared by every test module.

Registered for the whole suite by `pytest_plugins = ["tests.aws"]` in tests/conftest.py.

* `moto_server` (session): a ThreadedMotoServer on 127.0.0.1, its endpoint URL. Fake credentials
  are in the environment for the session, so nothing here can reach real AWS; worker threads and
  processes started afterwards reach the same server.
* `moto_requests` (function): the requests the server received during the test, as
  `MotoRequest(method, path, service)`, to assert how many uploads or invalidations were made.
* `s3_guest_storage` (function): a fresh bucket and CloudFront distribution, with the settings
  switched to them exactly as jada/settings.py does when GUEST_PAGES_BUCKET is set.
* `guest_pages_in_tmp` (autouse): the local guest-page storage under the test's tmp_path, so no
  test writes into var/.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

import boto3
import pytest
from moto.server import ThreadedMotoServer

from jada.settings import guest_pages_storage

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # As jada/settings.py sets them when a bucket is configured (S3-compatible servers).
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}
_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


@dataclass(frozen=True)
class MotoRequest:
    method: str
    path: str
    service: str  # from the SigV4 credential scope: "s3", "cloudfront", ...
    headers: dict[str, str] = field(default_factory=dict, compare=False)  # lower-case names


class _RequestLog:
    """WSGI middleware in front of moto's app that records every request it serves."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests: list[MotoRequest] = []
        self._lock = Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/moto-api"):
            match = _SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
            with self._lock:
                # WSGI keeps two headers outside HTTP_*.
                headers = {
                    key.removeprefix("HTTP_").replace("_", "-").lower(): value
                    for key, value in environ.items()
                    if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
                }
                service = match.group(1) if match else ""
                self.requests.append(MotoRequest(environ["REQUEST_METHOD"], path, service, headers))
        return self.app(environ, start_response)


_log: _RequestLog | None = None


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    global _log
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        # No profile or config file on this machine may point boto3 anywhere else.
        mp.setenv("AWS_CONFIG_FILE", "/dev/null")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        # One line per request from werkzeug would drown the test output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        # Werkzeug looks the app up on every request, so wrapping it after start is enough.
        _log = _RequestLog(server._server.app)
        server._server.app = _log
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()
            _log = None


@pytest.fixture
def moto_requests(moto_server) -> list[MotoRequest]:
    """The live list of requests moto receives from now on (cleared for each test)."""
    assert _log is not None
    with _log._lock:
        _log.requests.clear()
    return _log.requests


@dataclass(frozen=True)
class GuestAws:
    endpoint_url: str
    bucket: str
    distribution_id: str

    def s3(self):
        """A separate client, to read back what the application wrote."""
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1")

    def cloudfront(self):
        return boto3.client("cloudfront", endpoint_url=self.endpoint_url, region_name="us-east-1")

    def invalidations(self) -> list[dict]:
        """Every invalidation of the distribution, with its paths and CallerReference."""
        client = self.cloudfront()
        summaries = client.list_invalidations(DistributionId=self.distribution_id)
        return [
            client.get_invalidation(DistributionId=self.distribution_id, Id=item["Id"])[
                "Invalidation"
            ]
            for item in summaries["InvalidationList"].get("Items", [])
        ]


def _create_distribution(client, bucket: str) -> str:
    origin = f"{bucket}.s3.us-east-1.amazonaws.com"
    response = client.create_distribution(
        DistributionConfig={
            "CallerReference": f"jada-test-{bucket}",
            "Comment": "JADA guest pages (test)",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "guest-pages",
                        "DomainName": origin,
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "guest-pages",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    return response["Distribution"]["Id"]


@pytest.fixture
def s3_guest_storage(moto_server, settings) -> GuestAws:
    """A fresh bucket and distribution on the moto server, the guest settings pointing at them."""
    bucket = f"guest-pages-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    distribution_id = _create_distribution(
        boto3.client("cloudfront", endpoint_url=moto_server, region_name="us-east-1"), bucket
    )
    settings.GUEST_PAGES_BUCKET = bucket
    settings.AWS_S3_ENDPOINT_URL = moto_server
    settings.AWS_CLOUDFRONT_ENDPOINT_URL = moto_server
    settings.CLOUDFRONT_DISTRIBUTION_ID = distribution_id
    # Assigning STORAGES sends setting_changed, which empties django's storages cache.
    settings.STORAGES = {
        **settings.STORAGES,
        "guest_pages": guest_pages_storage(
            bucket=bucket,
            endpoint_url=moto_server,
            region_name="us-east-1",
            cache_control=settings.GUEST_PAGES_CACHE_CONTROL,
        ),
    }
    return GuestAws(endpoint_url=moto_server, bucket=bucket, distribution_id=distribution_id)


@pytest.fixture(autouse=True)
def guest_pages_in_tmp(settings, tmp_path: Path) -> Path:
    """Local guest-page storage in the test's own directory (S3 tests override it)."""
    location = tmp_path / "guest-pages"
    settings.STORAGES = {
        **settings.STORAGES,
        "guest_pages": guest_pages_storage(bucket="", location=location),
    }
    return location


def assert_fit_for_a_page_that_changes(cache_control: str) -> None:
    """Caches may keep the page minutes at most, and must ask again after that."""
    directives = {d.strip().split("=")[0]: d.strip() for d in cache_control.split(",")}
    assert "immutable" not in directives and "no-cache" not in directives
    max_age = int(directives["max-age"].split("=")[1])
    assert 0 < max_age <= 300
    assert "must-revalidate" in directives
