"""The guests' static page: its secret id, what was published, and what the guest was told."""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models

SESSION_ID_ALPHABET = string.ascii_uppercase + string.digits
SESSION_ID_LENGTH = 12


def new_session_id() -> str:
    # 36^12 ≈ 4.7e18: unguessable for a page that holds no money and no crew contact.
    return "".join(secrets.choice(SESSION_ID_ALPHABET) for _ in range(SESSION_ID_LENGTH))


class PageState(models.TextChoices):
    PENDING = "pending", "Not published yet"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Publishing failed"


class GuestPage(models.Model):
    # A plain id, not a foreign key: there is no ORM path from guests to the booking's money.
    booking_id = models.BigIntegerField(unique=True)
    session_id = models.CharField(max_length=32, unique=True, default=new_session_id)
    # sha256 of the rendered page; `published_hash` is what the storage holds now.
    content_hash = models.CharField(max_length=64, blank=True)
    published_hash = models.CharField(max_length=64, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Fingerprint of what the page says (its facts, not its markup) and how often that changed:
    # the calendar entry's SEQUENCE, so a guest's calendar takes a changed charter as an update.
    facts_hash = models.CharField(max_length=64, blank=True)
    revision = models.PositiveIntegerField(default=0)
    # When the facts last changed: the calendar entry's DTSTAMP, the time of its version.
    revised_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=PageState.choices, default=PageState.PENDING)
    # Set while one run uploads the page outside any transaction: the others wait for it rather
    # than upload beside it (an older version could land last). A dead worker's claim expires.
    publishing_at = models.DateTimeField(null=True, blank=True)
    # Fingerprint of what the guest was last emailed, so a re-run sends nothing new.
    emailed_hash = models.CharField(max_length=64, blank=True)
    # The last email's kind: after a cancellation notice, a charter back on is confirmed anew.
    emailed_kind = models.CharField(max_length=20, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The guest email being sent (its Message-ID) and since when, recorded before the send: a
    # run after a lost worker resends it with the same Message-ID, a concurrent run waits.
    sending_key = models.CharField(max_length=200, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    # What the guest was last emailed (the page's facts), so an update can say what changed.
    emailed_facts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.session_id

    @property
    def path(self) -> str:
        """The URL path guests use; CloudFront maps it to `object_name`."""
        return f"/g/{self.session_id}"

    @property
    def object_name(self) -> str:
        return f"jada-guest-{self.session_id.lower()}.html"

    @property
    def url(self) -> str:
        return f"{settings.GUEST_SITE_URL}{self.path}"
