"""Releasing a login that django-axes locked after too many wrong passwords."""

import logging

from axes.utils import reset

from catalog import permissions

logger = logging.getLogger(__name__)


def login_lock_release(*, actor, username: str, ip_address: str | None) -> int:
    """Forget the failed attempts of one username from one address, so the
    person can log in again at once; returns how many attempt records went."""
    permissions.require(
        permissions.can_unlock_logins(actor), "You can't unlock logins."
    )
    if not username:
        return 0
    # ``reset`` ignores an empty address; the pair is always released together.
    released = reset(ip=ip_address or None, username=username)
    logger.warning(
        "Login unlocked: %r from %s by %s (%d attempt records removed)",
        username,
        ip_address or "any address",
        actor.get_username(),
        released,
    )
    return released
