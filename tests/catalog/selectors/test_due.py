"""The flags "breached" and "at risk", in both forms: the query condition the queue
filters with and the Python the queue's rows are marked with, held to one table."""

from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import ItemStatus, RequestItem
from catalog.selectors.due import (
    at_risk_condition,
    breached_condition,
    is_at_risk,
    is_breached,
)
from tests.catalog.test_queue import make_item

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

# (stored figures, breached?, at risk?), worked out by hand from the rules:
# breached when any breach is recorded or either resolution due time has come;
# at risk from the internal warning moment on, unless breached.
CASES = [
    ({}, False, False),
    ({"resolution_due_at": NOW + HOUR}, False, False),
    ({"resolution_due_at": NOW}, True, False),  # due now counts as breached
    ({"resolution_due_at": NOW - HOUR}, True, False),
    ({"internal_resolution_due_at": NOW - HOUR}, True, False),
    ({"internal_resolution_due_at": NOW + HOUR}, False, False),
    ({"response_breached_at": NOW - 3 * HOUR}, True, False),
    ({"internal_response_breached_at": NOW - 3 * HOUR}, True, False),
    ({"resolution_breached_at": NOW - 3 * HOUR}, True, False),
    ({"internal_resolution_breached_at": NOW - 3 * HOUR}, True, False),
    ({"internal_at_risk_from": NOW - HOUR}, False, True),
    ({"internal_at_risk_from": NOW}, False, True),
    ({"internal_at_risk_from": NOW + HOUR}, False, False),
    (
        {
            "internal_at_risk_from": NOW - 2 * HOUR,
            "internal_resolution_due_at": NOW - HOUR,
        },
        True,
        False,
    ),
    (
        {
            "internal_at_risk_from": NOW - 2 * HOUR,
            "internal_resolution_due_at": NOW + HOUR,
            "resolution_due_at": NOW + 5 * HOUR,
        },
        False,
        True,
    ),
    # At risk by the clock, but breached another way: never both.
    (
        {"internal_at_risk_from": NOW - HOUR, "internal_resolution_due_at": NOW},
        True,
        False,
    ),
    (
        {
            "internal_at_risk_from": NOW - HOUR,
            "internal_resolution_due_at": NOW + HOUR,
            "resolution_due_at": NOW,
        },
        True,
        False,
    ),
    *(
        (
            {
                "internal_at_risk_from": NOW - HOUR,
                "internal_resolution_due_at": NOW + HOUR,
                "resolution_due_at": NOW + 2 * HOUR,
                recorded: NOW - 2 * HOUR,
            },
            True,
            False,
        )
        for recorded in (
            "response_breached_at",
            "internal_response_breached_at",
            "resolution_breached_at",
            "internal_resolution_breached_at",
        )
    ),
]


@pytest.mark.parametrize(("figures", "breached", "at_risk"), CASES)
def test_both_forms_agree_with_the_table(employee, figures, breached, at_risk):
    item = make_item(
        employee,
        "Laptop",
        team=None,
        status=ItemStatus.IN_PROGRESS,
        created=NOW - 10 * HOUR,
        **figures,
    )
    assert (is_breached(item, NOW), is_at_risk(item, NOW)) == (breached, at_risk)
    in_database = RequestItem.objects.filter(pk=item.pk)
    assert (
        in_database.filter(breached_condition(NOW)).exists(),
        in_database.filter(at_risk_condition(NOW)).exists(),
    ) == (breached, at_risk)
