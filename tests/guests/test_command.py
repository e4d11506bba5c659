"""`manage.py publish_guest_pages [--all|--changed] [--dry-run]`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from guests.models import GuestPage
from jada.services import booking_save
from tests.factories import booking_data

START = datetime(2030, 5, 30, 16, 0, tzinfo=UTC)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("publish_guest_pages", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def three_bookings(dock, roster, templates):
    return [
        booking_save(
            # A day apart: one vessel, one charter at a time.
            data=booking_data(
                dock, external_ref=f"BS-CMD-{n}", starts_at=START + timedelta(days=n)
            ),
            via="test",
        ).booking
        for n in range(3)
    ]


def test_it_publishes_changed_pages_with_a_progress_bar(
    three_bookings, s3_guest_storage, moto_requests
):
    out, err = run()
    assert out.strip() == (
        "3 guest pages checked: 3 published, 0 unchanged, 0 without a booking; "
        "1 invalidation call(s) for 6 paths."
    )
    assert "3/3" in err and "Guest pages" in err  # tqdm on stderr
    assert len([r for r in moto_requests if r.service == "cloudfront"]) == 1

    moto_requests.clear()
    out, _ = run("--changed")
    assert "0 published, 3 unchanged" in out and "0 invalidation call(s)" in out
    assert moto_requests == []


def test_all_re_exports_everything(three_bookings, s3_guest_storage, moto_requests):
    run()
    moto_requests.clear()
    out, _ = run("--all")
    assert "3 published, 0 unchanged" in out
    assert len(moto_requests) == 4  # three uploads, one invalidation


def test_dry_run_changes_nothing(three_bookings, s3_guest_storage, moto_requests):
    out, _ = run("--dry-run")
    assert out.strip().startswith("Dry run: 3 of 3 guest pages would be published")
    assert moto_requests == []
    assert not GuestPage.objects.exclude(published_hash="").exists()


def test_all_and_changed_exclude_each_other(db):
    with pytest.raises(CommandError):
        run("--all", "--changed")


def test_unreachable_storage_is_a_readable_error_that_records_nothing(
    three_bookings, settings, monkeypatch
):
    import socket

    from jada.settings import guest_pages_storage
    from tests.aws import FAKE_AWS_ENV

    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    settings.STORAGES = {
        **settings.STORAGES,
        "guest_pages": guest_pages_storage(
            bucket="guest-pages", endpoint_url=f"http://127.0.0.1:{port}"
        ),
    }
    with pytest.raises(CommandError, match="Publishing failed, nothing recorded"):
        run()
    assert not GuestPage.objects.filter(published_hash__gt="").exists()
