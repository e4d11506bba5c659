"""Retrying failed stages from the booking page, the pipeline-run page and the attention board."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe

from jada import pipeline
from jada.models import StageRun, StageState
from jada.pipeline.stages import OUTSIDE_STAGES


def stage_error(stage: StageRun) -> SafeString:
    """A failed stage's error; a stage that succeeded later keeps its old error folded away."""
    if not stage.last_error:
        return mark_safe("")
    if stage.state in (StageState.FAILED, StageState.RETRYING):
        return format_html(" — {}", stage.last_error[:200])
    return format_html(
        ' <details class="earlier-error"><summary>an earlier attempt failed</summary>{}</details>',
        stage.last_error[:200],
    )


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


def _report(model_admin, request: HttpRequest, retried: int) -> None:
    if retried:
        model_admin.message_user(request, f"Re-queued {retried} failed stage(s).", messages.SUCCESS)
    else:
        model_admin.message_user(request, "No failed stage to retry.", messages.INFO)


class BookingRetryMixin:
    """`<id>/retry/` on the booking admin, and its button on the change page."""

    change_form_template = "admin/bookings/booking/change_form.html"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="bookings_booking_retry",
            ),
            *super().get_urls(),
        ]

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_change_permission(request, obj):
            raise PermissionDenied("You may not retry this booking's pipeline.")
        _report(self, request, pipeline.retry_failed(obj.pk))
        return _back(request, reverse("admin:bookings_booking_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        failed = StageRun.objects.filter(
            run__booking_id=object_id if str(object_id).isdigit() else None,
            state__in=[StageState.FAILED, StageState.RETRYING],
            stage__in=OUTSIDE_STAGES,
        ).count()
        extra_context = {**(extra_context or {}), "failed_stages": failed}
        return super().change_view(request, object_id, form_url, extra_context)


class RunRetryMixin:
    """`<id>/retry/` on the pipeline-run admin, and its button on the run's page."""

    change_form_template = "admin/jada/pipelinerun/change_form.html"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="jada_pipelinerun_retry",
            ),
            *super().get_urls(),
        ]

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_retry_permission(request):
            raise PermissionDenied("You may not retry pipeline runs.")
        _report(self, request, pipeline.run_retry_failed(obj.pk))
        return _back(request, reverse("admin:jada_pipelinerun_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        failed = StageRun.objects.filter(
            run_id=object_id if str(object_id).isdigit() else None,
            state__in=[StageState.FAILED, StageState.RETRYING],
            stage__in=OUTSIDE_STAGES,
        ).count()
        extra_context = {
            **(extra_context or {}),
            "failed_stages": failed if self.has_retry_permission(request) else 0,
        }
        return super().change_view(request, object_id, form_url, extra_context)
