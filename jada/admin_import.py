""" "Import CSV" on the bookings list: upload, a dry-run preview, then the import.

Both steps run `manage.py import_bookings` itself (the same validation, upsert and per-row
report); the preview with `--dry-run`, which writes nothing. The file travels from the preview to
the import inside the form, so what is imported is exactly what was previewed.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

MAX_BYTES = 2 * 1024 * 1024
LINE = re.compile(r"^row (\d+): (created|updated|unchanged|rejected)\b")


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="A marketplace export, UTF-8, at most 2 MB.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB: split it and import each.")
        return upload


@dataclass(frozen=True)
class ReportLine:
    text: str
    outcome: str  # created, updated, unchanged, rejected; "" for notes and the summary


@dataclass(frozen=True)
class Report:
    lines: list[ReportLine]
    error: str  # the command's failure line ("3 of 7 rows rejected."), if any

    @property
    def importable(self) -> bool:
        return any(line.outcome and line.outcome != "rejected" for line in self.lines)


def _safe_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)[:100].lstrip(".")
    return stem or "upload.csv"


def run_import(*, content: bytes, filename: str, username: str, dry_run: bool) -> Report:
    """Run `import_bookings` on the uploaded bytes, under the file's own name; its report."""
    out, err = io.StringIO(), io.StringIO()
    error = ""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / _safe_name(filename)
        target.write_bytes(content)
        args = [str(target), "--user", username, "--verbosity", "0"]
        try:
            call_command("import_bookings", *args, dry_run=dry_run, stdout=out, stderr=err)
        except CommandError as e:
            error = str(e).replace(str(target), target.name)
    lines = []
    for text in out.getvalue().splitlines():
        match = LINE.match(text)
        lines.append(ReportLine(text=text, outcome=match.group(2) if match else ""))
    return Report(lines=lines, error=error)


class BookingImportMixin:
    """The bookings admin's "Import CSV" (holders of change_financials only)."""

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="bookings_booking_import",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {**(extra_context or {}), "can_import": self.may_import(request)}
        return super().changelist_view(request, extra_context)

    def may_import(self, request: HttpRequest) -> bool:
        user = request.user
        return user.has_perm("bookings.change_financials") and user.has_perm(
            "bookings.view_financials"
        )

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.may_import(request):
            raise PermissionDenied(
                "You may not import bookings: it needs the permission to change financials."
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import bookings from CSV",
        }
        form = UploadForm()
        username = request.user.get_username()
        if request.method == "POST" and "content" in request.POST:
            # "Import": the previewed file, carried in the form.
            try:
                content = base64.b64decode(request.POST["content"], validate=True)
            except (binascii.Error, ValueError):
                content = b""
            filename = _safe_name(request.POST.get("filename", "upload.csv"))
            if content and len(content) <= MAX_BYTES:
                report = run_import(
                    content=content, filename=filename, username=username, dry_run=False
                )
                context.update(report=report, filename=filename, done=True)
                return TemplateResponse(request, "admin/bookings/booking/import.html", context)
            form.add_error(None, "The previewed file was lost: upload it again.")
        elif request.method == "POST":
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                content = upload.read()
                filename = _safe_name(upload.name)
                report = run_import(
                    content=content, filename=filename, username=username, dry_run=True
                )
                context.update(
                    report=report,
                    filename=filename,
                    preview=True,
                    content=base64.b64encode(content).decode(),
                )
        context["form"] = form
        return TemplateResponse(request, "admin/bookings/booking/import.html", context)
