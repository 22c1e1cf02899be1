"""Who the page benchmark times each page as: the same kind of person on both
databases, so the same address is the same page."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from bench.scale import people, verdict
from tests.factories import (
    FulfilmentGroupFactory,
    ServiceRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _person(name, groups, department):
    return UserFactory(
        username=name,
        profile={"department": department},
        groups=[Group.objects.get(name=group) for group in groups],
    )


def test_the_employee_and_holder_are_not_executives_even_with_more_requests(sales):
    boss = _person("boss", ["Employee", "Executive"], sales)
    plain = _person("plain", ["Employee"], sales)
    _person("approver", ["Employee", "Approver"], sales)
    fixer = _person("fixer", ["Employee"], sales)
    FulfilmentGroupFactory().members.add(fixer)
    for _ in range(3):
        ServiceRequestFactory(requested_by=boss, submitted_at=timezone.now())
    ServiceRequestFactory(requested_by=plain, submitted_at=timezone.now())

    chosen = people()

    # The executive has three requests to the employee's one, and is passed over.
    assert chosen["employee"].username == "plain"
    assert chosen["employee"].load == "1 requests"
    assert chosen["holder"].username != "boss"
    assert chosen["approver"].username == "approver"
    assert chosen["fulfiller"].username == "fixer"


ROWS = 'SELECT "id" FROM "catalog_requestitem" WHERE "id" IN (17, 18)'
PERSON = 'SELECT "id" FROM "auth_user" WHERE "id" = 3'
STEP = 'SELECT "id" FROM "catalog_approvalstep" WHERE "item_id" = 17'
OTHER_STEP = 'SELECT "id" FROM "catalog_approvalstep" WHERE "item_id" = 18'


def _side(median_ms, sql):
    return {"median_ms": median_ms, "queries": len(sql), "sql": sql}


@pytest.mark.parametrize(
    ("demo", "large", "expected"),
    [
        # Times: under 150 ms, and at most 1.5x the demo's or within 5 ms of it.
        (_side(20, [PERSON]), _side(30, [PERSON]), "ok"),
        (_side(20, [PERSON]), _side(31, [PERSON]), "MISSED: > 1.5x and +11 ms"),
        (_side(2, [PERSON]), _side(6, [PERSON]), "ok"),
        (_side(140, [PERSON]), _side(150, [PERSON]), "MISSED: >= 150 ms"),
        # One query on one side only: an empty page skips its rows, a request
        # that never needed approval its steps.
        (
            _side(20, [PERSON]),
            _side(25, [PERSON, ROWS]),
            "ok (queries differ by the data's shape)",
        ),
        (
            _side(20, [PERSON, STEP]),
            _side(25, [PERSON]),
            "ok (queries differ by the data's shape)",
        ),
        # A query per row: the same query for another row, or twice on one side.
        (
            _side(20, [PERSON, STEP]),
            _side(25, [PERSON, STEP, OTHER_STEP]),
            "MISSED: query count differs",
        ),
        (
            _side(20, [PERSON]),
            _side(25, [PERSON, STEP, OTHER_STEP]),
            "MISSED: query count differs",
        ),
        # Without the queries to compare, any difference misses.
        (
            {"median_ms": 20, "queries": 1},
            {"median_ms": 25, "queries": 2},
            "MISSED: query count differs",
        ),
        (_side(20, [PERSON]), {"error": "answered 500"}, "FAILED: answered 500"),
    ],
)
def test_a_pages_verdict(demo, large, expected):
    assert verdict(demo, large) == expected
