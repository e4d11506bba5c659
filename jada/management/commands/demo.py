"""`manage.py demo`: the write-up's world, idempotently, and where to look at it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import timezone

from bookings import formatting
from bookings.feed import vessel_feed_url
from bookings.models import Booking, Dock, Vessel
from crew.links import crew_login_url
from crew.models import ChecklistTemplate, CrewMember, Role
from crew.services import crew_member_create
from guests.models import GuestPage
from jada.api.schemas import EXAMPLE
from jada.intake import booking_intake

MONEY_PERMISSIONS = ("view_financials", "change_financials", "add_financials", "delete_financials")
STAFF_APPS = ("bookings", "crew", "guests", "jada")

DOCK = {
    "name": "Sheraton Hotel Dock",
    "address": "1380 Harbor Island Dr, San Diego, CA 92101",
    "directions": (
        "Park in the hotel's marina lot (validated at the front desk), walk past the pool to "
        "gate C and down the ramp; the boat is on the last slip on the left."
    ),
    "map_url": "https://www.google.com/maps/search/?api=1&query=Sheraton+San+Diego+Hotel+Marina",
}
# The fleet: the write-up's charter is on Jada, the default vessel.
VESSELS = (
    {
        "code": "JADA",
        "name": "Jada",
        "guest_name": "Jada, a 47-foot sailing yacht",
        "capacity": 12,
        "is_default": True,
    },
    {"code": "QUEEN", "name": "Queen", "guest_name": "Queen of San Diego", "capacity": 40},
)
ROSTER = (
    ("CAP_001", "Marco Reyes", "cap001@crew.example.com", [Role.CAPTAIN]),
    ("CAP_002", "Rita Vega", "cap002@crew.example.com", [Role.CAPTAIN]),
    ("CREW_001", "Dana Cole", "crew001@crew.example.com", [Role.DECKHAND]),
    ("CREW_002", "Sam Ortiz", "crew002@crew.example.com", [Role.DECKHAND]),
    # Deckhands off the demo charter: a decline there is offered to them.
    ("CREW_003", "Alex Kim", "crew003@crew.example.com", [Role.DECKHAND]),
    ("CREW_004", "Jo Park", "crew004@crew.example.com", [Role.DECKHAND]),
)
TEMPLATES = (
    ("Brief {guest_count} guests", "", 1),
    ("Check fuel", Role.CAPTAIN, 2),
    ("Secure fenders", Role.DECKHAND, 3),
)
CHARTER_REF = "BS-DEMO-0530"
DAYS_AHEAD = 14


def charter_payload(day: datetime) -> dict[str, Any]:
    """The write-up's Boatsetter charter (the API's own example) on `day` at 09:00 local."""
    return {
        **EXAMPLE,
        "external_ref": CHARTER_REF,
        "charter_date": day.date().isoformat(),
        "location": DOCK["name"],
    }


class Command(BaseCommand):
    help = (
        "Create the demo data (safe to run again: existing rows are left as they are): an "
        "operator superuser and a dispatcher without money permissions (password from "
        "DEMO_PASSWORD; the public default only with DEBUG on or --force), the crew roster "
        "CAP_001, CAP_002, CREW_001 to CREW_004, the Sheraton Hotel Dock, checklist templates, "
        f"and the write-up's Boatsetter charter {DAYS_AHEAD} days ahead at 09:00. Prints where "
        "to sign in, crew magic links and the guest page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="With DEBUG off, create the users with the public demo password anyway.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Off DEBUG the setting has no default: users anyone can sign in as need a deliberate yes.
        password = settings.DEMO_PASSWORD or (
            settings.DEMO_PUBLIC_PASSWORD if options["force"] else ""
        )
        if not password:
            raise CommandError(
                "DEBUG is off: the demo users would have a public password. "
                "Set DEMO_PASSWORD, or pass --force."
            )
        operator = self.user("operator", "operator@sailjada.com", password, superuser=True)
        dispatcher = self.user("dispatcher", "dispatcher@sailjada.com", password)
        self.roster()
        dock, _ = Dock.objects.get_or_create(name=DOCK["name"], defaults=DOCK)
        self.fleet(dock)
        for text, role, position in TEMPLATES:
            ChecklistTemplate.objects.get_or_create(
                text=text, role=role, defaults={"position": position}
            )
        booking = self.charter(operator[0])
        self.report(operator, dispatcher, booking)

    def user(
        self, username: str, email: str, password: str, *, superuser: bool = False
    ) -> tuple[User, str]:
        """The user (created on first run) and how to describe their password."""
        user = User.objects.filter(username=username).first()
        if user is not None:
            known = user.check_password(password)
            return user, password if known else "(password changed since the demo set it)"
        if superuser:
            user = User.objects.create_superuser(username, email, password)
        else:
            user = User.objects.create_user(username, email, password, is_staff=True)
            user.user_permissions.set(
                Permission.objects.filter(content_type__app_label__in=STAFF_APPS).exclude(
                    codename__in=(*MONEY_PERMISSIONS, "view_internal_notes")
                )
            )
        return user, password

    def fleet(self, dock: Dock) -> None:
        for values in VESSELS:
            defaults = {k: v for k, v in values.items() if k not in ("code", "is_default")}
            Vessel.objects.get_or_create(
                code=values["code"], defaults={**defaults, "home_dock": dock}
            )
        if not Vessel.objects.filter(is_default=True).exists():
            Vessel.objects.filter(code=VESSELS[0]["code"]).update(is_default=True)

    def roster(self) -> None:
        existing = set(CrewMember.objects.values_list("code", flat=True))
        for code, name, email, roles in ROSTER:
            if code not in existing:
                # A password-less user of their own: crew sign in by magic link only.
                crew_member_create(code=code, name=name, email=email, roles=roles)

    def charter(self, operator: User) -> Booking:
        booking = Booking.objects.filter(source="boatsetter", external_ref=CHARTER_REF).first()
        if booking is not None:
            # Left alone: moving it each day would re-notify the crew on every run.
            return booking
        today = timezone.localdate()
        day = datetime.combine(today + timedelta(days=DAYS_AHEAD), time(9, 0))
        return booking_intake(payload=charter_payload(day), by=operator, via="demo").booking

    def report(
        self, operator: tuple[User, str], dispatcher: tuple[User, str], booking: Booking
    ) -> None:
        write = self.stdout.write
        local = formatting.local(booking.starts_at)
        write("JADA demo data is ready.")
        write("")
        write(f"Sign in to the admin: {settings.SITE_URL}/admin/")
        write(f"  {operator[0].username} / {operator[1]}  (superuser: sees money)")
        write(f"  {dispatcher[0].username} / {dispatcher[1]}  (staff without money permissions)")
        write("")
        write(
            f"Demo charter: Boatsetter {booking.external_ref} (booking {booking.pk}) on "
            f"{local:%a %d %b %Y %H:%M} {local.tzname()} ({formatting.zone_name()})"
        )
        admin_booking = reverse("admin:bookings_booking_change", args=[booking.pk])
        write(f"  in the admin: {settings.SITE_URL}{admin_booking}")
        calendar = reverse("admin:bookings_booking_calendar")
        write(f"  its month: {settings.SITE_URL}{calendar}?month={local:%Y-%m}")
        page = GuestPage.objects.filter(booking_id=booking.pk).first()
        if page is not None:
            write(f"  guest page: {page.url}")
        write("")
        write("Vessel availability feeds (marketplaces import these; rotate one in the admin):")
        for vessel in Vessel.objects.order_by("code"):
            default = ", default" if vessel.is_default else ""
            write(
                f"  {vessel.code} {vessel.name} ({vessel.capacity} guests{default}): "
                f"{vessel_feed_url(vessel)}"
            )
        write("")
        write("Crew magic links (open one to sign in to the crew portal):")
        for member in CrewMember.objects.filter(code__in=[c for c, *_ in ROSTER]).select_related(
            "user"
        ):
            write(f"  {member.code} {member.name}: {crew_login_url(member)}")
        write("")
        write("Intake API token: .venv/bin/python manage.py create_api_token dashboard")
