"""The scheduled check: breaches and risks are logged, stored with the moment they
happened and mailed to the team exactly once; delivered items close after the
rating window."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from catalog.models import ItemStatus, RequestEvent, RequestItem
from catalog.services.fulfilment import item_resolve, item_start
from catalog.services.sweep import service_desk_sweep
from tests.conftest import order
from tests.factories import FulfilmentGroupFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def london(*args):
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def item(employee, catalog, fulfiller, standard_level):
    """ "Reset a forgotten password", ordered on Monday 23 November 2026 at 09:00
    and handled by a team with an inbox. Its level (the fixtures' "Standard") is
    4 h response and 16 h resolution for the customer, 2 h and 12 h inside IT,
    on office hours (Monday to Friday 08:00–18:00)."""
    team = FulfilmentGroupFactory(name="Service desk", email="desk@example.com")
    team.members.add(fulfiller)
    page = catalog["password"]
    page.fulfilment_group = team
    page.service_level = standard_level
    page.save_revision().publish()
    with time_machine.travel(london(2026, 11, 23, 9, 0), tick=False):
        return order(employee, catalog, "password").items.get()


def sweep_at(*when, capture):
    with capture(execute=True), time_machine.travel(london(*when), tick=False):
        return service_desk_sweep(now=london(*when)).as_dict()


def test_due_times_as_ordered(item):
    assert (item.response_due_at, item.internal_response_due_at) == (
        london(2026, 11, 23, 13, 0),
        london(2026, 11, 23, 11, 0),
    )
    assert (item.resolution_due_at, item.internal_resolution_due_at) == (
        london(2026, 11, 24, 15, 0),
        london(2026, 11, 24, 11, 0),
    )
    assert (item.at_risk_from, item.internal_at_risk_from) == (
        london(2026, 11, 24, 11, 0),
        london(2026, 11, 23, 18, 0),
    )


def test_each_breach_and_risk_is_logged_and_mailed_exactly_once(
    item, fulfiller, mailoutbox, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    mailoutbox.clear()
    counts = [
        ("nothing due yet", sweep_at(2026, 11, 23, 10, 0, capture=capture)),
        ("internal response late", sweep_at(2026, 11, 23, 11, 5, capture=capture)),
        ("again: nothing new", sweep_at(2026, 11, 23, 11, 10, capture=capture)),
    ]
    with time_machine.travel(london(2026, 11, 23, 12, 0), tick=False):
        item_start(item_id=item.pk, actor=fulfiller)
    counts += [
        ("internal clock at risk", sweep_at(2026, 11, 23, 18, 5, capture=capture)),
        (
            "internal due, customer at risk",
            sweep_at(2026, 11, 24, 11, 5, capture=capture),
        ),
        ("customer due", sweep_at(2026, 11, 24, 15, 5, capture=capture)),
        ("and never again", sweep_at(2026, 11, 24, 16, 0, capture=capture)),
    ]
    assert [(what, c["breaches"], c["at_risk"]) for what, c in counts] == [
        ("nothing due yet", 0, 0),
        ("internal response late", 1, 0),
        ("again: nothing new", 0, 0),
        ("internal clock at risk", 0, 1),
        ("internal due, customer at risk", 1, 1),
        ("customer due", 1, 0),
        ("and never again", 0, 0),
    ]
    item.refresh_from_db()
    assert item.first_response_at == london(2026, 11, 23, 12, 0)
    assert item.response_breached_at is None  # answered at 12:00, due at 13:00
    assert item.internal_response_breached_at == london(2026, 11, 23, 11, 0)
    assert item.internal_at_risk_at == london(2026, 11, 23, 18, 0)
    assert item.internal_resolution_breached_at == london(2026, 11, 24, 11, 0)
    assert item.at_risk_at == london(2026, 11, 24, 11, 0)
    assert item.resolution_breached_at == london(2026, 11, 24, 15, 0)
    number = item.number
    late = f"Late: {number} Reset a forgotten password missed its target"
    at_risk = f"At risk: {number} Reset a forgotten password"
    # The team hears of its own clock's risk and of every breach; nobody else.
    assert [(m.subject, m.to) for m in mailoutbox] == [
        (late, ["desk@example.com"]),
        (at_risk, ["desk@example.com"]),
        (late, ["desk@example.com"]),
        (late, ["desk@example.com"]),
    ]
    marks = list(
        RequestEvent.objects.filter(
            item=item, name__in=["item.at_risk", "item.breached"]
        )
        .order_by("sequence")
        .values_list("name", "data")
    )
    assert marks == [
        (
            "item.breached",
            {"clock": "internal", "target": "response", "due": "2026-11-23T11:00:00Z"},
        ),
        ("item.at_risk", {"clock": "internal", "at": "2026-11-23T18:00:00Z"}),
        (
            "item.breached",
            {
                "clock": "internal",
                "target": "resolution",
                "due": "2026-11-24T11:00:00Z",
            },
        ),
        ("item.at_risk", {"clock": "customer", "at": "2026-11-24T11:00:00Z"}),
        (
            "item.breached",
            {
                "clock": "customer",
                "target": "resolution",
                "due": "2026-11-24T15:00:00Z",
            },
        ),
    ]


def test_a_delivered_item_is_not_marked_and_closes_after_the_window(
    item, fulfiller, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(london(2026, 11, 23, 9, 30), tick=False):
        item_start(item_id=item.pk, actor=fulfiller)
    with time_machine.travel(london(2026, 11, 23, 10, 0), tick=False):
        item_resolve(item_id=item.pk, actor=fulfiller, note="New password sent.")
    assert sweep_at(2026, 11, 27, 9, 0, capture=capture) == {
        "breaches": 0,
        "at_risk": 0,
        "reminded": 0,
        "escalated": 0,
        "closed": 0,
    }
    assert sweep_at(2026, 11, 28, 10, 1, capture=capture)["closed"] == 1
    assert sweep_at(2026, 11, 28, 10, 6, capture=capture)["closed"] == 0
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED
    assert item.resolution_breached_at is None


def test_two_checks_in_a_row_write_nothing_twice(
    item, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    first = sweep_at(2026, 11, 30, 9, 0, capture=capture)
    events = RequestEvent.objects.count()
    second = sweep_at(2026, 11, 30, 9, 0, capture=capture)
    assert (first["breaches"], first["at_risk"]) == (4, 2)
    assert (second["breaches"], second["at_risk"]) == (0, 0)
    assert RequestEvent.objects.count() == events
    assert RequestItem.objects.get(pk=item.pk).resolution_breached_at == london(
        2026, 11, 24, 15, 0
    )
