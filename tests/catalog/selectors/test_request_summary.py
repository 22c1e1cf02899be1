"""The request's overall state at the top of its page, from its items: a table
of cases worked out by hand from the rule (first that applies wins: something
needed from the requester, an approval awaited, work under way, delivered,
nothing to deliver)."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from catalog.models import ItemStatus
from catalog.selectors.requests import ItemProgress, RequestSummary, request_summary

MON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WED = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
FRI = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)


def item(name, status, fulfilled_at=None, **progress):
    return SimpleNamespace(
        service_name=name,
        status=status,
        fulfilled_at=fulfilled_at,
        progress=ItemProgress(**progress),
    )


CASES = [
    (
        "one paused, waiting for the requester; another waits for approval",
        [
            item("Laptop", ItemStatus.AWAITING_APPROVAL, awaiting_approval=True),
            item("VPN", ItemStatus.ON_HOLD, need_from_you="Which office?"),
        ],
        RequestSummary("needs_you", total=2, waiting_on_you=("VPN",)),
    ),
    (
        "two approvals by two people, one item delivered",
        [
            item(
                "Laptop",
                ItemStatus.AWAITING_APPROVAL,
                awaiting_approval=True,
                waiting_for="Sam Sales",
            ),
            item(
                "Phone",
                ItemStatus.AWAITING_APPROVAL,
                awaiting_approval=True,
                waiting_for="Olga Owner",
            ),
            item("Password", ItemStatus.FULFILLED, fulfilled_at=MON),
        ],
        RequestSummary(
            "awaiting_approval",
            total=3,
            delivered=1,
            approvers=("Olga Owner", "Sam Sales"),
        ),
    ),
    (
        "an approval nobody could be named for",
        [item("Laptop", ItemStatus.AWAITING_APPROVAL, awaiting_approval=True)],
        RequestSummary("awaiting_approval", total=1),
    ),
    (
        "work under way: expected by the later of the two due times",
        [
            item("Laptop", ItemStatus.IN_PROGRESS, expected_by=FRI),
            item("Mouse", ItemStatus.SUBMITTED, expected_by=WED),
            item("Dock", ItemStatus.CANCELLED),
        ],
        RequestSummary("in_progress", total=3, expected_by=FRI),
    ),
    (
        "work under way without a due time",
        [item("Advice", ItemStatus.IN_PROGRESS)],
        RequestSummary("in_progress", total=1),
    ),
    (
        "paused for a reason that isn't the requester's to act on",
        [item("Laptop", ItemStatus.ON_HOLD, expected_by=WED)],
        RequestSummary("in_progress", total=1, expected_by=WED),
    ),
    (
        "all delivered: the last delivery's day",
        [
            item("Laptop", ItemStatus.CLOSED, fulfilled_at=MON),
            item("Mouse", ItemStatus.FULFILLED, fulfilled_at=WED),
        ],
        RequestSummary("delivered", total=2, delivered=2, delivered_on=WED),
    ),
    (
        "one delivered, one turned down",
        [
            item("Laptop", ItemStatus.REJECTED),
            item("Mouse", ItemStatus.FULFILLED, fulfilled_at=MON),
        ],
        RequestSummary("delivered", total=2, delivered=1, delivered_on=MON),
    ),
    (
        "turned down and cancelled",
        [item("Laptop", ItemStatus.REJECTED), item("Mouse", ItemStatus.CANCELLED)],
        RequestSummary("not_approved", total=2),
    ),
    (
        "cancelled",
        [item("Laptop", ItemStatus.CANCELLED)],
        RequestSummary("cancelled", total=1),
    ),
]


@pytest.mark.parametrize(
    ("items", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_overall_state(items, expected):
    assert request_summary(items) == expected
