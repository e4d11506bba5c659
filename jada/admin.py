"""Admin of the pipeline's record, of the intake tokens, and the pipeline's part of other admins."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from bookings.admin import ZONE_NAME, BookingAdmin, DockAdmin
from bookings.admin_records import ReadOnlyAdmin
from bookings.audit_format import field_labels
from bookings.formatting import seconds_text, stamp_text
from bookings.forms import BookingForm, BookingMoneyForm
from bookings.models import Booking, Dock
from bookings.services import UpsertResult
from crew.admin import CrewEventAdmin
from crew.availability import availability_warnings
from crew.models import CrewEvent
from crew.selectors import overlap_warnings
from crew.services import PlannedAssignment
from jada import admin_crew, pipeline
from jada.admin_board import BookingRetryMixin, RunRetryMixin, stage_error
from jada.admin_guard import BookingGuardMixin, CrewEventGuardMixin
from jada.admin_import import BookingImportMixin
from jada.models import ApiToken, PipelineRun, StageRun, StageState
from jada.services import (
    DOCK_SHOWN_FIELDS,
    booking_save,
    crew_dispatch_audited,
    crew_event_plan_apply,
    dock_bookings_refresh,
)

T = TypeVar("T")


class StageRunInline(admin.TabularInline):
    model = StageRun
    extra = 0
    can_delete = False
    fields = (
        "stage",
        "state",
        "attempts",
        "detail",
        "error",
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

    @admin.display(description="error")
    def error(self, obj: StageRun) -> str:
        return stage_error(obj) or "—"

    @admin.display(description="took")
    def duration(self, obj: StageRun) -> str:
        if obj.started_at is None or obj.finished_at is None:
            return "—"
        return seconds_text((obj.finished_at - obj.started_at).total_seconds())


def _with_stage(state: str) -> Exists:
    return Exists(StageRun.objects.filter(run=OuterRef("pk"), state=state))


class RunStateFilter(admin.SimpleListFilter):
    """PipelineRun.state, computed from the stage rows in the database."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            (StageState.FAILED, "Failed"),
            (StageState.RETRYING, "Retrying"),
            (StageState.PENDING, "Never dispatched"),
            (StageState.RUNNING, "In progress"),
            (StageState.SUCCEEDED, "Done"),
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        failed = _with_stage(StageState.FAILED)
        retrying = _with_stage(StageState.RETRYING)
        busy = _with_stage(StageState.PENDING) | _with_stage(StageState.RUNNING) | retrying
        value = self.value()
        if value == StageState.FAILED:
            return queryset.filter(failed)
        if value == StageState.RETRYING:
            return queryset.filter(~failed, retrying)
        if value == StageState.PENDING:
            return queryset.filter(~failed, busy, dispatched_at__isnull=True)
        if value == StageState.RUNNING:
            return queryset.filter(~failed, busy, dispatched_at__isnull=False)
        if value == StageState.SUCCEEDED:
            return queryset.filter(~failed & ~busy)
        return queryset


@admin.register(PipelineRun)
class PipelineRunAdmin(ReadOnlyAdmin, RunRetryMixin, admin.ModelAdmin):
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
        "changed_labels",
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

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jada.change_pipelinerun")

    @admin.display(description="booking", ordering="booking")
    def booking_link(self, obj: PipelineRun) -> str:
        url = reverse("admin:bookings_booking_change", args=[obj.booking_id])
        return format_html('<a href="{}">{}</a>', url, obj.booking)

    @admin.display(description="state")
    def run_state(self, obj: PipelineRun) -> str:
        return obj.state

    @admin.display(description="changed")
    def changed_labels(self, obj: PipelineRun) -> str:
        return field_labels(obj.changed) or "—"

    @admin.action(description="Retry failed stages", permissions=["retry"])
    def retry_failed_stages(self, request: HttpRequest, queryset: QuerySet) -> None:
        retried = sum(pipeline.run_retry_failed(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Re-queued {retried} failed stage(s).", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "scope", "source", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked", "scope", "source")
    search_fields = ("name",)
    fields = ("name", "scope", "source", "token_hash", "created_at", "last_used_at", "revoked")
    readonly_fields = fields
    actions = ("revoke",)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "subtitle": "New tokens: manage.py create_api_token NAME [--scope read|write] "
            "[--source SOURCE] (shown once; only a hash is kept).",
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


# --- The pipeline's pieces of other apps' admins ---------------------------------------------
# Bookings, crew and guests do not reach the pipeline; their admins are registered again here,
# subclassed with what the pipeline adds: its start on every save, its state and retry.


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Bookings with a failed pipeline stage in any run."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "A pipeline stage failed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(pk__in=pipeline.needs_attention_booking_ids())
        return queryset


class PipelineBookingAdmin(BookingImportMixin, BookingRetryMixin, BookingGuardMixin, BookingAdmin):
    """The booking admin with the pipeline: started on save, shown, retried."""

    list_filter = (*BookingAdmin.list_filter, NeedsAttentionFilter)
    actions = (*BookingAdmin.actions, "retry_failed_stages")

    def booking_write(self, **kwargs: Any) -> UpsertResult:
        return booking_save(**kwargs)

    def linked_fieldsets(self, request: HttpRequest, obj: Booking) -> list[tuple[str, dict]]:
        return [("Pipeline", {"fields": ["places", "pipeline_runs"]})]

    def crew_fill(self, booking_ids: list[int]) -> dict[int, str]:
        return pipeline.crew_fill(booking_ids)

    # --- the crew, assigned on the booking form itself ---

    def get_form(self, request: HttpRequest, obj: Booking | None = None, **kwargs: Any):
        base = BookingMoneyForm if self._money_editable(request, obj) else BookingForm
        kwargs["form"] = type(f"Crew{base.__name__}", (admin_crew.CrewRowsForm, base), {})
        return admin.ModelAdmin.get_form(self, request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Booking | None = None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None or admin_crew.crew_rows(obj.pk) is not None:
            # After the charter's own fields.
            at = next(i for i, (name, _) in enumerate(fieldsets) if name == "Charter") + 1
            fieldsets.insert(at, admin_crew.crew_fieldset())
        return fieldsets

    def save_model(self, request: HttpRequest, obj: Booking, form, change: bool) -> None:
        plan = form.crew_plan()
        result = form.submit(by=request.user, write=partial(booking_save, plan=plan))
        obj.pk = result.booking.pk
        obj._state.adding = False
        self.booking_saved(request, result)
        if plan is not None:
            for warning in overlap_warnings(booking_id=obj.pk):
                messages.warning(request, f"Overlap: {warning}")
            for warning in availability_warnings(booking_id=obj.pk):
                messages.warning(request, f"Unavailable: {warning}")

    @admin.display(description="crew and guest page")
    def places(self, obj: Booking) -> str:
        found = pipeline.booking_places(obj.pk)
        if not found:
            return "None yet."
        fill = pipeline.crew_fill([obj.pk]).get(obj.pk)
        return format_html(
            "<ul>{}{}</ul>",
            format_html("<li>Crew: {}</li>", fill.html()) if fill is not None else "",
            format_html_join("", '<li><a href="{}">{}</a></li>', ((u, t) for t, u in found)),
        )

    @admin.display(description="pipeline runs")
    def pipeline_runs(self, obj: Booking) -> str:
        runs = pipeline.runs_for_booking(obj.pk)
        if not runs:
            return "No pipeline run yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    stamp_text(run.created_at),
                    (
                        f"{run.reason}: {field_labels(run.changed)}"
                        if run.changed and run.reason != "created"
                        else run.reason
                    ),
                    run.state,
                    format_html_join(
                        "",
                        '<div class="stage stage-{}">{}: <strong>{}</strong>{}{}</div>',
                        (
                            (
                                stage.state,
                                stage.get_stage_display(),
                                stage.get_state_display(),
                                f" (attempts {stage.attempts})" if stage.attempts else "",
                                stage_error(stage),
                            )
                            for stage in run.stages.all()
                        ),
                    ),
                )
                for run in runs
            ),
        )
        return format_html(
            "<table><thead><tr><th>started ({})</th><th>reason</th><th>state</th>"
            "<th>stages</th></tr></thead><tbody>{}</tbody></table>",
            ZONE_NAME,
            rows,
        )

    @admin.action(description="Retry failed pipeline stages", permissions=["change"])
    def retry_failed_stages(self, request: HttpRequest, queryset: QuerySet) -> None:
        retried = sum(pipeline.retry_failed(pk) for pk in queryset.values_list("pk", flat=True))
        if retried:
            self.message_user(request, f"Re-queued {retried} failed stage(s).", messages.SUCCESS)
        else:
            self.message_user(request, "No failed stage to retry.", messages.INFO)


class PipelineDockAdmin(DockAdmin):
    """The dock admin: an edit of what crew and guests see tells those of upcoming charters."""

    def save_model(self, request: HttpRequest, obj: Dock, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and DOCK_SHOWN_FIELDS & set(form.changed_data):
            count = dock_bookings_refresh(dock=obj)
            if count:
                self.message_user(
                    request, f"Crew and guests of {count} upcoming charter(s) will be told."
                )


class PipelineCrewEventAdmin(CrewEventGuardMixin, CrewEventAdmin):
    """The crew event admin: edited assignments go through the pipeline, which tells the crew."""

    def crew_plan_apply(
        self, *, event: CrewEvent, plan: list[PlannedAssignment], by: AbstractBaseUser
    ) -> None:
        crew_event_plan_apply(booking_id=event.booking_id, plan=plan, by=by, via="admin")

    def dispatch_change(self, request: HttpRequest, event: CrewEvent, change: Callable[[], T]) -> T:
        return crew_dispatch_audited(
            booking_id=event.booking_id, change=change, by=request.user, via="admin"
        )


for model, model_admin in (
    (Booking, PipelineBookingAdmin),
    (Dock, PipelineDockAdmin),
    (CrewEvent, PipelineCrewEventAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
