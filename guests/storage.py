"""Where exported guest pages live: `storages["guest_pages"]` (S3 in production, files locally)."""

from __future__ import annotations

import mimetypes
from functools import cached_property

from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

STORAGE_ALIAS = "guest_pages"


class GuestPageStorage(S3Storage):
    """S3Storage for small text objects: charset in `Content-Type`, one PutObject per save."""

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
