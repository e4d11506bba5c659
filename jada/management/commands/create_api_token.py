"""`manage.py create_api_token NAME`: a new intake token, printed once; only its hash is kept."""

from __future__ import annotations

import secrets

from django.core.management.base import BaseCommand, CommandError

from bookings.models import Source
from jada.models import ApiToken, TokenScope, hash_token

TOKEN_BYTES = 32


class Command(BaseCommand):
    help = (
        "Create an API token for the intake API (X-Dashboard-Token header). The token is "
        "printed once, as the last line; only its SHA-256 hash is stored, so it cannot be shown "
        "again. Revoke it in the admin (API tokens)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="What the token is for, e.g. 'boatsetter-sync'.")
        parser.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.WRITE,
            help="read: GET only; write (default): also POST /api/bookings.",
        )
        parser.add_argument(
            "--source",
            choices=Source.values,
            default="",
            help="Only this source's bookings (a marketplace's own token); default: any.",
        )

    def handle(self, *args, name: str, scope: str, source: str, **options) -> None:
        name = name.strip()
        if not name:
            raise CommandError("NAME must not be empty.")
        max_length = ApiToken._meta.get_field("name").max_length
        if len(name) > max_length:
            raise CommandError(f"NAME must be at most {max_length} characters.")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        api_token = ApiToken.objects.create(
            name=name, token_hash=hash_token(token), scope=scope, source=source
        )
        reach = f"{source} bookings" if source else "bookings of any source"
        self.stdout.write(
            f"Created API token {api_token.name!r} (id {api_token.pk}, scope {scope}, "
            f"{reach}). Send it in the X-Dashboard-Token header. It is shown only now; store it "
            "safely:"
        )
        self.stdout.write(token)
