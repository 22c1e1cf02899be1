"""Reading the organisation: reporting lines and finding people by name."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from catalog.models import UserProfile

# How far up or down a reporting line we follow: deeper than any real org chart,
# and a stop for a loop someone typed into the people admin.
MAX_REPORTING_DEPTH = 12
SEARCH_RESULTS = 20


def managers_above(person_id: int) -> list[int]:
    """The person's manager, their manager, and so on up the line (user ids)."""
    chain: list[int] = []
    current = person_id
    for _ in range(MAX_REPORTING_DEPTH):
        manager = (
            UserProfile.objects.filter(user_id=current)
            .values_list("manager_id", flat=True)
            .first()
        )
        if manager is None or manager in chain or manager == person_id:
            break
        chain.append(manager)
        current = manager
    return chain


def reports_of(manager_id: int) -> set[int]:
    """Everyone who reports to the manager, directly or further down."""
    found: set[int] = set()
    frontier = {manager_id}
    for _ in range(MAX_REPORTING_DEPTH):
        below = (
            set(
                UserProfile.objects.filter(manager_id__in=frontier).values_list(
                    "user_id", flat=True
                )
            )
            - found
            - {manager_id}
        )
        if not below:
            break
        found |= below
        frontier = below
    return found


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def people_matching(people, query: str):
    """``people`` whose name or username contains every word of ``query``."""
    words = (query or "").split()[:4]
    if not words or "\x00" in query:
        # Nobody's name has a NUL byte, and PostgreSQL can't even compare one.
        return people.none()
    for word in words:
        word = word[:60]
        people = people.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
        )
    return people.order_by("first_name", "last_name", "username")[:SEARCH_RESULTS]


def active_people():
    return get_user_model().objects.filter(is_active=True)


def kept_records_of(person) -> bool:
    """True if deleting ``person`` would take records the portal keeps with it
    (requests they ordered or received, approvals, log entries, closed bills):
    those refer to people with ``PROTECT``, so the database would refuse. Asks
    Django's own deletion collector, so a new protected link is covered too."""
    from django.db import router
    from django.db.models.deletion import Collector, ProtectedError, RestrictedError

    collector = Collector(using=router.db_for_write(type(person)))
    try:
        collector.collect([person])
    except (ProtectedError, RestrictedError):
        return True
    return False
