"""CloudFront invalidations of re-published guest pages (when CLOUDFRONT_DISTRIBUTION_ID is set)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import cache

import boto3
from django.conf import settings

from guests.models import GuestPage
from guests.storage import aws_client_config

# CloudFront takes at most 3,000 exact paths in progress per distribution; a larger batch falls
# back to the two wildcards that cover every guest page.
MAX_EXACT_PATHS = 3000
WILDCARD_PATHS = ("/g/*", "/jada-guest-*")


def enabled() -> bool:
    return bool(settings.CLOUDFRONT_DISTRIBUTION_ID)


@cache
def _client(endpoint_url: str | None):
    # Clients are thread-safe and slow to build; one per endpoint for the process.
    return boto3.session.Session().client(
        "cloudfront", endpoint_url=endpoint_url, region_name="us-east-1", config=aws_client_config()
    )


def cloudfront_client():
    return _client(settings.AWS_CLOUDFRONT_ENDPOINT_URL)


def page_paths(page: GuestPage) -> tuple[str, str]:
    """Both cache keys of a page: the viewer's URI and the one the viewer-request function makes."""
    return page.path, f"/{page.object_name}"


def caller_reference(changes: Iterable[tuple[int, str, str]], *, once: str = "") -> str:
    """Deterministic reference from (page id, version replaced, new content hash) of each page.

    A retried task sends the same reference, so CloudFront answers with the invalidation it
    already made. The replaced version is in it so that a page going back to an earlier version
    (A → B → A → B) is still invalidated. `once` makes a reference of its own for a forced re-send.
    """
    changes = sorted(changes)
    if once:
        return f"guest-pages-forced-{len(changes)}-{once}"
    if len(changes) == 1:
        page_id, old, new = changes[0]
        return f"guest-page-{page_id}-{old[:16] or 'new'}-{new}"
    digest = hashlib.sha256(
        "\n".join(f"{page_id}:{old}:{new}" for page_id, old, new in changes).encode()
    ).hexdigest()
    return f"guest-pages-{len(changes)}-{digest}"


def invalidate(paths: Sequence[str], *, reference: str) -> str:
    """One create_invalidation call for all `paths`; returns the invalidation id."""
    items = list(dict.fromkeys(paths))
    if len(items) > MAX_EXACT_PATHS:
        items = list(WILDCARD_PATHS)
    response = cloudfront_client().create_invalidation(
        DistributionId=settings.CLOUDFRONT_DISTRIBUTION_ID,
        InvalidationBatch={
            "Paths": {"Quantity": len(items), "Items": items},
            "CallerReference": reference,
        },
    )
    return response["Invalidation"]["Id"]
