"""`manage.py import_bookings FILE.csv [--dry-run]`: the API's validation and upsert, row by row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from bookings.models import Booking
from crew.models import Assignment
from jada.management.commands.import_bookings import Command, parse_crew, row_payload
from jada.models import PipelineRun
from tests.jada.intake_support import HEADER, row, row_counts, run, write_csv

pytestmark = pytest.mark.django_db

# BS-2 the next day: one vessel, one charter at a time.
NEXT_DAY = "2030-05-31"


@pytest.fixture
def ready(dock, roster, templates) -> None:
    pass


def test_it_reports_created_updated_unchanged_and_rejected_rows(tmp_path, ready):
    path = write_csv(
        tmp_path / "export.csv",
        [
            row(),
            row(
                external_ref="BS-2", charter_date=NEXT_DAY, crew="CREW_001:deckhand", captain_id=""
            ),
            row(),
            row(
                external_ref="BS-2",
                charter_date=NEXT_DAY,
                guest_count="6",
                crew="CREW_001:deckhand",
                captain_id="",
            ),
            row(external_ref="BS-3", gross_revenue="lots"),
            row(external_ref="BS-4", crew="CREW_001:deckhand:5;CREW_404:deckhand:5"),
            row(external_ref="BS-5", net_revenue="300.00"),
        ],
    )

    out, err, error = run(str(path))

    lines = out.splitlines()
    first = Booking.objects.get(external_ref="BS-1").pk
    assert lines[0] == f"row 2: created BS-1 (booking {first})"
    assert lines[1].startswith("row 3: created BS-2")
    assert lines[2].startswith("row 4: unchanged BS-1")
    assert lines[3].startswith("row 5: updated BS-2")
    assert lines[4] == "row 6: rejected BS-3: gross_revenue: Enter a number such as 840.75."
    assert lines[5] == "row 7: rejected BS-4: crew entry 2: Unknown or inactive crew id CREW_404."
    assert lines[6].startswith("row 8: rejected BS-5: net_revenue: Does not agree")
    assert lines[7] == "7 rows: 2 created, 1 updated, 1 unchanged, 3 rejected"
    assert isinstance(error, CommandError)
    assert str(error) == "3 of 7 rows rejected."
    # Rejected rows wrote nothing; the others were imported.
    assert set(Booking.objects.values_list("external_ref", flat=True)) == {"BS-1", "BS-2"}
    assert Booking.objects.get(external_ref="BS-2").guest_count == 6
    assert (
        Assignment.objects.filter(event__booking_id__in=Booking.objects.values("pk")).count() == 4
    )
    assert PipelineRun.objects.count() == 3  # BS-1, BS-2, BS-2's new guest count
    # The progress bar goes to stderr, never into the report.
    assert "row/s" in err or "7/7" in err


def test_a_clean_file_exits_zero(tmp_path, ready):
    path = write_csv(
        tmp_path / "export.csv", [row(), row(external_ref="BS-2", charter_date=NEXT_DAY)]
    )
    out, _, error = run(str(path))
    assert error is None
    assert out.splitlines()[-1] == "2 rows: 2 created, 0 updated, 0 unchanged, 0 rejected"


def test_the_amounts_and_times_are_exactly_the_apis(tmp_path, ready):
    run(str(write_csv(tmp_path / "export.csv", [row()])))
    booking = Booking.objects.select_related("financials").get()
    assert str(booking.financials.fee) == "151.34"
    assert str(booking.financials.net_revenue) == "289.41"
    assert booking.starts_at.isoformat() == "2030-05-30T16:00:00+00:00"
    entry = booking.audit_entries.get()
    assert (entry.via, entry.by_name) == ("csv", "CSV import export.csv")


def test_a_rejected_row_writes_nothing(tmp_path, ready):
    run(str(write_csv(tmp_path / "one.csv", [row()])))
    before = row_counts()
    path = write_csv(tmp_path / "two.csv", [row(gross_revenue="999", crew="CREW_404:deckhand")])

    out, _, error = run(str(path))

    assert "rejected" in out and error is not None
    assert row_counts() == before
    assert str(Booking.objects.get().financials.gross_revenue) == "840.75"


def test_dry_run_writes_nothing_and_reports_the_same(tmp_path, ready):
    path = write_csv(
        tmp_path / "export.csv", [row(), row(), row(external_ref="BS-2", charter_date=NEXT_DAY)]
    )
    before = row_counts()

    out, _, error = run(str(path), "--dry-run")

    assert error is None
    lines = out.splitlines()
    assert lines[0].startswith("row 2: created BS-1")
    assert lines[1].startswith("row 3: unchanged BS-1")
    assert lines[2].startswith("row 4: created BS-2")
    assert lines[-1] == (
        "3 rows: 2 created, 0 updated, 1 unchanged, 0 rejected (dry run: nothing was written)"
    )
    assert row_counts() == before


def test_dry_run_still_fails_on_rejected_rows(tmp_path, ready):
    path = write_csv(tmp_path / "export.csv", [row(location="Nowhere")])
    out, _, error = run(str(path), "--dry-run")
    assert "row 2: rejected BS-1: location: No dock named 'Nowhere'" in out
    assert error is not None
    assert Booking.objects.count() == 0


def test_blank_crew_columns_mean_no_crew_and_missing_ones_keep_it(tmp_path, ready):
    run(str(write_csv(tmp_path / "a.csv", [row()])))
    no_crew_columns = [c for c in HEADER if c not in ("captain_id", "crew")]
    run(str(write_csv(tmp_path / "b.csv", [row(guest_count="5")], header=no_crew_columns)))
    assert Assignment.objects.filter(removed_at__isnull=True).count() == 3
    run(str(write_csv(tmp_path / "c.csv", [row(guest_count="5", captain_id="", crew="")])))
    assert Assignment.objects.filter(removed_at__isnull=True).count() == 0


def test_starts_at_may_replace_date_and_time(tmp_path, ready):
    header = [c for c in HEADER if c not in ("charter_date", "start_time")] + ["starts_at"]
    path = write_csv(tmp_path / "export.csv", [row(starts_at="2030-05-30T09:00:00-07:00")], header)
    _, _, error = run(str(path))
    assert error is None
    assert Booking.objects.get().starts_at.isoformat() == "2030-05-30T16:00:00+00:00"


def test_unknown_columns_are_named_and_ignored(tmp_path, ready):
    path = write_csv(tmp_path / "export.csv", [row()], header=[*HEADER, "payout_id"])
    out, _, error = run(str(path))
    assert out.splitlines()[0] == "Ignoring unknown columns: payout_id"
    assert error is None


def test_a_row_with_too_many_cells_is_rejected(tmp_path, ready):
    path = tmp_path / "export.csv"
    write_csv(path, [row()])
    path.write_text(path.read_text() + path.read_text().splitlines()[1] + ",extra\n")
    out, _, error = run(str(path))
    assert "row 3: rejected BS-1: more cells than header columns" in out
    assert error is not None


# --- Files that cannot be imported at all ---


def test_a_missing_file_is_an_error(tmp_path):
    _, _, error = run(str(tmp_path / "nope.csv"))
    assert error is not None and "Cannot read" in str(error)


def test_missing_required_columns_are_named(tmp_path, ready):
    header = [c for c in HEADER if c not in ("gross_revenue", "location", "start_time")]
    _, _, error = run(str(write_csv(tmp_path / "export.csv", [row()], header)))
    assert error is not None
    assert str(error).endswith(
        "is missing required columns: gross_revenue, location, "
        "starts_at (or charter_date and start_time)."
    )
    assert Booking.objects.count() == 0


def test_an_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    _, _, error = run(str(path))
    assert error is not None and "empty" in str(error)


def test_a_binary_file_is_an_error(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    _, _, error = run(str(path))
    assert error is not None and "Cannot read" in str(error)


def test_the_process_exits_non_zero_with_a_readable_line(tmp_path):
    env = {**os.environ, "JADA_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "import_bookings", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "CommandError: Cannot read" in result.stderr


# --- The pieces ---


def test_the_help_documents_the_header_and_the_exit_status():
    text = Command().create_parser("manage.py", "import_bookings").format_help()
    for column in ("guest_count", "captain_id", "port_fee_percent", "starts_at"):
        assert column in text
    assert '"CREW_001:deckhand:5;CREW_002:deckhand:5"' in text
    assert "Exit status" in text and "rejected" in text
    assert "--dry-run" in text


def test_crew_cells_become_assignments():
    assert parse_crew("CREW_001:deckhand:5; CREW_002:mate ;") == [
        {"crew_id": "CREW_001", "role": "deckhand", "duration_hours": "5"},
        {"crew_id": "CREW_002", "role": "mate"},
    ]
    assert parse_crew("CREW_001") == ["CREW_001"]


def test_a_row_becomes_the_api_payload():
    payload = row_payload(row(guest_phone="", net_revenue=""), set(HEADER))
    assert payload["guest"] == {
        "name": "Jordan Avery",
        "email": "jordan@guest.example.com",
        "count": 4,
    }
    assert "net_revenue" not in payload
    assert payload["captain_id"] == "CAP_001"
    assert payload["gross_revenue"] == "840.75"


def test_a_booking_named_twice_in_the_file_is_noted_on_the_later_row(tmp_path, ready):
    nfd = "E\u0301-1"  # "É-1" decomposed; the same booking as the composed spelling
    path = write_csv(
        tmp_path / "export.csv",
        [
            row(external_ref="\u00c9-1"),
            row(external_ref="BS-2", charter_date=NEXT_DAY),
            row(external_ref=nfd, guest_count="6", charter_date="2030-06-02"),
            row(external_ref="BS-2", source="getmyboat", charter_date="2030-06-01"),
        ],
    )

    out, _, error = run(str(path))

    lines = out.splitlines()
    assert error is None
    assert "note" not in lines[0] and "note" not in lines[1]
    note = "(note: boatsetter \u00c9-1 is also in row 2; rows apply in file order)"
    assert lines[2].endswith(note)
    assert "note" not in lines[3]  # another source: another booking
