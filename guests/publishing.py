"""Export of rendered guest pages: upload to storage, invalidate CloudFront, note what was done."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from guests import cloudfront
from guests.models import GuestPage, PageState
from guests.render import RenderedPage
from guests.storage import page_write


@dataclass(frozen=True)
class PublishResult:
    booking_id: int
    session_id: str
    content_hash: str
    uploaded: bool
    invalidation_id: str | None = None


@dataclass
class BulkResult:
    checked: int = 0
    published: int = 0  # uploaded, or would be in a dry run
    unchanged: int = 0
    missing: int = 0  # page records whose booking no longer exists
    busy: int = 0  # being published by a pipeline run at that moment (which uploads the latest)
    invalidation_calls: int = 0
    invalidated_paths: int = 0
    invalidation_id: str | None = None
    dry_run: bool = False

    def summary(self) -> str:
        if self.dry_run:
            return (
                f"Dry run: {self.published} of {self.checked} guest pages would be published, "
                f"{self.unchanged} unchanged, {self.missing} without a booking; nothing written."
            )
        busy = f", {self.busy} being published by the pipeline" if self.busy else ""
        return (
            f"{self.checked} guest pages checked: {self.published} published, "
            f"{self.unchanged} unchanged, {self.missing} without a booking{busy}; "
            f"{self.invalidation_calls} invalidation call(s) for {self.invalidated_paths} paths."
        )


def page_upload(page: GuestPage, rendered: RenderedPage) -> None:
    page_write(page.object_name, rendered.html)


def _replaced(page: GuestPage) -> str:
    """The published version a change replaces: its hash and when it was published.

    The time tells apart two publications of the same bytes (A → B → A → B): a reference
    CloudFront has seen answers with its old invalidation and clears nothing. A retry replaces
    the same publication, so it still sends the same reference.
    """
    if not page.published_hash:
        return ""
    published = page.published_at.isoformat() if page.published_at else ""
    return hashlib.sha256(f"{page.published_hash}@{published}".encode()).hexdigest()


def pages_invalidate(changes: Sequence[tuple[GuestPage, str]]) -> tuple[str | None, int]:
    """One invalidation for every (page, new content hash); (id, paths) or (None, 0) when off."""
    if not changes or not cloudfront.enabled():
        return None, 0
    paths = [path for page, _ in changes for path in cloudfront.page_paths(page)]
    # A forced re-send of bytes already published (the admin's "re-publish", `--all`) is asked
    # for because the cache is wrong: its reference must be new, or CloudFront would answer
    # with the earlier invalidation and clear nothing. Changed pages keep the deterministic one.
    forced = any(page.published_hash == content_hash for page, content_hash in changes)
    reference = cloudfront.caller_reference(
        ((page.pk, _replaced(page), content_hash) for page, content_hash in changes),
        once=uuid.uuid4().hex if forced else "",
    )
    return cloudfront.invalidate(paths, reference=reference), len(paths)


def page_mark_published(page: GuestPage, content_hash: str, *, now: datetime) -> None:
    page.published_hash = content_hash
    page.published_at = now
    page.state = PageState.PUBLISHED
