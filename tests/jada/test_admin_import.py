""" "Import CSV" in the admin: a dry-run preview with the command's report, then the import."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bookings.models import AuditEntry, Booking
from tests.jada.intake_support import row, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def export(tmp_path, dock, roster, templates) -> bytes:
    path = write_csv(
        tmp_path / "export.csv",
        [
            row(),
            row(external_ref="BS-2", captain_id="", crew="", charter_date="2030-06-01"),
            row(external_ref="BS-3", gross_revenue="lots"),
        ],
    )
    return path.read_bytes()


def test_preview_writes_nothing_then_import_writes_the_good_rows(client, alice, export):
    client.force_login(alice)
    listing = client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    url = reverse("admin:bookings_booking_import")
    assert f'href="{url}"' in listing and "Import CSV" in listing

    upload = SimpleUploadedFile("boatsetter-may.csv", export, content_type="text/csv")
    preview = client.post(url, {"file": upload}).content.decode()
    assert "Preview of boatsetter-may.csv (dry run: nothing written yet)" in preview
    assert re.search(r"row 2: created BS-1 \(booking \d+\)", preview)
    assert "row 4: rejected BS-3: gross_revenue: Enter a number such as 840.75." in preview
    assert (
        "3 rows: 2 created, 0 updated, 0 unchanged, 1 rejected (dry run: nothing was written)"
        in preview
    )
    assert "1 of 3 rows rejected." in preview
    assert Booking.objects.count() == 0 and AuditEntry.objects.count() == 0

    content = re.search(r'name="content" value="([^"]+)"', preview).group(1)
    done = client.post(url, {"content": content, "filename": "boatsetter-may.csv"}).content.decode()
    assert "Imported boatsetter-may.csv" in done
    assert "3 rows: 2 created, 0 updated, 0 unchanged, 1 rejected" in done
    assert set(Booking.objects.values_list("external_ref", flat=True)) == {"BS-1", "BS-2"}
    entry = AuditEntry.objects.filter(booking__external_ref="BS-1").first()
    assert entry.actor == alice and entry.via == "csv"
    assert entry.who == "alice (CSV import boatsetter-may.csv)"


def test_only_holders_of_change_financials_may_import(client, bob, export):
    client.force_login(bob)
    listing = client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    assert "Import CSV" not in listing
    url = reverse("admin:bookings_booking_import")
    response = client.get(url)
    assert response.status_code == 403
    assert "You may not import bookings" in response.content.decode()
    upload = SimpleUploadedFile("x.csv", export, content_type="text/csv")
    assert client.post(url, {"file": upload}).status_code == 403
    assert Booking.objects.count() == 0


def test_a_file_missing_columns_says_so_and_writes_nothing(client, alice, dock):
    client.force_login(alice)
    upload = SimpleUploadedFile("bad.csv", b"source,external_ref\nboatsetter,BS-1\n")
    html = client.post(reverse("admin:bookings_booking_import"), {"file": upload}).content.decode()
    assert "bad.csv is missing required columns" in html
    assert 'value="Import"' not in html
    assert Booking.objects.count() == 0
