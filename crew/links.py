"""Magic links into the crew portal: django-sesame tokens scoped to their purpose and lifetime.

A link names the moment it stops working (`u`, seconds since the epoch) and its token's scope
includes that moment, so changing `u` breaks the signature. A link in a charter's email works
until a few days after the charter, and never longer than `CREW_LINK_MAX_DAYS` after it was
sent: for a charter booked far ahead, the reminders bring fresh links. A link asked for with
"Email me a new link" works for `CREW_LINK_MAX_AGE` (within the same ceiling). Links are never
one-time: mail scanners open them, and the confirm page only signs in on POST.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from sesame.utils import get_token, get_user

from crew.models import Assignment, CrewEvent, CrewMember

LOGIN_SCOPE = "crew-login"
ANSWER_SCOPE = "crew-answer"
# A link in a charter email keeps working until a few days after the charter.
AFTER_EVENT = timedelta(days=3)
# ... and for at least this long, even for a charter that is about to start.
MIN_LIFETIME = timedelta(days=2)


def login_scope(until: int) -> str:
    return f"{LOGIN_SCOPE}:{until}"


def answer_scope(assignment_id: int, until: int) -> str:
    return f"{ANSWER_SCOPE}:{assignment_id}:{until}"


def lifetime_ceiling() -> timedelta:
    """No link outlives this after it was sent, whatever its `u` (a leaked old email included)."""
    return timedelta(days=settings.CREW_LINK_MAX_DAYS)


def link_max_age() -> timedelta:
    return min(timedelta(seconds=settings.CREW_LINK_MAX_AGE), lifetime_ceiling())


def valid_until_for(event: CrewEvent | None, *, now: datetime | None = None) -> datetime:
    """How long a link should work: past the end of `event`; CREW_LINK_MAX_AGE without one.

    Never past CREW_LINK_MAX_DAYS from `now`: the reminders before the charter carry new links.
    """
    now = now or timezone.now()
    if event is None:
        return now + link_max_age()
    until = max(event.ends_at + AFTER_EVENT, now + MIN_LIFETIME)
    return min(until, now + lifetime_ceiling())


def safe_next(next_path: str | None) -> str | None:
    """Only paths inside the portal are followed after sign-in."""
    if not next_path or not next_path.startswith("/crew/"):
        return None
    if not url_has_allowed_host_and_scheme(next_path, allowed_hosts=None):
        return None
    return next_path


def crew_login_url(
    member: CrewMember,
    *,
    next_path: str | None = None,
    valid_until: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """An absolute sign-in link (from SITE_URL) for `member`, opening `next_path` after."""
    until = int((valid_until or valid_until_for(None, now=now)).timestamp())
    params = {settings.SESAME_TOKEN_NAME: get_token(member.user, scope=login_scope(until))}
    params["u"] = str(until)
    if safe_next(next_path):
        params["next"] = next_path
    return f"{settings.SITE_URL}{reverse('crew-login')}?{urlencode(params)}"


def _until(until: str | None) -> int | None:
    """The link's expiry as seconds since the epoch, or None when `u` is not one."""
    # isascii: "²".isdigit() is true; 12 digits reach the year 33658.
    if not until or not until.isascii() or not until.isdigit() or len(until) > 12:
        return None
    return int(until)


def login_user(token: str | None, until: str | None) -> AbstractBaseUser | None:
    """The crew user a sign-in link names, or None if expired, tampered or out of scope."""
    expires = _until(until)
    if not token or expires is None or expires <= timezone.now().timestamp():
        return None
    user = get_user(token, scope=login_scope(expires), max_age=lifetime_ceiling())
    if user is None:
        return None
    member = CrewMember.objects.filter(user=user, active=True).first()
    return user if member is not None else None


def crew_answer_url(
    assignment: Assignment, *, valid_until: datetime | None = None, now: datetime | None = None
) -> str:
    """An absolute link that lets the member accept or decline this one assignment (no sign-in)."""
    until = int((valid_until or valid_until_for(assignment.event, now=now)).timestamp())
    token = get_token(assignment.member.user, scope=answer_scope(assignment.pk, until))
    params = {settings.SESAME_TOKEN_NAME: token, "u": str(until)}
    path = reverse("crew-answer", args=[assignment.pk])
    return f"{settings.SITE_URL}{path}?{urlencode(params)}"


def answer_user(assignment: Assignment, token: str | None, until: str | None) -> bool:
    """Whether the link's token answers for `assignment`: its member's, unexpired, in scope."""
    expires = _until(until)
    if not token or expires is None or expires <= timezone.now().timestamp():
        return False
    user = get_user(token, scope=answer_scope(assignment.pk, expires), max_age=lifetime_ceiling())
    return user is not None and user.pk == assignment.member.user_id and assignment.member.active
