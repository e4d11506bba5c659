"""The roster: crew members, their password-less users, feed secrets and links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from crew.models import CrewEvent, CrewMember, EventStatus, new_feed_token


def crew_member_create(
    *,
    code: str,
    name: str,
    email: str,
    phone: str = "",
    roles: Sequence[str] = (),
    active: bool = True,
) -> CrewMember:
    """Add a member (or update the one with this code) with a password-less user of their own.

    The user's password is unusable: crew sign in only through magic links.
    """
    with transaction.atomic():
        member = CrewMember.objects.select_for_update().filter(code=code).first()
        values = {"name": name, "email": email, "phone": phone, "roles": list(roles)}
        if member is not None:
            for field, value in values.items():
                setattr(member, field, value)
            member.active = active
            member.full_clean(exclude=["user"])
            return crew_member_save(member=member)
        user = crew_user_create(code=code, email=email)
        member = CrewMember(user=user, code=code, active=active, **values)
        member.full_clean(exclude=["user"])
        member.save()
        return member


def crew_user_create(*, code: str, email: str = "") -> AbstractBaseUser:
    """The Django user behind a crew member: username from the code, unusable password."""
    user = get_user_model()(username=code.lower(), email=email)
    user.set_unusable_password()
    user.save()
    return user


def member_feed_token_regenerate(*, member: CrewMember) -> str:
    """A new calendar feed secret; the old feed URL stops working at once."""
    member.feed_token = new_feed_token()
    member.save(update_fields=["feed_token"])
    return member.feed_token


def member_links_revoke(*, member: CrewMember) -> None:
    """Invalidate every magic link sent so far (sesame keys tokens on the password hash)."""
    user = member.user
    user.set_unusable_password()
    user.save(update_fields=["password"])


def crew_member_save(*, member: CrewMember) -> CrewMember:
    """Save an edited member, keeping their user in step.

    A new email address is the user's too, and it revokes the links sent to the old one: that
    mailbox may no longer be the member's. Deactivating ends their links and sessions (sessions
    are keyed on the same password hash as links), and reactivating does not bring them back:
    the user's password is replaced again, so nothing sent before comes back to life.
    """
    with transaction.atomic():
        before = CrewMember.objects.select_for_update().filter(pk=member.pk).first()
        member.save()
        user = get_user_model().objects.select_for_update().get(pk=member.user_id)
        fields = []
        if user.email != member.email:
            user.email = member.email
            fields.append("email")
        if user.is_active != member.active:
            user.is_active = member.active
            fields.append("is_active")
        moved = before is not None and before.email != member.email
        toggled = before is not None and before.active != member.active
        if moved or toggled:
            user.set_unusable_password()
            fields.append("password")
        if fields:
            user.save(update_fields=fields)
        member.user = user
    return member


def member_upcoming_events(member: CrewMember, *, now: datetime | None = None) -> list[CrewEvent]:
    """The scheduled charters from now on that the member is still assigned to."""
    now = now or timezone.now()
    return list(
        CrewEvent.objects.filter(
            assignments__member=member,
            assignments__removed_at__isnull=True,
            status=EventStatus.SCHEDULED,
            starts_at__gte=now,
        ).order_by("starts_at")
    )
