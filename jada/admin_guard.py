"""Guard rails of the booking admin: a word before an irreversible save, and a true message after.

Before saving, a charter whose start has passed (nothing will be sent) and a cancellation (who
will be told) go through a confirmation page that re-posts the form as it was. After saving, the
message waits for the commit: when a stage that ran in the same request (eager mode) failed, the
operator reads a warning naming the stage, not "added successfully".
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from bookings.formatting import when_text
from bookings.models import Booking, Status
from bookings.services import OPERATIONAL_FIELDS
from crew.models import Assignment
from jada.celery import app as celery_app
from jada.models import StageRun, StageState
from jada.services import BookingSaved, charter_has_passed, past_charter_warning

CONFIRM_FIELD = "_confirmed"
FAILING = (StageState.FAILED, StageState.RETRYING)


def crew_to_tell(booking_id: int) -> list[str]:
    """Names of the crew on the charter now (active assignments), with their role."""
    rows = (
        Assignment.objects.filter(event__booking_id=booking_id, removed_at__isnull=True)
        .select_related("member")
        .order_by("member__name")
    )
    return [f"{a.member.name} ({a.get_role_display().lower()})" for a in rows]


def guest_to_tell(booking: Booking) -> str:
    if not booking.guest_email:
        return f"{booking.guest_name} (no email on file: only the guest page changes)"
    return f"{booking.guest_name} <{booking.guest_email}>"


def _echoed(name: str, fields: Any) -> bool:
    """Whether a posted name goes back with the confirmation: only what the form takes."""
    # Split widgets post `starts_at_0`, inline formsets `prefix-0-field`, buttons `_save`.
    return (
        name in fields
        or name.rsplit("_", 1)[0] in fields
        or "-" in name
        or (name.startswith("_") and name != CONFIRM_FIELD)
    )


class BookingGuardMixin:
    """Mixed into the pipeline's BookingAdmin (`jada.admin`)."""

    confirm_template = "admin/bookings/booking/confirm_save.html"

    # --- before saving ------------------------------------------------------------------------

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if request.method == "POST" and CONFIRM_FIELD not in request.POST:
            page = self._confirmation(request, object_id)
            if page is not None:
                return page
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _confirmation(self, request: HttpRequest, object_id: str | None) -> HttpResponse | None:
        """The confirmation page, when this save needs one; None to go ahead."""
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if object_id and (obj is None or not self.has_change_permission(request, obj)):
            return None  # the admin's own flow answers (404 or 403)
        if obj is None and not self.has_add_permission(request):
            return None
        before = {name: getattr(obj, name) for name in OPERATIONAL_FIELDS} if obj else {}
        before_status = obj.status if obj else None
        form_class = self.get_form(request, obj, change=obj is not None)
        form = form_class(request.POST, request.FILES, instance=obj)
        if not form.is_valid():
            return None  # the form shows its errors; nothing is saved
        starts_at = form.instance.starts_at
        operational_change = obj is None or any(
            getattr(form.instance, name) != before[name] for name in OPERATIONAL_FIELDS
        )
        context: dict[str, Any] = {}
        if charter_has_passed(starts_at) and operational_change:
            context["past"] = past_charter_warning(starts_at)
        elif (
            obj is not None
            and before_status == Status.CONFIRMED
            and form.instance.status == Status.CANCELLED
        ):
            context["cancel"] = {"crew": crew_to_tell(obj.pk), "guest": guest_to_tell(obj)}
        if not context:
            return None
        hidden = [
            (name, value)
            for name, values in request.POST.lists()
            if _echoed(name, form.fields)
            for value in values
        ]
        return TemplateResponse(
            request,
            self.confirm_template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Cancel this charter?"
                if "cancel" in context
                else "Record a past charter?",
                "booking": obj,
                "booking_label": str(obj) if obj else f"{form.instance}",
                "hidden": hidden,
                "confirm_field": CONFIRM_FIELD,
                **context,
            },
        )

    # --- after saving -------------------------------------------------------------------------

    def booking_saved(self, request: HttpRequest, result: BookingSaved) -> None:
        """After the save (in its transaction): its warnings, and the message made truthful."""
        shown = [*result.warnings]
        if request.user.has_perm("bookings.view_financials"):
            shown += result.money_warnings
        for warning in shown:
            super().message_user(request, warning, messages.WARNING)
        if result.run is not None and celery_app.conf.task_always_eager:
            # The stages run in this request, when it commits: the message waits for them.
            request._jada_deferred = []  # type: ignore[attr-defined]
            # Registered after the pipeline's dispatch, so it runs once the stages are done.
            transaction.on_commit(partial(self._after_commit, request, result))

    def message_user(self, request: HttpRequest, message: Any, *args: Any, **kwargs: Any) -> None:
        deferred = getattr(request, "_jada_deferred", None)
        if deferred is not None:
            deferred.append((message, args, kwargs))
            return
        super().message_user(request, message, *args, **kwargs)

    def _after_commit(self, request: HttpRequest, result: BookingSaved) -> None:
        deferred = request.__dict__.pop("_jada_deferred", [])
        failed = list(StageRun.objects.filter(run=result.run, state__in=FAILING).order_by("pk"))
        for message, args, kwargs in deferred:
            if failed:
                continue  # "saved successfully" would hide the failure
            super().message_user(request, message, *args, **kwargs)
        for stage in failed:
            super().message_user(
                request,
                format_html(
                    "The booking “{}” was saved, but the stage “{}” failed ({}). It is retried "
                    "automatically; “Retry failed stages” on the booking page retries it now.",
                    result.booking,
                    stage.get_stage_display(),
                    stage.last_error[:200],
                ),
                messages.WARNING,
            )


ASSIGNMENTS_PREFIX = "assignments"  # the inline formset's default prefix (related name)
SHORT_NOTICE = timedelta(hours=48)


def removed_assignments(post: Any, event_id: int) -> list[Assignment]:
    """Active assignments this crew-event form removes: rows deleted or given another member."""
    current = {
        a.pk: a
        for a in Assignment.objects.filter(event_id=event_id, removed_at__isnull=True)
        .select_related("member")
        .order_by("member__name")
    }
    try:
        total = int(post.get(f"{ASSIGNMENTS_PREFIX}-TOTAL_FORMS", 0))
    except ValueError:
        return []
    kept: set[int] = set()
    for i in range(min(total, 1000)):
        row = f"{ASSIGNMENTS_PREFIX}-{i}-"
        pk = post.get(f"{row}id", "")
        if not pk.isdigit() or int(pk) not in current:
            continue
        same_member = post.get(f"{row}member", "") == str(current[int(pk)].member_id)
        if not post.get(f"{row}DELETE") and same_member:
            kept.add(int(pk))
    return [a for pk, a in current.items() if pk not in kept]


class CrewEventGuardMixin:
    """Mixed into the pipeline's CrewEventAdmin: removing crew close to the charter asks first."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if request.method == "POST" and object_id and CONFIRM_FIELD not in request.POST:
            event = self.get_object(request, unquote(object_id))
            now = timezone.now()
            if (
                event is not None
                and self.has_change_permission(request, event)
                and now < event.starts_at < now + SHORT_NOTICE
            ):
                removed = removed_assignments(request.POST, event.pk)
                if removed:
                    return self._confirm_removal(request, event, removed)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _confirm_removal(self, request: HttpRequest, event: Any, removed: list) -> HttpResponse:
        hidden = [
            (name, value)
            for name, values in request.POST.lists()
            if name != "csrfmiddlewaretoken" and name != CONFIRM_FIELD
            for value in values
        ]
        return TemplateResponse(
            request,
            BookingGuardMixin.confirm_template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Remove crew from a charter less than 48 hours away?",
                "booking_label": str(event),
                "starts": when_text(event.starts_at),
                "crew_removed": [
                    f"{a.member.name} ({a.get_role_display().lower()})" for a in removed
                ],
                "hidden": hidden,
                "confirm_field": CONFIRM_FIELD,
            },
        )
