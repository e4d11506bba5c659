"""Re-export guest pages, e.g. after a template change: `publish_guest_pages [--all|--dry-run]`."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from guests.models import GuestPage
from guests.services import guest_pages_publish_bulk


class Command(BaseCommand):
    help = "Render every guest page and upload those whose content changed (one invalidation)."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="upload every page, changed or not")
        which.add_argument(
            "--changed", action="store_true", help="upload only changed pages (the default)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="render and count; upload nothing"
        )

    def handle(self, *args, all: bool, changed: bool, dry_run: bool, **options) -> None:
        with tqdm(
            total=GuestPage.objects.count(),
            unit="page",
            desc="Guest pages",
            # The raw stream: OutputWrapper.write appends a newline, which breaks tqdm's redraws.
            file=self.stderr._out,
            disable=options["verbosity"] == 0,
        ) as bar:
            try:
                result = guest_pages_publish_bulk(
                    changed_only=not all, dry_run=dry_run, progress=bar.update
                )
            except (BotoCoreError, ClientError, OSError) as e:
                # The export is one transaction: nothing was recorded, so a re-run redoes it all.
                raise CommandError(
                    f"Publishing failed, nothing recorded; run it again once storage and "
                    f"CloudFront answer: {e}"
                ) from e
        self.stdout.write(result.summary())
