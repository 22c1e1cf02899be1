"""Closing a month's bill: frozen figures, adjustments on the next open bill (and
never twice), refusals, the hash chain and the commands.

The data is the October 2026 fixture of tests/catalog/test_bill.py (CC-2100's
October: 4,459.76). After October is closed on 3 November two things are
recorded that change it:
- the removal of the extra storage held since 3 September, delivered on
  20 October: October now charges 19 days, 12.5 × 19 / 31 = 7.661 → 7.66
  instead of 12.50, an adjustment of -4.84;
- a laptop delivered on 28 October: an adjustment of +1,200.00.
November's charges then are: the laptop of 2 November 1,200.00; extra storage
for the whole month, 4 items (2 since August, 1 since 10 October, 1 delivered
on 1 November) × 12.50 = 50.00; the mobile phone 20.00: 1,270.00, plus the
adjustments 1,195.16: 2,465.16.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from catalog.exceptions import InvalidInput, NotAllowed
from catalog.models import BillClosing, ItemStatus
from catalog.selectors.reporting.bill import bill_for
from catalog.selectors.reporting.scope import reporting_scope
from catalog.services.billing import bill_close, bill_closings_verify, closing_hash
from catalog.services.reporting import reporting_rebuild
from tests.catalog.test_bill import at, build_october, make_item, remove, table
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
D = Decimal
OCTOBER, NOVEMBER, DECEMBER = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def october():
    data = build_october()
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    admin.user_permissions.add(Permission.objects.get(codename="close_bills"))
    data["people"]["admin"] = admin
    return data


@pytest.fixture
def clock():
    with time_machine.travel(
        datetime(2026, 11, 3, 10, 0, tzinfo=LONDON), tick=False
    ) as moving:
        yield moving


def bill(data, month, viewer="coo"):
    return bill_for(
        scope=reporting_scope(user=data["people"][viewer]),
        cost_centre=data["cc_sales"],
        month=month,
    )


def change_october_after_closing(data):
    items = data["items"]
    remove(items["storage 3 Sep"], at(2026, 10, 20))
    sam = data["people"]["sam"]
    make_item(
        sam, data["cc_sales"], "New laptop", one_off="1200", delivered=at(2026, 10, 28)
    )
    reporting_rebuild()


def close(data, month, **kwargs):
    actor = kwargs.pop("actor", data["people"]["admin"])
    return bill_close(
        cost_centre=kwargs.pop("cost_centre", data["cc_sales"]),
        month=month,
        actor=actor,
        **kwargs,
    )


def test_closing_freezes_the_bill(october, clock):
    closing = close(october, OCTOBER)
    assert (closing.sequence, closing.previous_hash) == (1, "")
    assert closing.total == D("4459.76")
    assert closing.hash == closing_hash(closing)
    assert closing.statement["totals"]["total"] == "4459.76"
    shown = bill(october, OCTOBER)
    assert shown.closed.name == "Ada Admin"
    assert shown.closed.closed_at == datetime(2026, 11, 3, 10, 0, tzinfo=LONDON)
    assert shown.issued_on == date(2026, 11, 3)
    assert shown.total == D("4459.76")


def test_later_changes_appear_once_as_adjustments_on_the_next_open_bill(october, clock):
    close(october, OCTOBER)
    frozen = table(bill(october, OCTOBER))
    change_october_after_closing(october)

    # October is shown as it was closed.
    october_bill = bill(october, OCTOBER)
    assert table(october_bill) == frozen
    assert october_bill.total == D("4459.76")

    # November carries the differences.
    november = bill(october, NOVEMBER)
    assert table(november) == [
        ("New laptop", 1, "item", D("1200.00"), D("1200.00")),
        ("Extra storage, the whole month", 4, "months", D("12.50"), D("50.00")),
        ("Mobile phone, the whole month", 1, "month", D("20.00"), D("20.00")),
        (
            "Extra storage: monthly charges for October 2026",
            None,
            "",
            None,
            D("-4.84"),
        ),
        (
            "New laptop: one-off charges for October 2026",
            None,
            "",
            None,
            D("1200.00"),
        ),
    ]
    assert november.charges_total == D("1270.00")
    assert november.adjustments_total == D("1195.16")
    assert november.total == D("2465.16")
    # Finance's part of CC-2100 didn't change.
    assert bill(october, NOVEMBER, viewer="finance head").lines == []

    # Close November in December: its statement keeps the adjustments.
    clock.move_to(datetime(2026, 12, 2, 9, 0, tzinfo=LONDON))
    closing = close(october, NOVEMBER)
    assert closing.sequence == 2
    assert closing.previous_hash == BillClosing.objects.get(sequence=1).hash
    assert closing.statement["totals"] == {
        "one_off": "1200.00",
        "recurring": "70.00",
        "charges": "1270.00",
        "adjustments": "1195.16",
        "total": "2465.16",
    }
    assert [
        (row["kind"], row.get("for_month"), row["service"], row["amount"])
        for row in closing.statement["lines"]
        if row["kind"] == "adjustment"
    ] == [
        ("adjustment", "2026-10", "Extra storage", "-4.84"),
        ("adjustment", "2026-10", "New laptop", "1200.00"),
    ]

    # December: no adjustment is repeated.
    december = bill(october, DECEMBER)
    assert december.adjustments == []
    assert december.total == D("70.00")

    # A later change to October (a docking station reopened) reaches
    # December, net of what November already carried.
    dock = october["items"]["dock 175"]
    dock.status, dock.fulfilled_at = ItemStatus.IN_PROGRESS, None
    dock.save()
    reporting_rebuild()
    december = bill(october, DECEMBER)
    assert table(december)[-1:] == [
        (
            "Docking station: one-off charges for October 2026",
            None,
            "",
            None,
            D("-175.00"),
        )
    ]
    assert december.total == D("-105.00")
    # ... and October and November stay as closed.
    assert bill(october, OCTOBER).total == D("4459.76")
    assert bill(october, NOVEMBER).total == D("2465.16")


def test_a_department_sees_its_part_of_a_closed_bill(october, clock):
    close(october, OCTOBER)
    assert bill(october, OCTOBER, viewer="sales head").total == D("4309.76")
    assert bill(october, OCTOBER, viewer="finance head").total == D("150.00")


def test_closing_twice_is_refused_with_a_message(october, clock):
    close(october, OCTOBER)
    with pytest.raises(InvalidInput) as refused:
        close(october, OCTOBER)
    assert refused.value.errors == {
        "month": [
            "October 2026 is already closed for CC-2100 (closed on 3 November 2026 "
            "by Ada Admin). A closed bill is never changed: later corrections "
            "appear as adjustments on the next bill."
        ]
    }
    assert BillClosing.objects.count() == 1


@pytest.mark.parametrize("month", [NOVEMBER, DECEMBER, date(9999, 1, 1)])
def test_only_months_that_have_ended_can_be_closed(october, clock, month):
    with pytest.raises(InvalidInput) as refused:
        close(october, month)
    assert refused.value.errors["month"][0].endswith(
        "hasn't ended yet: only months before November 2026 can be closed."
    )
    assert not BillClosing.objects.exists()


def test_closing_needs_the_permission(october, clock):
    with pytest.raises(NotAllowed):
        close(october, OCTOBER, actor=october["people"]["coo"])
    assert not BillClosing.objects.exists()


def test_the_system_closes_without_a_person(october, clock):
    closing = close(october, OCTOBER, actor=None)
    assert closing.closed_by is None
    assert bill(october, OCTOBER).closed.name == "the system"


# --- The chain ---------------------------------------------------------------------


@pytest.fixture
def two_closings(october, clock):
    close(october, OCTOBER)
    close(october, OCTOBER, cost_centre=october["cc_finance"])
    return BillClosing.objects.order_by("sequence")


def test_closings_chain_across_cost_centres(two_closings):
    first, second = two_closings
    assert (first.sequence, second.sequence) == (1, 2)
    assert second.previous_hash == first.hash
    assert second.total == D("1200.00")
    assert list(bill_closings_verify()) == []


def test_verify_passes_on_untouched_closings(two_closings, capsys):
    call_command("verify_bill_closings")
    assert "Closed bills intact: 2 closings checked." in capsys.readouterr().out


def hand_edit(sql, params):
    """What an administrator with a database console could do."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL refuses the edit itself"
)
def test_a_hand_edited_closing_is_caught(two_closings, capsys):
    first = two_closings[0]
    hand_edit(
        "UPDATE catalog_billclosing SET total = %s WHERE id = %s", ["1.00", first.pk]
    )
    assert [(b.sequence, b.label, b.reason) for b in bill_closings_verify()] == [
        (1, "CC-2100 2026-10", "its content was changed")
    ]
    with pytest.raises(CommandError, match="1 broken link"):
        call_command("verify_bill_closings")
    assert "Closing #1 (CC-2100 2026-10" in capsys.readouterr().out


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL refuses the delete itself"
)
def test_a_removed_closing_is_caught(two_closings):
    hand_edit("DELETE FROM catalog_billclosing WHERE sequence = %s", [1])
    assert [(b.sequence, b.reason) for b in bill_closings_verify()] == [
        (2, "expected closing number 1: a closing is missing or was inserted"),
        (
            2,
            "does not follow the previous closing (a closing was changed, removed "
            "or inserted before it)",
        ),
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_postgresql_refuses_changing_or_removing_a_closing(two_closings):
    first = two_closings[0]
    for sql in (
        "UPDATE catalog_billclosing SET total = 1 WHERE id = %s",
        "DELETE FROM catalog_billclosing WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            hand_edit(sql, [first.pk])
    assert list(bill_closings_verify()) == []


# --- The command ---------------------------------------------------------------------


def test_close_bills_closes_every_cost_centre_with_charges(october, clock, capsys):
    call_command("close_bills", "--month", "2026-10")
    out = capsys.readouterr().out
    # CC-0100 had no charges in October.
    assert "CC-1100: closed October 2026, total 1,200.00." in out
    assert "CC-2100: closed October 2026, total 4,459.76." in out
    assert "Closed 2 of 2 bill(s) for October 2026." in out
    assert [(c.cost_centre.code, c.closed_by) for c in BillClosing.objects.all()] == [
        ("CC-1100", None),
        ("CC-2100", None),
    ]
    # Again: nothing changes, and it says why.
    call_command("close_bills", "--month", "2026-10")
    out = capsys.readouterr().out
    assert "CC-2100: October 2026 is already closed for CC-2100" in out
    assert "Closed 0 of 2 bill(s)" in out
    assert BillClosing.objects.count() == 2


def test_close_bills_for_one_cost_centre(october, clock, capsys):
    call_command("close_bills", "--month", "2026-10", "--cost-centre", "CC-2100")
    assert "Closed 1 of 1 bill(s)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already closed for CC-2100"):
        call_command("close_bills", "--month", "2026-10", "--cost-centre", "CC-2100")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-11"], "November 2026 hasn't ended yet"),
        (["--month", "9999-01"], "There is no bill for January 9999 yet"),
        (["--month", "0000-13"], "Enter the month as year and month"),
        (["--month", "2026-10", "--cost-centre", "CC-9999"], "no cost centre CC-9999"),
    ],
)
def test_close_bills_refuses_bad_input(october, clock, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("close_bills", *args)
    assert not BillClosing.objects.exists()


def test_closing_every_month_of_generated_history_leaves_no_adjustment():
    """The adjustments compare what was frozen (added up from the items) with
    the months worked out again from the rollups: on untouched data the two
    agree to the cent for every department, service and kind of charge, so
    closing months never makes an adjustment by itself."""
    from catalog.demo.history import history_generate
    from catalog.demo.loader import load_demo

    load_demo()
    with time_machine.travel(datetime(2026, 11, 3, 10, 0, tzinfo=LONDON), tick=False):
        history_generate(requests=60, seed=5, months=3)
        for month in (date(2026, 8, 1), date(2026, 9, 1), OCTOBER):
            call_command("close_bills", "--month", f"{month:%Y-%m}")
        coo = reporting_scope(user=get_user_model().objects.get(username="executive"))
        closed = BillClosing.objects.select_related("cost_centre")
        assert closed.count() >= 8
        for closing in closed:
            shown = bill_for(
                scope=coo, cost_centre=closing.cost_centre, month=closing.month
            )
            assert shown.total == closing.total
            following = bill_for(
                scope=coo,
                cost_centre=closing.cost_centre,
                month=date(
                    closing.month.year + closing.month.month // 12,
                    closing.month.month % 12 + 1,
                    1,
                ),
            )
            assert following.adjustments == []
    assert list(bill_closings_verify()) == []
