"""Logins that django-axes is refusing right now (too many wrong passwords for a
username from one address), for the admin's "Locked logins" list."""

from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone


@dataclass(frozen=True)
class LockedLogin:
    username: str
    ip_address: str | None
    failures: int
    last_attempt: datetime
    locked_until: datetime


def locked_logins() -> list[LockedLogin]:
    """Username and address pairs at or over the failure limit within the
    cool-off, latest first. Attempts from different browsers of one pair are
    added up, as axes does when it decides (``AXES_LOCKOUT_PARAMETERS``)."""
    cool_off = get_cool_off()
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last", "username")
    )
    return [
        LockedLogin(
            username=row["username"] or "",
            ip_address=row["ip_address"],
            failures=row["failures"],
            last_attempt=row["last"],
            locked_until=row["last"] + cool_off,
        )
        for row in rows
    ]
