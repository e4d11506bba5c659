"""Intake tokens and the record of every pipeline run, one row per stage."""

from __future__ import annotations

import hashlib

from django.db import models

from bookings.models import Source


def hash_token(token: str) -> str:
    # Tokens are long random strings, so a plain SHA-256 is enough (no password stretching).
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def revoke(self) -> int:
        """Revoke the tokens of this queryset (the admin's action); returns how many were live."""
        return self.filter(revoked=False).update(revoked=True)


class TokenScope(models.TextChoices):
    READ = "read", "Read bookings"
    WRITE = "write", "Read and write bookings"


class ApiToken(models.Model):
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=5, choices=TokenScope.choices, default=TokenScope.WRITE)
    # A marketplace's token writes (and reads) only its own bookings; empty: any source.
    source = models.CharField(max_length=20, choices=Source.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return self.name


class Stage(models.TextChoices):
    # Database stages: done inside the transaction that saves the booking.
    BOOKING = "booking", "Booking record"
    CREW_EVENT = "crew_event", "Crew event"
    CHECKLIST = "checklist", "Crew checklists"
    # Outside-world stages: Celery tasks after commit, in parallel, then the summary.
    CREW_NOTIFY = "crew_notify", "Crew notifications"
    GUEST_PUBLISH = "guest_publish", "Guest page publish"
    SUMMARY = "summary", "Summary to operator"


PARALLEL_STAGES = (Stage.CREW_NOTIFY, Stage.GUEST_PUBLISH)


class StageState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # Failed for now, its next attempt scheduled (`next_attempt_at`): nothing for the operator yet.
    RETRYING = "retrying", "Retrying"
    SKIPPED = "skipped", "Skipped"


class PipelineRun(models.Model):
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.CASCADE, related_name="pipeline_runs"
    )
    reason = models.CharField(max_length=20)  # created, changed, cancelled, retry, manual
    changed = models.JSONField(default=list, blank=True)  # operational field names
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the summary stage has done, so a retry after a failed webhook sends no second email.
    summary_emailed_at = models.DateTimeField(null=True, blank=True)
    summary_posted_at = models.DateTimeField(null=True, blank=True)
    # Stage → state as the last summary email told it, so a stage that failed and then
    # recovered gets a note of its own.
    summary_states = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.reason})"

    @property
    def state(self) -> str:
        states = {s.state for s in self.stages.all()}
        if StageState.FAILED in states:
            return StageState.FAILED
        if StageState.RETRYING in states:
            return StageState.RETRYING
        if states & {StageState.PENDING, StageState.RUNNING}:
            return StageState.RUNNING if self.dispatched_at else StageState.PENDING
        return StageState.SUCCEEDED


class StageRun(models.Model):
    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="stages")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    state = models.CharField(max_length=10, choices=StageState.choices, default=StageState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    detail = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "stage"], name="stage_run_unique_stage"),
        ]
        indexes = [
            # The sweeper's and the "needs attention" filter's lookups.
            models.Index(fields=["state", "next_attempt_at"], name="stage_run_state_next"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.state}"
