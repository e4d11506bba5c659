"""Where exported guest pages live: `storages["guest_pages"]` (S3 in production, files locally)."""

from __future__ import annotations

import mimetypes

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from storages.backends.s3 import S3Storage

STORAGE_ALIAS = "guest_pages"


class GuestPageStorage(S3Storage):
    """S3Storage whose text objects declare their charset (`text/html; charset=utf-8`)."""

    def get_object_parameters(self, name: str) -> dict:
        params = super().get_object_parameters(name)
        content_type, _ = mimetypes.guess_type(name)
        if "ContentType" not in params and content_type and content_type.startswith("text/"):
            params["ContentType"] = f"{content_type}; charset=utf-8"
        return params


def guest_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def page_write(name: str, body: bytes) -> None:
    """Write (or overwrite) one object: a single PUT on S3, no existence check first."""
    saved = guest_storage().save(name, ContentFile(body))
    if saved != name:
        # A storage that renames instead of overwriting would leave CloudFront a stale page.
        raise RuntimeError(f"guest page storage saved {name!r} as {saved!r}; enable overwriting")


def page_read(name: str) -> bytes:
    """The stored bytes (raises FileNotFoundError when there is no such object)."""
    with guest_storage().open(name, "rb") as f:
        return f.read()
