"""What a person sees when django-axes refuses their login: the login page again,
saying what happened, when they can try again and who can unlock them sooner.

Wired in as ``AXES_LOCKOUT_CALLABLE``; locks are per username and address, and
released in the admin under "Locked logins" (``catalog.views.admin_security``).
"""

from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone

from home.forms import PortalAuthenticationForm


@dataclass(frozen=True)
class LoginLock:
    username: str
    failure_limit: int
    until: datetime
    minutes: int

    @property
    def until_today(self) -> bool:
        return timezone.localdate(self.until) == timezone.localdate()


def login_lock(request, credentials=None) -> LoginLock:
    username = get_client_username(request, credentials) or ""
    ip_address = getattr(request, "axes_ip_address", None) or get_client_ip_address(
        request
    )
    cool_off = get_cool_off(request)
    # Each refused try restarts the wait (axes' default), so it ends one cool-off
    # after the latest attempt.
    last = AccessAttempt.objects.filter(
        username=username, ip_address=ip_address
    ).aggregate(last=Max("attempt_time"))["last"]
    until = (last or timezone.now()) + cool_off
    return LoginLock(
        username=username,
        failure_limit=settings.AXES_FAILURE_LIMIT,
        until=until,
        minutes=max(1, round(cool_off.total_seconds() / 60)),
    )


def lockout_response(request, original_response=None, credentials=None):
    lock = login_lock(request, credentials)
    form = PortalAuthenticationForm(request, initial={"username": lock.username})
    context = {
        "form": form,
        "lock": lock,
        "next": request.POST.get("next", request.GET.get("next", "")),
    }
    return render(request, "registration/login.html", context, status=429)
