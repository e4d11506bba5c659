"""Writes to the guests' side: the page record, its publication, and what the guest is told."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.selectors import OperationalBooking, booking_operational, bookings_operational
from guests.models import GuestPage, PageState, new_session_id
from guests.publishing import (
    BulkResult,
    PublishResult,
    page_mark_published,
    page_upload,
    pages_invalidate,
)
from guests.render import (
    GuestFacts,
    RenderedPage,
    facts_changes,
    facts_told,
    guest_email,
    page_revise,
    render_page,
)

logger = logging.getLogger(__name__)

# What publishing changes on a page row.
PAGE_STATE_FIELDS = [
    "facts_hash",
    "revision",
    "revised_at",
    "content_hash",
    "published_hash",
    "published_at",
    "state",
]
# Pages rendered per query of booking projections in a bulk re-export.
BULK_CHUNK = 500
# Concurrent uploads of a bulk export (the storage shares one thread-safe client).
UPLOAD_THREADS = 8
# A run's claim on uploading a page: longer than S3's and CloudFront's own timeouts and retries
# can take (guests.storage.AWS_CLIENT_CONFIG), so only a dead worker's claim expires.
PUBLISH_CLAIM = timedelta(minutes=5)
# How long a run waits for another's upload of the same page before retrying later.
PUBLISH_WAIT = timedelta(seconds=30)
# The same for the guest's email: a claim longer than an SMTP send takes, and the wait.
SEND_CLAIM = timedelta(minutes=5)
SEND_WAIT = timedelta(seconds=30)


def guest_page_ensure(*, booking: OperationalBooking) -> GuestPage:
    """The booking's page record, created with a fresh secret session id on first sight."""
    page = GuestPage.objects.filter(booking_id=booking.id).first()
    if page is not None:
        return page
    for _ in range(5):
        try:
            with transaction.atomic():
                return GuestPage.objects.create(booking_id=booking.id, session_id=new_session_id())
        except IntegrityError:
            # A session-id collision is astronomically rare; a concurrent create is not.
            page = GuestPage.objects.filter(booking_id=booking.id).first()
            if page is not None:
                return page
    raise RuntimeError("could not allocate a unique guest session id")


def guest_pages_create_many(*, booking_ids: Sequence[int]) -> list[GuestPage]:
    """Page records for bookings that have none yet, in one insert.

    What `guest_page_ensure` does on first sight, for many. A session-id collision (as rare as
    in `guest_page_ensure`) fails the insert with IntegrityError; the caller may try again.
    """
    pages = [GuestPage(booking_id=pk, session_id=new_session_id()) for pk in booking_ids]
    GuestPage.objects.bulk_create(pages)
    return pages


def _locked_page(booking_id: int) -> GuestPage:
    page = GuestPage.objects.select_for_update().filter(booking_id=booking_id).first()
    if page is None:
        guest_page_ensure(booking=booking_operational(booking_id))
        page = GuestPage.objects.select_for_update().get(booking_id=booking_id)
    return page


def _state(page: GuestPage) -> tuple:
    return tuple(getattr(page, name) for name in PAGE_STATE_FIELDS)


def _page_render(page: GuestPage, booking: OperationalBooking) -> RenderedPage:
    """Render `page` from the booking, noting a new revision and the hash on it (unsaved)."""
    facts = GuestFacts.of(booking)
    page_revise(page, facts)
    rendered = render_page(page, facts)
    page.content_hash = rendered.content_hash
    return rendered


class PageBusy(TimeoutError):
    """Another run has been publishing or emailing this page for a while; try again later."""


def _claim(booking_id: int, *, force: bool) -> tuple[GuestPage, RenderedPage, bool] | None:
    """Under the page's lock: render, decide, and claim the upload when one is due.

    None when another run holds an unexpired claim (the caller waits for it). What is decided
    is committed before anything goes to storage.
    """
    with transaction.atomic():
        page = _locked_page(booking_id)
        # Read after the lock, so a slower run never publishes an older version of the booking.
        before = _state(page)
        rendered = _page_render(page, booking_operational(booking_id))
        upload = force or page.published_hash != rendered.content_hash
        now = timezone.now()
        claimed = page.publishing_at is not None and page.publishing_at > now - PUBLISH_CLAIM
        if claimed:
            # Nothing saved: wait for the holder's upload, then decide against what it stored.
            return None
        fields = [*PAGE_STATE_FIELDS, "updated_at"]
        if upload:
            page.publishing_at = now
            fields.append("publishing_at")
        elif page.published_hash:
            # What storage holds is current: clear a failure left by an earlier attempt.
            page.state = PageState.PUBLISHED
        if upload or _state(page) != before:
            page.save(update_fields=fields)
    return page, rendered, upload


def guest_page_publish(*, booking_id: int, force: bool = False) -> PublishResult:
    """Render the booking's page; upload and invalidate it only when its bytes changed.

    Rendered and decided under the page's row lock, which is released (committed) before S3 and
    CloudFront are called: a hanging S3 holds no transaction and no lock, only the page's
    publishing claim, which a concurrent run waits for (PUBLISH_WAIT) rather than upload an
    older version beside it. Safe to run twice. Storage and CloudFront errors propagate, so the
    caller's task retries; the page is then marked failed.
    """
    deadline = time.monotonic() + PUBLISH_WAIT.total_seconds()
    while (claim := _claim(booking_id, force=force)) is None:
        if time.monotonic() > deadline:
            raise PageBusy(f"guest page of booking {booking_id} is being uploaded by another run")
        time.sleep(0.2)
    page, rendered, upload = claim
    invalidation_id = None
    if upload:
        try:
            page_upload(page, rendered)
            invalidation_id, _ = pages_invalidate([(page, rendered.content_hash)])
        except Exception:
            GuestPage.objects.filter(pk=page.pk).update(
                state=PageState.FAILED, publishing_at=None, updated_at=timezone.now()
            )
            raise
        with transaction.atomic():
            page = GuestPage.objects.select_for_update().get(pk=page.pk)
            page_mark_published(page, rendered.content_hash, now=timezone.now())
            page.publishing_at = None
            page.save(update_fields=[*PAGE_STATE_FIELDS, "publishing_at", "updated_at"])
        logger.info("guest page %s published (%s)", page.pk, rendered.content_hash[:12])
    return PublishResult(
        booking_id=booking_id,
        session_id=page.session_id,
        content_hash=rendered.content_hash,
        uploaded=upload,
        invalidation_id=invalidation_id,
    )


def guest_pages_publish_bulk(
    *,
    booking_ids: Iterable[int] | None = None,
    changed_only: bool = True,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
) -> BulkResult:
    """Re-export many pages (all when `booking_ids` is None) with one CloudFront invalidation.

    `changed_only=False` uploads every page even when its bytes are unchanged; `dry_run` renders
    and counts without writing anything; `progress(n)` is called as pages are done. Each chunk
    is rendered and claimed under its rows' locks, then uploaded outside any transaction;
    uploads are recorded only once the one invalidation for all of them succeeded, so a
    failure leaves everything to redo.
    """
    result = BulkResult(dry_run=dry_run)
    pages = GuestPage.objects.order_by("pk")
    if booking_ids is not None:
        pages = pages.filter(booking_id__in=list(booking_ids))
    ids = list(pages.values_list("pk", flat=True))
    exported: list[tuple[GuestPage, str]] = []
    try:
        # S3 latency dominates an export: uploads go to a few threads, rendering stays here.
        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as uploads:
            for start in range(0, len(ids), BULK_CHUNK):
                claimed = _bulk_claim(
                    ids[start : start + BULK_CHUNK],
                    changed_only=changed_only,
                    dry_run=dry_run,
                    result=result,
                    progress=progress,
                )
                exported += [(page, rendered.content_hash) for page, rendered in claimed]
                pending = [
                    uploads.submit(page_upload, page, rendered) for page, rendered in claimed
                ]
                # A chunk is stored before the next is rendered: memory stays bounded, and the
                # first failed upload stops the export.
                for future in pending:
                    future.result()
        if dry_run:
            return result
        result.invalidation_id, result.invalidated_paths = pages_invalidate(exported)
    except BaseException:
        # Nothing is recorded as published; the claims go, so the next run redoes it all.
        GuestPage.objects.filter(pk__in=[page.pk for page, _ in exported]).update(
            publishing_at=None
        )
        raise
    result.invalidation_calls = int(result.invalidation_id is not None)
    hashes = {page.pk: content_hash for page, content_hash in exported}
    now = timezone.now()
    with transaction.atomic():
        for page in GuestPage.objects.select_for_update().filter(pk__in=hashes).order_by("pk"):
            page_mark_published(page, hashes[page.pk], now=now)
            page.publishing_at = None
            # One small UPDATE per row: cheaper than bulk_update's CASE per field.
            page.save(update_fields=[*PAGE_STATE_FIELDS, "publishing_at", "updated_at"])
    return result


def _bulk_claim(
    ids: list[int],
    *,
    changed_only: bool,
    dry_run: bool,
    result: BulkResult,
    progress: Callable[[int], object] | None,
) -> list[tuple[GuestPage, RenderedPage]]:
    """Under the chunk's row locks: render each page and claim those to upload (committed)."""
    claims: list[tuple[GuestPage, RenderedPage]] = []
    with transaction.atomic():
        pages = GuestPage.objects.filter(pk__in=ids).order_by("pk")
        pages = list(pages if dry_run else pages.select_for_update())
        bookings = bookings_operational(page.booking_id for page in pages)
        now = timezone.now()
        for page in pages:
            result.checked += 1
            booking = bookings.get(page.booking_id)
            if booking is None:
                result.missing += 1
            elif page.publishing_at is not None and page.publishing_at > now - PUBLISH_CLAIM:
                # The pipeline is publishing this page right now: its run uploads the latest.
                result.busy += 1
            else:
                before = _state(page)
                rendered = _page_render(page, booking)
                upload = not changed_only or page.published_hash != rendered.content_hash
                if upload:
                    result.published += 1
                    page.publishing_at = now
                    claims.append((page, rendered))
                else:
                    result.unchanged += 1
                if not dry_run and (upload or _state(page) != before):
                    page.save(update_fields=[*PAGE_STATE_FIELDS, "publishing_at", "updated_at"])
            if progress is not None:
                progress(1)
    return [] if dry_run else claims


def _emails_allowed(booking: OperationalBooking) -> bool:
    blocked = {source.lower() for source in settings.GUEST_EMAILS_BLOCKED_SOURCES}
    return (
        settings.GUEST_EMAILS_ENABLED
        and bool(booking.guest_email)
        and booking.source.lower() not in blocked
    )


def guest_notify(*, booking_id: int, force: bool = False, published: bool = False) -> bool:
    """Email the guest their page when what it says is news to them; True when one was sent.

    One confirmation, then one email per change of what the page says (or of the address), a
    cancellation notice when cancelled. `force` resends the current one (the admin's action).
    The page is published first, so the link in the email always works; `published` says the
    caller has just done that (the pipeline's guest stage), sparing a second render.
    """
    if not published:
        # Checked first only to spare the page's publishing; the claim checks it again.
        if not _emails_allowed(booking_operational(booking_id)):
            return False
        guest_page_publish(booking_id=booking_id)
    deadline = time.monotonic() + SEND_WAIT.total_seconds()
    while (claim := _email_claim(booking_id, force=force)) is None:
        if time.monotonic() > deadline:
            raise PageBusy(f"guest email of booking {booking_id} is being sent by another run")
        time.sleep(0.2)
    if claim is False:
        return False
    page, message, fingerprint, kind, told_facts = claim
    key = message.extra_headers["Message-ID"]
    # Outside any transaction; "sending" is on the page's row already.
    try:
        message.send()
    except Exception:
        unclaim = {"sending_key": "", "sending_at": None}
        GuestPage.objects.filter(pk=page.pk, sending_key=key).update(**unclaim)
        raise
    # One statement, on the row this run claimed: "sent", and the claim released.
    GuestPage.objects.filter(pk=page.pk, sending_key=key).update(
        emailed_hash=fingerprint,
        emailed_kind=kind,
        emailed_at=timezone.now(),
        emailed_facts=told_facts,
        sending_key="",
        sending_at=None,
        updated_at=timezone.now(),
    )
    logger.info("guest email (%s) sent for page %s", kind, page.pk)
    return True


def _email_claim(
    booking_id: int, *, force: bool
) -> tuple[GuestPage, EmailMultiAlternatives, str, str, dict] | bool | None:
    """Under the page's lock: what the guest is owed, claimed for sending before it is sent.

    None: another run is sending (wait); False: nothing to send; else (page, message,
    fingerprint, kind, the facts it tells), with "sending" committed.
    """
    with transaction.atomic():
        page = _locked_page(booking_id)
        if page.sending_at is not None and page.sending_at > timezone.now() - SEND_CLAIM:
            return None
        booking = booking_operational(booking_id)
        if not _emails_allowed(booking):
            return False
        facts = GuestFacts.of(booking)
        page_revise(page, facts)
        fingerprint = hashlib.sha256(
            f"{page.facts_hash}:{booking.guest_email.strip().lower()}".encode()
        ).hexdigest()
        told = page.emailed_hash
        if fingerprint == told and not force:
            return False
        if facts.cancelled and not told and not force:
            # Never told of the charter: a cancellation notice would only confuse.
            return False
        if facts.cancelled:
            kind = "cancelled"
        elif told and told != fingerprint and page.emailed_kind != "cancelled":
            kind = "changed"
        else:
            kind = "confirmed"
        changes = facts_changes(page.emailed_facts, facts) if kind == "changed" else []
        message = guest_email(page, facts, to=booking.guest_email, kind=kind, changes=changes)
        page.sending_key = message.extra_headers["Message-ID"]
        page.sending_at = timezone.now()
        page.save(
            update_fields=[
                "facts_hash",
                "revision",
                "revised_at",
                "sending_key",
                "sending_at",
                "updated_at",
            ]
        )
    return page, message, fingerprint, kind, facts_told(facts)
