"""How an open item stands against its targets at a moment: time left in words,
"breached" and "at risk".

The clock (``catalog.services.service_levels``) stores when each target falls
due and when it was breached; this module compares those with now. Each rule is
written twice on purpose, once as a query condition for filtering many items in
the database and once in Python for the rows already loaded, and
``tests/catalog/selectors/test_due.py`` holds both forms to one table of cases.
"""

from datetime import UTC, datetime
from functools import reduce
from operator import or_

from django.db.models import DateTimeField, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan

from catalog.models import BREACH_RECORDS, NO_BREACH_RECORDED


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def time_left(due: datetime | None, now: datetime, *, paused: bool = False) -> str:
    """ "3 h 20 min left", "overdue by 2 h", "paused" or "—" (no target): wall
    time until the due moment, which already allows for opening hours."""
    if due is None:
        return "paused" if paused else "—"
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        return f"{_span(seconds)} left"
    return f"overdue by {_span(-seconds)}"


def breached_condition(now: datetime) -> Q:
    """Any target's breach recorded by the clock, or a resolution due time that
    has passed (the scheduled check may not have run since)."""
    recorded = [Q(**{f"{name}__isnull": False}) for name in BREACH_RECORDS]
    due = [Q(internal_resolution_due_at__lte=now), Q(resolution_due_at__lte=now)]
    return reduce(or_, [*recorded, *due])


# A due time that never comes: an item with no target is never due.
NEVER = datetime.max.replace(tzinfo=UTC)


def at_risk_condition(now: datetime) -> Q:
    """Past the share of the internal time at which the team is warned, and not
    breached yet.

    It is ``~breached_condition`` written out, in a form PostgreSQL answers from
    the index ``queue_at_risk`` (the open items with no breach recorded, by the
    moment they fall at risk): the due times are compared through ``Coalesce``,
    which no index of due times can answer, so the planner does not read every
    open item not yet due from the table, believing "not yet due" and "open"
    match a few rows together (bench/README.md, "Approvals, My requests and the
    queue's at-risk filter"). The tests hold both to one table of cases."""
    never = Value(NEVER, output_field=DateTimeField())
    return (
        Q(internal_at_risk_from__lte=now)
        & Q(**NO_BREACH_RECORDED)
        & Q(GreaterThan(Coalesce("internal_resolution_due_at", never), now))
        & Q(GreaterThan(Coalesce("resolution_due_at", never), now))
    )


def is_breached(item, now: datetime) -> bool:
    """``breached_condition`` for one loaded item."""
    return (
        any(getattr(item, name) is not None for name in BREACH_RECORDS)
        or _due_by(item.internal_resolution_due_at, now)
        or _due_by(item.resolution_due_at, now)
    )


def is_at_risk(item, now: datetime) -> bool:
    """``at_risk_condition`` for one loaded item."""
    return _due_by(item.internal_at_risk_from, now) and not is_breached(item, now)


def _due_by(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now
