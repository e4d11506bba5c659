"""`manage.py import_bookings FILE.csv [--dry-run]`: marketplace exports, through the intake."""

from __future__ import annotations

import csv
import sys
import unicodedata
from argparse import RawDescriptionHelpFormatter
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
)
from django.db import transaction
from tqdm import tqdm

from jada.importing import intake_many
from jada.intake import IntakeRejected, IntakeResult

REQUIRED_COLUMNS = (
    "source",
    "external_ref",
    "duration_hours",
    "gross_revenue",
    "crew_cost",
    "captain_cost",
    "port_fee_percent",
    "guest_name",
    "guest_count",
    "location",
)
OPTIONAL_COLUMNS = (
    "event_type",
    "charter_date",
    "start_time",
    "starts_at",
    "net_revenue",
    "guest_email",
    "guest_phone",
    "captain_id",
    "crew",
    "notes",
    "status",
    "vessel",
)
GUEST_COLUMNS = {"guest_name": "name", "guest_email": "email", "guest_phone": "phone"}
# Payload field → CSV column, to name the column in a rejected row's reason.
PAYLOAD_TO_COLUMN = {f"guest.{key}": column for column, key in GUEST_COLUMNS.items()} | {
    "guest.count": "guest_count"
}

HELP = """\
Import bookings from a CSV file (a marketplace export) with the same validation and upsert on
(source, external_ref) as POST /api/bookings. A rejected row writes nothing, the others are still
imported: new bookings in batches of 500 (one transaction each), bookings on file one by one.

Columns (header row required, any order, UTF-8; unknown columns are ignored with a note):
  required: source, external_ref, duration_hours, gross_revenue, crew_cost, captain_cost,
            port_fee_percent, guest_name, guest_count, location
  start:    charter_date (YYYY-MM-DD) and start_time (HH:MM, operator's zone),
            or starts_at (ISO 8601 with offset)
  optional: event_type, net_revenue (checked against the computed one), guest_email,
            guest_phone, captain_id, crew, notes, status (confirmed or cancelled),
            vessel (a code; blank: the booking's own, or the default vessel)
  crew:     semicolon-separated CREW_ID:ROLE[:HOURS], e.g. "CREW_001:deckhand:5;CREW_002:deckhand:5"
A blank cell is the same as leaving the field out of the JSON. With a captain_id or crew column,
the row's crew replaces the booking's; without either, assignments are left as they are.

Rows are numbered as in a spreadsheet (the header is row 1). Each row is reported as created,
updated, unchanged or rejected (with the reason), then a summary; a row naming a booking that an
earlier row named says so. Exit status: 0 when every row was imported; 1 when the file cannot be
read, misses a required column, or any row was rejected.
--dry-run reports the same but writes nothing (a new booking's number is the one it would get).
"""


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, str]


def parse_crew(cell: str) -> list[Any]:
    """ "CREW_001:deckhand:5;CREW_002:deckhand" → the JSON crew_assignments list."""
    entries: list[Any] = []
    for part in cell.split(";"):
        part = part.strip()
        if not part:
            continue
        pieces = [p.strip() for p in part.split(":")]
        if len(pieces) not in (2, 3):
            # Left as text: the intake reports "Expected an object." under this entry's index.
            entries.append(part)
            continue
        entry = {"crew_id": pieces[0], "role": pieces[1]}
        if len(pieces) == 3 and pieces[2]:
            entry["duration_hours"] = pieces[2]
        entries.append(entry)
    return entries


def row_payload(values: dict[str, str], columns: set[str]) -> dict[str, Any]:
    """A CSV row as the JSON payload the API takes; blank cells are left out."""
    cells = {k: (v or "").strip() for k, v in values.items() if k in columns}
    payload: dict[str, Any] = {}
    guest: dict[str, Any] = {}
    for column, value in cells.items():
        if not value or column in ("crew", "captain_id"):
            continue
        if column in GUEST_COLUMNS:
            guest[GUEST_COLUMNS[column]] = value
        elif column == "guest_count":
            guest["count"] = int(value) if value.isascii() and value.isdigit() else value
        else:
            payload[column] = value
    if guest:
        payload["guest"] = guest
    if "captain_id" in columns or "crew" in columns:
        if cells.get("captain_id"):
            payload["captain_id"] = cells["captain_id"]
        payload["crew_assignments"] = parse_crew(cells.get("crew", ""))
    return payload


def describe(errors: dict[str, list[str]]) -> str:
    parts = []
    for field, messages in errors.items():
        name = PAYLOAD_TO_COLUMN.get(field, field)
        if name.startswith("crew_assignments."):
            index = name.split(".")[1]
            name = f"crew entry {int(index) + 1}" if index.isdigit() else "crew"
        parts.append(f"{name}: {' '.join(messages)}")
    return "; ".join(parts)


def repeat_note(row: Row, first_row: dict[tuple[str, str], int]) -> str:
    """A note when the row's booking was named by an earlier row of the file (else "")."""
    source = (row.values.get("source") or "").strip()
    # NFC as the intake stores it: "É-1" typed two ways is one booking.
    ref = unicodedata.normalize("NFC", (row.values.get("external_ref") or "").strip())
    if not ref:
        return ""
    earlier = first_row.setdefault((source, ref), row.number)
    if earlier == row.number:
        return ""
    return f" (note: {source} {ref} is also in row {earlier}; rows apply in file order)"


class HelpFormatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    """Django's option order, with the column table in the help kept as written."""


class DryRunRollback(Exception):
    """Raised at the end of a dry run so the surrounding transaction rolls back."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = HelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file to import.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate and report every row exactly as an import would; write nothing.",
        )
        parser.add_argument(
            "--user",
            default="",
            help="Username the audit log records beside the file (the admin's import sets it).",
        )

    def read(self, path: str) -> tuple[list[str], list[Row]]:
        try:
            with Path(path).open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                header = [name.strip() for name in (reader.fieldnames or [])]
                reader.fieldnames = header
                rows = [Row(number=i, values=v) for i, v in enumerate(reader, start=2)]
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise CommandError(f"Cannot read {path}: {e}") from e
        if not header:
            raise CommandError(f"{path} is empty: expected a header row.")
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if not ({"starts_at"} <= set(header) or {"charter_date", "start_time"} <= set(header)):
            missing.append("starts_at (or charter_date and start_time)")
        if missing:
            raise CommandError(f"{path} is missing required columns: {', '.join(missing)}.")
        return header, rows

    def handle(self, *args: Any, file: str, dry_run: bool, **options: Any) -> None:
        header, rows = self.read(file)
        self.by_name = f"CSV import {Path(file).name}"  # the audit log's "who"
        self.user = None
        if options.get("user"):
            self.user = get_user_model().objects.filter(username=options["user"]).first()
            if self.user is None:
                raise CommandError(f"No user {options['user']!r}.")
        known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
        ignored = [c for c in header if c not in known]
        if ignored:
            self.stdout.write(f"Ignoring unknown columns: {', '.join(ignored)}")
        columns = set(header) & known

        counts: Counter[str] = Counter()
        verbosity = options.get("verbosity", 1)
        if dry_run:
            # Planned, not written: each row is answered from what the rows before it would
            # have written. A row that needs the writes to be answered (one naming a booking on
            # file) has them made inside this transaction, which is rolled back: nothing (not
            # even a queued task) survives.
            try:
                with transaction.atomic():
                    self.import_rows(rows, columns, counts, verbosity, dry_run=True)
                    raise DryRunRollback
            except DryRunRollback:
                pass
        else:
            # Each batch of new bookings, and each booking on file, commits on its own.
            self.import_rows(rows, columns, counts, verbosity)

        summary = ", ".join(
            f"{counts[k]} {k}" for k in ("created", "updated", "unchanged", "rejected")
        )
        note = " (dry run: nothing was written)" if dry_run else ""
        self.stdout.write(f"{len(rows)} rows: {summary}{note}")
        if counts["rejected"]:
            raise CommandError(f"{counts['rejected']} of {len(rows)} rows rejected.")

    def import_rows(
        self,
        rows: list[Row],
        columns: set[str],
        counts: Counter[str],
        verbosity: int,
        *,
        dry_run: bool = False,
    ) -> None:
        stderr = getattr(self.stderr, "_out", sys.stderr)
        first_row: dict[tuple[str, str], int] = {}
        # A row with more cells than columns is not even read: no payload, its own line.
        payloads = (
            (row, None if None in row.values else row_payload(row.values, columns)) for row in rows
        )
        outcomes = intake_many(
            payloads, by=self.user, via="csv", by_name=self.by_name, dry_run=dry_run
        )
        with tqdm(
            total=len(rows), unit="row", file=stderr, disable=verbosity == 0, leave=False
        ) as bar:
            for row, outcome in outcomes:
                line = self.report(row, outcome, counts) + repeat_note(row, first_row)
                with tqdm.external_write_mode(file=stderr):
                    self.stdout.write(line)
                bar.update(1)

    def report(
        self, row: Row, outcome: IntakeResult | IntakeRejected | None, counts: Counter[str]
    ) -> str:
        ref = (row.values.get("external_ref") or "").strip() or "?"
        if outcome is None:
            counts["rejected"] += 1
            return f"row {row.number}: rejected {ref}: more cells than header columns"
        if isinstance(outcome, IntakeRejected):
            counts["rejected"] += 1
            return f"row {row.number}: rejected {ref}: {describe(outcome.errors)}"
        counts[outcome.outcome] += 1
        # A dry run's new booking is not written: the id it would get.
        number = outcome.booking.pk or outcome.expected_id
        line = f"row {row.number}: {outcome.outcome} {ref} (booking {number})"
        if outcome.warnings:
            line += " warning: " + "; ".join(outcome.warnings)
        return line
