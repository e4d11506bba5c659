"""Crew admin: the roster, checklist templates, each charter's crew (changed via the pipeline)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from bookings.formatting import (
    OPERATIONAL_LABELS,
    HoursField,
    minutes_text,
    when_text,
    zone_name,
)
from crew import dispatch, selectors, services
from crew.availability import event_availability_warnings
from crew.dispatch_admin import CrewEventForm, DispatchAdminMixin
from crew.fill import Fill, fill_annotations
from crew.models import (
    Assignment,
    AssignmentState,
    ChecklistTemplate,
    CrewEvent,
    CrewMember,
    Role,
)


class CrewMemberForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = CrewMember
        fields = ("code", "name", "email", "phone", "roles", "active")


@admin.register(CrewMember)
class CrewMemberAdmin(admin.ModelAdmin):
    form = CrewMemberForm
    list_display = ("code", "name", "email", "phone", "roles_text", "active")
    list_filter = ("active",)
    search_fields = ("code", "name", "email")
    readonly_fields = ("feed_path",)
    actions = ["regenerate_feed_token", "revoke_links"]

    @admin.display(description="roles")
    def roles_text(self, obj: CrewMember) -> str:
        labels = dict(Role.choices)
        return ", ".join(str(labels.get(r, r)) for r in obj.roles)

    @admin.display(description="calendar feed")
    def feed_path(self, obj: CrewMember) -> str:
        if not obj.pk:
            return "-"
        url = f"{settings.SITE_URL}{reverse('crew-feed', args=[obj.feed_token])}"
        return format_html(
            "{}<br>Secret: the member sees it in their portal. Regenerate it to revoke it.", url
        )

    def save_model(self, request, obj, form, change):
        if not change:
            # Crew sign in only by magic link: their user has no usable password.
            obj.user = services.crew_user_create(code=obj.code, email=obj.email)
        # Through the service: a new address or a change of `active` revokes links and sessions.
        services.crew_member_save(member=obj)
        if change and "active" in form.changed_data and not obj.active:
            events = services.member_upcoming_events(obj)
            opened = dispatch.member_deactivated(member=obj, by=request.user, via="admin")
            if events:
                # Deactivating stops their emails and links; the charters still need a crew.
                listed = "; ".join(f"{e.title}, {when_text(e.starts_at)}" for e in events)
                self.message_user(
                    request,
                    f"{obj.name} is still assigned to {len(events)} upcoming charter(s), and "
                    f"gets no more emails: replace them on each. {listed}. "
                    f"{len(opened)} open slot(s) now wait for a replacement.",
                    messages.WARNING,
                )

    @admin.action(description="Regenerate calendar feed URL (the old one stops working)")
    def regenerate_feed_token(self, request: HttpRequest, queryset) -> None:
        for member in queryset:
            services.member_feed_token_regenerate(member=member)
        self.message_user(request, f"New calendar feed URLs for {queryset.count()} member(s).")

    @admin.action(description="Revoke every magic link sent so far")
    def revoke_links(self, request: HttpRequest, queryset) -> None:
        for member in queryset.select_related("user"):
            services.member_links_revoke(member=member)
        self.message_user(request, f"Links revoked for {queryset.count()} member(s).")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ("text", "role", "position", "active")
    list_editable = ("role", "position", "active")
    list_filter = ("role", "active")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        count = services.checklists_resync()
        self.message_user(request, f"Checklists of {count} upcoming charter(s) brought up to date.")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.checklists_resync()

    def delete_queryset(self, request, queryset):
        # The changelist's "delete selected" skips delete_model.
        super().delete_queryset(request, queryset)
        services.checklists_resync()


class AssignmentForm(forms.ModelForm):
    # Typed in hours, as the booking form's charter length and crew rows are; two days at most
    # (a longer shift is a slip of the keyboard).
    shift_minutes = HoursField(what="shift", longest=48 * 60, label="Shift (hours)")

    class Meta:
        model = Assignment
        fields = ("member", "role", "call_at", "shift_minutes")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The booking form's and the audit log's word for it ("call time").
        self.fields["call_at"].label = "Call time"
        self.fields["call_at"].help_text = f"In {zone_name()}."
        if self.instance.pk:
            # Another member is another assignment: remove this row and add one instead.
            member = self.fields["member"]
            member.queryset = CrewMember.objects.filter(pk=self.instance.member_id)
            member.disabled = True

    def validate_unique(self) -> None:
        # A removed assignment of the same member may exist; the plan re-activates it. Duplicates
        # within the form are still caught by the formset.
        return


class AssignmentInline(admin.TabularInline):
    model = Assignment
    form = AssignmentForm
    extra = 1
    fields = (
        "member",
        "role",
        "call_at",
        "shift_minutes",
        "answer",
        "checklist",
        "told",
    )
    readonly_fields = ("answer", "checklist", "told")
    can_delete = True

    def get_queryset(self, request):
        live = Q(checklist_items__obsolete=False)
        return (
            super()
            .get_queryset(request)
            .filter(removed_at__isnull=True)
            .select_related("member")
            .annotate(
                items_total=Count("checklist_items", filter=live),
                items_done=Count(
                    "checklist_items", filter=live & Q(checklist_items__done_at__isnull=False)
                ),
            )
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "member":
            kwargs["queryset"] = CrewMember.objects.filter(active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="answer")
    def answer(self, obj: Assignment) -> str:
        if not obj.pk:
            return "-"
        text = obj.get_state_display()
        if obj.state == AssignmentState.DECLINED and obj.decline_reason:
            text = f"{text}: {obj.decline_reason}"
        if obj.responded_at:
            text = f"{text} ({when_text(obj.responded_at)})"
        return text

    @admin.display(description="checklist")
    def checklist(self, obj: Assignment) -> str:
        if not obj.pk:
            return "-"
        return f"{getattr(obj, 'items_done', 0)}/{getattr(obj, 'items_total', 0)}"

    @admin.display(description="told")
    def told(self, obj: Assignment) -> str:
        if not obj.pk or not obj.notified_version:
            return "not yet"
        return f"version {obj.notified_version}"


EVENT_FIELDS = (
    "title",
    "booking_id",
    "status",
    "starts_local",
    "charter_length",
    "dock_name",
    "dock_address",
    "dock_directions",
    "dock_map_url",
    "guests",
    "crew_notes",
    "version",
)


@admin.register(CrewEvent)
class CrewEventAdmin(DispatchAdminMixin, admin.ModelAdmin):
    form = CrewEventForm
    list_display = ("title", "starts_local", "status", "version", "crew_fill", "checklist_fill")
    list_filter = ("status",)
    search_fields = ("title",)
    date_hierarchy = "starts_at"
    inlines = [AssignmentInline]
    fields = (
        *EVENT_FIELDS,
        "crew_fill",
        "open_slots",
        "auto_offer",
        "add_slot",
        "offer_again",
        "withdraw_slots",
        "ticked",
        "overlaps",
        "unavailable",
        "removed",
    )
    readonly_fields = (
        *EVENT_FIELDS,
        "crew_fill",
        "open_slots",
        "ticked",
        "overlaps",
        "unavailable",
        "removed",
    )

    def get_queryset(self, request):
        active = Q(assignments__removed_at__isnull=True)
        live = active & Q(assignments__checklist_items__obsolete=False)
        return (
            super()
            .get_queryset(request)
            .annotate(
                assigned=Count("assignments", filter=active, distinct=True),
                accepted=Count(
                    "assignments",
                    filter=active & Q(assignments__state=AssignmentState.ACCEPTED),
                    distinct=True,
                ),
                **fill_annotations(),
                items_total=Count("assignments__checklist_items", filter=live, distinct=True),
                items_done=Count(
                    "assignments__checklist_items",
                    filter=live & Q(assignments__checklist_items__done_at__isnull=False),
                    distinct=True,
                ),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # crew events come from bookings

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    # The operator's zone is named wherever a time is shown, the read-only page included.
    @admin.display(description=OPERATIONAL_LABELS["starts_at"], ordering="starts_at")
    def starts_local(self, obj: CrewEvent) -> str:
        return when_text(obj.starts_at)

    @admin.display(description=OPERATIONAL_LABELS["duration_minutes"])
    def charter_length(self, obj: CrewEvent) -> str:
        return minutes_text(obj.duration_minutes)

    @admin.display(description=OPERATIONAL_LABELS["guest_count"])
    def guests(self, obj: CrewEvent) -> int:
        return obj.guest_count

    @admin.display(description=OPERATIONAL_LABELS["notes"])
    def crew_notes(self, obj: CrewEvent) -> str:
        return obj.notes

    @admin.display(description="crew")
    def crew_fill(self, obj: CrewEvent) -> str:
        return Fill(
            accepted=obj.fill_accepted,
            awaiting=obj.fill_awaiting,
            declined=obj.fill_declined,
            open=obj.fill_open or 0,
            captain_accepted=bool(obj.fill_captains),
        ).html()

    @admin.display(description="checklist")
    def checklist_fill(self, obj: CrewEvent) -> str:
        return f"{obj.items_done}/{obj.items_total}"

    @admin.display(description="checklist ticks")
    def ticked(self, obj: CrewEvent) -> str:
        """Who ticked what, and when: the operator's view of the `checklist` stage."""
        items = selectors.event_ticks(obj) if obj.pk else []
        if not items:
            return "none yet"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} ({}): {}, {}</li>",
                (
                    (
                        i.assignment.member.name,
                        i.assignment.member.code,
                        i.text,
                        when_text(i.done_at),
                    )
                    for i in items
                ),
            ),
        )

    @admin.display(description="overlap warnings")
    def overlaps(self, obj: CrewEvent) -> str:
        warnings = selectors.event_overlap_warnings(obj) if obj.pk else []
        if not warnings:
            return "none"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((w,) for w in warnings))
        )

    @admin.display(description="removed from this charter")
    def removed(self, obj: CrewEvent) -> str:
        gone = obj.assignments.filter(removed_at__isnull=False).select_related("member")
        if not gone:
            return "none"
        return ", ".join(f"{a.member} ({when_text(a.removed_at)})" for a in gone)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Assignment:
            return super().save_formset(request, form, formset, change)
        # The admin's log reads these after saving; the pipeline does the writing.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not formset.has_changed():
            return None
        deleted = set(formset.deleted_forms)
        plan = [
            services.PlannedAssignment(
                member_code=f.cleaned_data["member"].code,
                role=f.cleaned_data["role"],
                shift_minutes=f.cleaned_data["shift_minutes"],
                call_at=f.cleaned_data["call_at"],
            )
            for f in formset.forms
            if f not in deleted and f.cleaned_data.get("member") is not None
        ]
        self.crew_plan_apply(event=form.instance, plan=plan, by=request.user)
        return None

    def crew_plan_apply(
        self, *, event: CrewEvent, plan: list[services.PlannedAssignment], by: AbstractBaseUser
    ) -> None:
        """Apply the edited assignments: the pipeline's subclass of this admin does it."""
        # The pipeline applies a plan and tells the crew; crew code never reaches the pipeline.
        raise NotImplementedError("register the pipeline's CrewEventAdmin")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for warning in event_availability_warnings(form.instance):
            messages.warning(request, f"Unavailable: {warning}")
        for warning in selectors.event_overlap_warnings(form.instance):
            messages.warning(request, f"Overlap: {warning}")
