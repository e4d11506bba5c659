"""Admin of the pipeline's record (read-only, with a retry action) and of the intake tokens."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from jada import pipeline
from jada.models import ApiToken, PipelineRun, StageRun, StageState


class StageRunInline(admin.TabularInline):
    model = StageRun
    extra = 0
    can_delete = False
    fields = (
        "stage",
        "state",
        "attempts",
        "detail",
        "last_error",
        "started_at",
        "finished_at",
        "duration",
        "next_attempt_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="took")
    def duration(self, obj: StageRun) -> str:
        if obj.started_at is None or obj.finished_at is None:
            return "—"
        return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"


def _with_stage(state: str) -> Exists:
    return Exists(StageRun.objects.filter(run=OuterRef("pk"), state=state))


class RunStateFilter(admin.SimpleListFilter):
    """PipelineRun.state, computed from the stage rows in the database."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            (StageState.FAILED, "Failed"),
            (StageState.PENDING, "Never dispatched"),
            (StageState.RUNNING, "In progress"),
            (StageState.SUCCEEDED, "Done"),
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        failed = _with_stage(StageState.FAILED)
        busy = _with_stage(StageState.PENDING) | _with_stage(StageState.RUNNING)
        value = self.value()
        if value == StageState.FAILED:
            return queryset.filter(failed)
        if value == StageState.PENDING:
            return queryset.filter(~failed, busy, dispatched_at__isnull=True)
        if value == StageState.RUNNING:
            return queryset.filter(~failed, busy, dispatched_at__isnull=False)
        if value == StageState.SUCCEEDED:
            return queryset.filter(~failed & ~busy)
        return queryset


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "booking_link",
        "reason",
        "run_state",
        "created_at",
        "dispatched_at",
        "finished_at",
    )
    list_filter = (RunStateFilter, "reason", "created_at")
    list_select_related = ("booking",)
    search_fields = ("booking__external_ref",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fields = (
        "booking_link",
        "reason",
        "changed",
        "created_at",
        "dispatched_at",
        "finished_at",
        "summary_emailed_at",
        "summary_posted_at",
    )
    readonly_fields = fields
    inlines = (StageRunInline,)
    actions = ("retry_failed_stages",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # `state` reads every stage row: one prefetch for the page, not one query per run.
        return super().get_queryset(request).prefetch_related("stages")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jada.change_pipelinerun")

    @admin.display(description="booking", ordering="booking")
    def booking_link(self, obj: PipelineRun) -> str:
        url = reverse("admin:bookings_booking_change", args=[obj.booking_id])
        return format_html('<a href="{}">{}</a>', url, obj.booking)

    @admin.display(description="state")
    def run_state(self, obj: PipelineRun) -> str:
        return obj.state

    @admin.action(description="Retry failed stages", permissions=["retry"])
    def retry_failed_stages(self, request: HttpRequest, queryset: QuerySet) -> None:
        retried = sum(pipeline.run_retry_failed(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Re-queued {retried} failed stage(s).", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("name",)
    fields = ("name", "token_hash", "created_at", "last_used_at", "revoked")
    readonly_fields = fields
    actions = ("revoke",)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "subtitle": "New tokens: manage.py create_api_token NAME (shown once; only a hash "
            "is kept).",
        }
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # `manage.py create_api_token NAME` prints the token once

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jada.change_apitoken")

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        revoked = queryset.revoke()
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)
