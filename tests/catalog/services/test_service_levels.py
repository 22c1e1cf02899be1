"""Stored service-level figures always equal what the log and calendar say:
calendar changes move open items (logged), `rebuild_service_levels` finds and
repairs any difference, and random activity through the services never leaves
one. Internal targets stay stricter than customer targets in the database too."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from catalog.exceptions import CatalogError
from catalog.models import (
    ApprovalStep,
    BusinessCalendar,
    CalendarClosure,
    CalendarVersion,
    HoldReason,
    InternalTarget,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceLevel,
)
from catalog.services import fulfilment
from catalog.services.approvals import approval_decide
from catalog.services.request_log import request_log_verify
from catalog.services.service_levels import calendar_changed, service_levels_rebuild
from catalog.services.sweep import service_desk_sweep
from tests.concurrency import at_once
from tests.conftest import order
from tests.factories import FulfilmentGroupFactory, ServiceLevelFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def london(*args):
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def leveled(catalog, standard_level):
    """Every fixture service on the fixtures' "Standard" level (4 h / 16 h for the
    customer, 2 h / 12 h inside IT, office hours)."""
    for key in ("password", "laptop", "starter"):
        page = catalog[key]
        page.service_level = standard_level
        page.save_revision().publish()
    return catalog


@time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=LONDON), tick=False)
def test_a_calendar_change_moves_open_items_with_a_log_entry(
    employee, leveled, fulfiller
):
    open_item = order(employee, leveled, "password").items.get()
    done_item = order(employee, leveled, "password").items.get()
    fulfiller_start = fulfilment.item_start(item_id=done_item.pk, actor=fulfiller)
    fulfilment.item_resolve(item_id=fulfiller_start.pk, actor=fulfiller, note="Done")
    done_item.refresh_from_db()
    done_figures = (done_item.resolution_due_at, done_item.calendar_version_id)
    assert open_item.resolution_due_at == london(2026, 11, 24, 15, 0)
    office = BusinessCalendar.objects.get(name="Office hours")
    CalendarClosure.objects.create(
        calendar=office, first_day=date(2026, 11, 24), name="Office move"
    )
    assert calendar_changed(calendar_id=office.pk, actor=fulfiller) == 1
    open_item.refresh_from_db()
    # Tuesday is closed now: 9 h on Monday, the other 7 on Wednesday.
    assert open_item.resolution_due_at == london(2026, 11, 25, 15, 0)
    versions = list(
        CalendarVersion.objects.filter(calendar=office).values_list("number", "pk")
    )
    assert [number for number, _ in versions] == [2, 1]
    assert open_item.calendar_version_id == versions[0][1]
    changed = RequestEvent.objects.get(name="item.calendar_changed")
    assert (changed.item_id, changed.actor) == (open_item.pk, fulfiller)
    assert changed.data == {
        "calendar": "Office hours",
        "from_version": versions[1][1],
        "to_version": versions[0][1],
    }
    done_item.refresh_from_db()
    assert (done_item.resolution_due_at, done_item.calendar_version_id) == done_figures
    # Saving the calendar again without a change moves nothing.
    assert calendar_changed(calendar_id=office.pk, actor=fulfiller) == 0
    assert service_levels_rebuild() == []


def test_rebuild_finds_and_repairs_a_figure_edited_by_hand(employee, leveled):
    item = order(employee, leveled, "password").items.get()
    right = item.resolution_due_at
    RequestItem.objects.filter(pk=item.pk).update(
        resolution_due_at=right + timedelta(days=3)
    )
    (difference,) = service_levels_rebuild()
    assert (difference.number, difference.field) == (item.number, "resolution_due_at")
    assert (difference.stored, difference.rebuilt) == (right + timedelta(days=3), right)
    with pytest.raises(CommandError, match="1 stored figures on 1 items differ"):
        call_command("rebuild_service_levels", "--check", stdout=StringIO())
    assert RequestItem.objects.get(pk=item.pk).resolution_due_at != right
    call_command("rebuild_service_levels", stdout=StringIO())
    assert RequestItem.objects.get(pk=item.pk).resolution_due_at == right
    call_command("rebuild_service_levels", "--check", stdout=StringIO())


def test_random_activity_leaves_stored_figures_equal_to_the_rebuilt_ones(
    employee, a_manager, leveled, fulfiller, reports_to_manager, order_on_behalf
):
    """Many items through random but allowed actions over two simulated weeks,
    with the scheduled check running in between."""
    rng = random.Random(6)
    reasons = list(HoldReason.objects.all())
    moment = london(2026, 11, 20, 8, 30)  # a Friday, so weekends are crossed
    items = []
    with time_machine.travel(moment, tick=False) as clock:
        for _ in range(14):
            which = rng.choice(["password", "laptop", "laptop", "password"])
            items += list(order(employee, leveled, which).items.all())
            clock.shift(timedelta(minutes=rng.randint(5, 300)))
        for _ in range(160):
            clock.shift(timedelta(minutes=rng.randint(10, 600)))
            item = RequestItem.objects.get(pk=rng.choice(items).pk)
            _random_action(rng, item, a_manager, employee, fulfiller, reasons)
            if rng.random() < 0.3:
                service_desk_sweep()
    reached = set(RequestEvent.objects.values_list("to_state", flat=True))
    assert {"approved", "rejected", "on_hold", "fulfilled", "closed"} <= reached
    assert RequestEvent.objects.filter(name="item.breached").exists()
    assert service_levels_rebuild() == []
    assert list(request_log_verify()) == []


def _random_action(rng, item, approver, requester, fulfiller, reasons):
    try:
        if item.status == ItemStatus.AWAITING_APPROVAL:
            step = ApprovalStep.objects.filter(item=item, status="pending").first()
            approve = rng.random() < 0.85
            approval_decide(
                step_id=step.pk, actor=approver, approve=approve, note="Not now."
            )
        elif item.status in (ItemStatus.SUBMITTED, ItemStatus.APPROVED):
            if rng.random() < 0.1:
                fulfilment.item_cancel(item_id=item.pk, actor=requester)
            elif rng.random() < 0.3:
                fulfilment.request_comment_add(
                    request_id=item.request_id, actor=fulfiller, text="Looking at it."
                )
            else:
                fulfilment.item_start(item_id=item.pk, actor=fulfiller)
        elif item.status == ItemStatus.IN_PROGRESS:
            roll = rng.random()
            if roll < 0.35:
                reason = rng.choice(reasons)
                fulfilment.item_hold(
                    item_id=item.pk, actor=fulfiller, reason_id=reason.pk, note="Wait"
                )
            elif roll < 0.45:
                fulfilment.item_work_note_add(
                    item_id=item.pk, actor=fulfiller, text="Checked."
                )
            else:
                fulfilment.item_resolve(item_id=item.pk, actor=fulfiller, note="Done")
        elif item.status == ItemStatus.ON_HOLD:
            if rng.random() < 0.3:
                fulfilment.request_comment_add(
                    request_id=item.request_id, actor=requester, text="Here you go."
                )
            fulfilment.item_resume(item_id=item.pk, actor=fulfiller)
        elif item.status == ItemStatus.FULFILLED:
            if rng.random() < 0.2:
                fulfilment.item_transition(
                    item_id=item.pk, to_state=ItemStatus.IN_PROGRESS, actor=fulfiller
                )
            elif rng.random() < 0.5:
                fulfilment.item_rate(
                    item_id=item.pk, actor=requester, rating=rng.randint(1, 5)
                )
    except CatalogError:
        pass  # a refused action changes nothing, which is also what we check


# --- Internal targets stay stricter, in the database too ------------------------------


def test_a_service_level_whose_internal_target_is_not_stricter_is_refused(db):
    level = ServiceLevelFactory(name="Gold")
    level.internal_resolution_target_hours = level.resolution_target_hours
    with pytest.raises(Exception) as exc:
        level.full_clean()
    assert "stricter" in str(exc.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceLevel.objects.filter(pk=level.pk).update(
            internal_resolution_target_hours=level.resolution_target_hours
        )


def test_a_groups_internal_target_must_be_stricter_at_the_database(db):
    level = ServiceLevelFactory(name="Gold")  # 4 h / 16 h for customers
    team = FulfilmentGroupFactory(name="Network")
    with pytest.raises(IntegrityError), transaction.atomic():
        InternalTarget.objects.create(
            fulfilment_group=team,
            service_level=level,
            response_target_hours=Decimal("2"),
            resolution_target_hours=Decimal("16"),
        )
    target = InternalTarget.objects.create(
        fulfilment_group=team,
        service_level=level,
        response_target_hours=Decimal("2"),
        resolution_target_hours=Decimal("10"),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        InternalTarget.objects.filter(pk=target.pk).update(
            response_target_hours=Decimal("4")
        )
    # Tightening the customer target below a team's target is refused as well.
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceLevel.objects.filter(pk=level.pk).update(
            resolution_target_hours=Decimal("10")
        )
    level.refresh_from_db()
    assert level.resolution_target_hours == Decimal("16")
    level.resolution_target_hours = Decimal("9")
    level.internal_resolution_target_hours = Decimal("8")
    with pytest.raises(Exception) as exc:
        level.full_clean()
    assert "Network" in str(exc.value)


def test_an_item_copies_its_teams_internal_targets(employee, leveled, standard_level):
    team = FulfilmentGroupFactory(name="Access team")
    InternalTarget.objects.create(
        fulfilment_group=team,
        service_level=standard_level,
        response_target_hours=Decimal("1"),
        resolution_target_hours=Decimal("8"),
    )
    page = leveled["password"]
    page.fulfilment_group = team
    page.save_revision().publish()
    item = order(employee, leveled, "password").items.get()
    assert (
        item.response_target_hours,
        item.resolution_target_hours,
        item.internal_response_target_hours,
        item.internal_resolution_target_hours,
        item.calendar_name,
    ) == (Decimal("4"), Decimal("16"), Decimal("1"), Decimal("8"), "Office hours")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    "sqlite" in connection.settings_dict["ENGINE"],
    reason="row locks across threads need PostgreSQL",
)
def test_concurrent_first_uses_of_a_calendar_record_one_version(standard_level):
    """Found with two servers: the first checkouts after a calendar is created
    outside the admin both recorded version 1, and one answered 500."""
    from catalog.services.service_levels import calendar_current_version

    calendar_id = standard_level.calendar_id
    CalendarVersion.objects.filter(calendar_id=calendar_id).delete()

    def first_use():
        with transaction.atomic():
            return calendar_current_version(calendar_id).pk

    found, errors = at_once(first_use, 6)
    assert errors == []
    numbers = list(
        CalendarVersion.objects.filter(calendar_id=calendar_id).values_list(
            "number", flat=True
        )
    )
    assert numbers == [1]
    assert len(set(found)) == 1
