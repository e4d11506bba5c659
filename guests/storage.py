"""Where exported guest pages live: `storages["guest_pages"]` (S3 in production, files locally)."""

from __future__ import annotations

import mimetypes
from functools import cached_property

from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

STORAGE_ALIAS = "guest_pages"

# A hanging S3 or CloudFront gives up in bounded time and the stage is retried later: seconds to
# connect, seconds to wait for each read, and attempts in botocore's standard retry mode (which
# backs off between them). At worst (5 + 20) * 3 s, well inside a page's publishing claim.
AWS_CONNECT_TIMEOUT = 5
AWS_READ_TIMEOUT = 20
AWS_MAX_ATTEMPTS = 3


def aws_client_config() -> Config:
    """Timeouts and retries of every boto3 client guests use (S3 and CloudFront)."""
    return Config(
        connect_timeout=AWS_CONNECT_TIMEOUT,
        read_timeout=AWS_READ_TIMEOUT,
        retries={"total_max_attempts": AWS_MAX_ATTEMPTS, "mode": "standard"},
    )


class GuestPageStorage(S3Storage):
    """S3Storage for small text objects: charset in `Content-Type`, one PutObject per save."""

    def __init__(self, **settings) -> None:
        super().__init__(**settings)
        # botocore's defaults wait 60 s per read, and legacy retries up to 5 attempts.
        self.client_config = self.client_config.merge(aws_client_config())

    def get_object_parameters(self, name: str) -> dict:
        params = super().get_object_parameters(name)
        content_type, _ = mimetypes.guess_type(name)
        if "ContentType" not in params and content_type and content_type.startswith("text/"):
            params["ContentType"] = f"{content_type}; charset=utf-8"
        return params

    @cached_property
    def _client(self):
        # One client for every thread: boto3 clients are thread-safe (resources are not), and
        # building one per thread costs more than a bulk export's uploads.
        return self.connection.meta.client

    def _save(self, name: str, content) -> str:
        # A page is a few KB: a plain put_object costs a third less than s3transfer's managed
        # upload (no multipart machinery), with the same parameters S3Storage would send.
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self._get_write_parameters(key, content)
        content.seek(0)
        self._client.put_object(Bucket=self.bucket_name, Key=key, Body=content.read(), **params)
        return cleaned


def guest_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def page_write(name: str, body: bytes) -> None:
    """Write (or overwrite) one object: a single PUT on S3, no existence check first."""
    saved = guest_storage().save(name, ContentFile(body))
    if saved != name:
        # A storage that renames instead of overwriting would leave CloudFront a stale page.
        raise RuntimeError(f"guest page storage saved {name!r} as {saved!r}; enable overwriting")


# What S3 answers for a key it does not have: 404, or 403 when the reader may not list the
# bucket (the least privilege production grants), which hides whether the key exists.
S3_MISSING = frozenset({"404", "403", "NoSuchKey", "AccessDenied"})


def page_read(name: str) -> bytes:
    """The stored bytes (raises FileNotFoundError when there is no such object)."""
    try:
        with guest_storage().open(name, "rb") as f:
            return f.read()
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in S3_MISSING:
            raise FileNotFoundError(name) from e
        raise
