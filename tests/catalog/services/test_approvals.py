"""Approval policy and decisions: which steps a request gets, who is asked, who may
decide, substitutes, reminders and escalation."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from catalog.exceptions import ApprovalRefused, InvalidInput, NotFoundForUser
from catalog.models import (
    ApprovalDelegation,
    ApprovalStep,
    BusinessCalendar,
    ItemStatus,
    RequestEvent,
    ServiceDeskSettings,
    UserProfile,
)
from catalog.services.approvals import (
    approval_decide,
    approval_delegation_add,
    approval_delegation_remove,
    request_approvals_decide,
)
from catalog.services.sweep import service_desk_sweep
from tests.conftest import order
from tests.factories import CostCentreFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)


def london(*args):
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def boss(employee, a_manager):
    """The employee's manager, who approves what the laptop needs."""
    UserProfile.objects.filter(user=employee).update(manager=a_manager)
    return a_manager


@pytest.fixture
def owner(db):
    return UserFactory(username="owner", first_name="Olga", last_name="Owner")


@pytest.fixture
def big_boss(a_manager):
    person = UserFactory(username="ceo", first_name="Cleo", last_name="Chief")
    UserProfile.objects.filter(user=a_manager).update(manager=person)
    return person


def steps_of(request):
    return [
        (s.item.service_name, s.position, s.kind, s.approver, s.status)
        for s in ApprovalStep.objects.filter(request=request)
        .select_related("item", "approver")
        .order_by("item__line_number", "position")
    ]


# --- The policy -----------------------------------------------------------------------


def test_a_service_that_needs_approval_asks_the_recipients_manager(
    employee, boss, catalog
):
    request = order(employee, catalog, "laptop", "password")
    laptop, password = request.items.order_by("line_number")
    assert steps_of(request) == [("New laptop", 1, "manager", boss, "pending")]
    assert (laptop.status, password.status) == ("awaiting_approval", "submitted")
    assert laptop.clock_started_at is None
    assert password.clock_started_at == request.submitted_at
    asked = RequestEvent.objects.get(name="approval.requested")
    assert asked.item == laptop
    assert asked.data == {
        "step": 1,
        "kind": "manager",
        "reason": "The service needs the manager's approval",
        "approver": boss.pk,
        "approver_name": boss.get_full_name(),
    }


def test_a_request_above_the_threshold_also_needs_the_cost_centre_owner(
    employee, boss, owner, catalog
):
    centre = employee.profile.department.cost_centre
    centre.owner, centre.approval_threshold = owner, Decimal("1000")
    centre.save()
    request = order(employee, catalog, "laptop", "password")
    assert steps_of(request) == [
        ("New laptop", 1, "manager", boss, "pending"),
        ("New laptop", 2, "cost_centre", owner, "queued"),
    ]
    step = ApprovalStep.objects.get(position=2)
    assert step.reason == (
        f"One-off total EUR 1,200.00 is above the EUR 1,000.00 limit of {centre.code}"
    )


def test_monthly_charges_over_a_year_count_against_the_threshold(
    employee, owner, catalog
):
    from tests.factories import service_page

    storage = service_page(
        catalog["access"], "Extra storage", monthly_price=Decimal("40")
    )
    centre = employee.profile.department.cost_centre
    centre.owner, centre.approval_threshold = owner, Decimal("450")
    centre.save()
    catalog["storage"] = storage
    request = order(employee, catalog, "storage")
    assert steps_of(request) == [("Extra storage", 1, "cost_centre", owner, "pending")]
    assert ApprovalStep.objects.get().reason == (
        "Monthly charges come to EUR 480.00 a year, above the EUR 450.00 limit of "
        f"{centre.code}"
    )


def test_below_the_threshold_no_owner_is_asked(employee, owner, catalog):
    from tests.factories import service_page

    catalog["mouse"] = service_page(
        catalog["computers"], "A mouse", one_off_price=Decimal("20")
    )
    centre = employee.profile.department.cost_centre
    centre.owner, centre.approval_threshold = owner, Decimal("5000")
    centre.save()
    request = order(employee, catalog, "mouse")
    assert steps_of(request) == []
    assert request.items.get().status == ItemStatus.SUBMITTED


def test_another_departments_cost_centre_always_needs_its_owner(
    employee, owner, catalog
):
    from catalog.selectors.basket import basket_review
    from catalog.services.basket import basket_line_add
    from catalog.services.checkout import request_submit

    other = CostCentreFactory(code="CC-7000", name="Marketing")
    other.owner = owner
    other.save()
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    from tests.factories import service_page

    mouse = service_page(catalog["computers"], "A mouse", one_off_price=Decimal("20"))
    basket_line_add(user=employee, service_id=mouse.pk, data={})
    review = basket_review(user=employee)
    request = request_submit(
        user=employee,
        basket_id=review.basket.pk,
        expected_fingerprint=review.fingerprint,
        business_reason="Campaign",
        cost_centre=other,
    ).service_request
    # Free items cost the cost centre nothing: only the mouse needs its owner.
    assert steps_of(request) == [("A mouse", 1, "cost_centre", owner, "pending")]
    assert ApprovalStep.objects.get().reason == (
        f"Charged to CC-7000, which is not {employee.get_full_name()}'s "
        "department's cost centre"
    )


def test_when_the_manager_also_owns_the_cost_centre_they_are_asked_once(
    employee, boss, catalog
):
    centre = employee.profile.department.cost_centre
    centre.owner, centre.approval_threshold = boss, Decimal("100")
    centre.save()
    request = order(employee, catalog, "laptop")
    ((_, position, kind, approver, status),) = steps_of(request)
    assert (position, kind, approver, status) == (1, "manager", boss, "pending")
    assert ApprovalStep.objects.get().reason.startswith(
        "The service needs the manager's approval; One-off total"
    )


def test_nobody_approves_their_own_request_it_goes_up_the_line(
    a_manager, big_boss, catalog, managers
):
    request = order(a_manager, catalog, "laptop")
    # The manager's own manager is asked, not the manager.
    assert steps_of(request) == [("New laptop", 1, "manager", big_boss, "pending")]


def test_a_manager_ordering_for_a_report_is_not_their_approver(
    employee, boss, big_boss, catalog, order_on_behalf
):
    from catalog.selectors.basket import basket_review
    from catalog.services.basket import basket_line_add
    from catalog.services.checkout import request_submit
    from tests.conftest import LAPTOP_ANSWERS

    basket_line_add(
        user=boss,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    review = basket_review(user=boss)
    request = request_submit(
        user=boss,
        basket_id=review.basket.pk,
        expected_fingerprint=review.fingerprint,
        business_reason="New joiner",
        requested_for=employee,
    ).service_request
    assert steps_of(request) == [("New laptop", 1, "manager", big_boss, "pending")]


def test_with_nobody_to_ask_the_step_waits_for_an_administrator(employee, catalog):
    request = order(employee, catalog, "laptop")
    assert steps_of(request) == [("New laptop", 1, "manager", None, "pending")]
    admin = UserFactory(username="root", is_superuser=True)
    approval_decide(step_id=ApprovalStep.objects.get().pk, actor=admin, approve=True)
    assert request.items.get().status == ItemStatus.APPROVED


# --- Decisions ------------------------------------------------------------------------


@time_machine.travel(MONDAY_9AM, tick=False)
def test_the_last_approval_starts_the_clock(employee, boss, catalog):
    request = order(employee, catalog, "laptop")
    step = ApprovalStep.objects.get()
    with time_machine.travel(datetime(2026, 11, 23, 14, 0, tzinfo=LONDON), tick=False):
        approval_decide(step_id=step.pk, actor=boss, approve=True, note="Fine")
    item = request.items.get()
    assert item.status == ItemStatus.APPROVED
    assert item.clock_started_at == london(2026, 11, 23, 14, 0)
    # Standard level in the fixtures: 4 h response, 16 h resolution, office hours:
    # Monday 14:00–18:00 is exactly the response time; then Tue 10 h, Wed 2 h.
    assert item.response_due_at == london(2026, 11, 23, 18, 0)
    assert item.resolution_due_at == london(2026, 11, 25, 10, 0)
    names = list(
        RequestEvent.objects.filter(item=item)
        .order_by("sequence")
        .values_list("name", "actor__username")
    )
    assert names == [
        ("item.created", employee.username),
        ("approval.requested", employee.username),
        ("approval.approved", boss.username),
        ("item.status_changed", boss.username),
    ]


def test_steps_run_in_order(employee, boss, owner, catalog):
    centre = employee.profile.department.cost_centre
    centre.owner, centre.approval_threshold = owner, Decimal("1000")
    centre.save()
    request = order(employee, catalog, "laptop")
    first, second = ApprovalStep.objects.order_by("position")
    with pytest.raises(ApprovalRefused, match="isn't open yet"):
        approval_decide(step_id=second.pk, actor=owner, approve=True)
    approval_decide(step_id=first.pk, actor=boss, approve=True)
    second.refresh_from_db()
    assert second.status == "pending"
    assert request.items.get().status == ItemStatus.AWAITING_APPROVAL
    approval_decide(step_id=second.pk, actor=owner, approve=True)
    assert request.items.get().status == ItemStatus.APPROVED


def test_a_refusal_needs_a_reason_and_ends_the_item(employee, boss, owner, catalog):
    centre = employee.profile.department.cost_centre
    centre.owner, centre.approval_threshold = owner, Decimal("1000")
    centre.save()
    request = order(employee, catalog, "laptop")
    first = ApprovalStep.objects.get(position=1)
    with pytest.raises(InvalidInput) as exc:
        approval_decide(step_id=first.pk, actor=boss, approve=False, note=" ")
    assert exc.value.errors == {
        "note": ["Say why you are not approving it, so they know what to do."]
    }
    assert ApprovalStep.objects.get(position=1).status == "pending"
    approval_decide(step_id=first.pk, actor=boss, approve=False, note="Use a spare.")
    item = request.items.get()
    assert item.status == ItemStatus.REJECTED
    assert list(
        ApprovalStep.objects.order_by("position").values_list("status", flat=True)
    ) == ["rejected", "withdrawn"]
    assert (
        RequestEvent.objects.filter(item=item).latest("sequence").note == "Use a spare."
    )


def test_a_double_clicked_approval_changes_nothing_the_second_time(
    employee, boss, catalog
):
    order(employee, catalog, "laptop")
    step = ApprovalStep.objects.get()
    approval_decide(step_id=step.pk, actor=boss, approve=True)
    events = RequestEvent.objects.count()
    with pytest.raises(ApprovalRefused, match="already approved by Pat"):
        approval_decide(step_id=step.pk, actor=boss, approve=True)
    assert RequestEvent.objects.count() == events


def test_whole_request_or_item_by_item(employee, boss, catalog, managers):
    from tests.factories import service_page

    monitor = service_page(
        catalog["computers"],
        "Second monitor",
        one_off_price=Decimal("180"),
        requires_approval=True,
    )
    catalog["monitor"] = monitor
    first = order(employee, catalog, "laptop", "monitor")
    steps = list(
        ApprovalStep.objects.filter(request=first).order_by("item__line_number")
    )
    approval_decide(step_id=steps[0].pk, actor=boss, approve=True)
    approval_decide(
        step_id=steps[1].pk, actor=boss, approve=False, note="One is enough"
    )
    assert list(
        first.items.order_by("line_number").values_list("status", flat=True)
    ) == [
        "approved",
        "rejected",
    ]
    second = order(employee, catalog, "laptop", "monitor")
    decided = request_approvals_decide(request_id=second.pk, actor=boss, approve=True)
    assert len(decided) == 2
    assert set(second.items.values_list("status", flat=True)) == {"approved"}
    with pytest.raises(ApprovalRefused, match="Nothing on"):
        request_approvals_decide(request_id=second.pk, actor=boss, approve=True)


@pytest.mark.parametrize("who", ["requester", "colleague", "stranger"])
def test_only_the_approver_decides(employee, boss, catalog, finance_londoner, who):
    request = order(employee, catalog, "laptop")
    step = ApprovalStep.objects.get()
    from django.contrib.auth.models import Permission

    colleague = UserFactory(username="colleague")
    colleague.user_permissions.add(Permission.objects.get(codename="work_requests"))
    actor = {
        "requester": employee,
        "colleague": colleague,
        "stranger": finance_londoner,
    }
    expected = {
        "requester": (ApprovalRefused, "can't approve a request you ordered"),
        "colleague": (ApprovalRefused, "not \\(or no longer\\) the approver"),
        "stranger": (NotFoundForUser, None),
    }[who]
    with pytest.raises(expected[0], match=expected[1]):
        approval_decide(step_id=step.pk, actor=actor[who], approve=True)
    assert request.items.get().status == ItemStatus.AWAITING_APPROVAL
    assert ApprovalStep.objects.get().status == "pending"


# --- Substitutes ----------------------------------------------------------------------


def test_a_substitute_decides_in_the_approvers_name_during_the_dates(
    employee, boss, catalog, finance_londoner
):
    order(employee, catalog, "laptop")
    step = ApprovalStep.objects.get()
    approval_delegation_add(
        approver=boss,
        substitute=finance_londoner,
        starts_on=date(2026, 12, 21),
        ends_on=date(2027, 1, 3),
        today=date(2026, 11, 25),
    )
    with pytest.raises(NotFoundForUser):
        approval_decide(
            step_id=step.pk, actor=finance_londoner, approve=True, on=date(2026, 12, 20)
        )
    approval_decide(
        step_id=step.pk, actor=finance_londoner, approve=True, on=date(2026, 12, 21)
    )
    step.refresh_from_db()
    assert (step.decided_by, step.on_behalf_of) == (finance_londoner, boss)
    approved = RequestEvent.objects.get(name="approval.approved")
    assert approved.actor == finance_londoner
    assert (approved.data["on_behalf_of"], approved.data["on_behalf_of_name"]) == (
        boss.pk,
        boss.get_full_name(),
    )


@pytest.mark.parametrize(
    ("substitute", "starts", "ends", "field", "message"),
    [
        ("self", date(2026, 12, 1), date(2026, 12, 5), "substitute", "other than"),
        ("other", date(2026, 12, 5), date(2026, 12, 1), "ends_on", "on or after"),
        ("other", date(2026, 11, 1), date(2026, 11, 20), "ends_on", "has passed"),
        ("other", date(2026, 12, 3), date(2026, 12, 9), "starts_on", "already stands"),
        ("nobody", date(2026, 12, 1), date(2026, 12, 5), "substitute", "Choose who"),
    ],
)
def test_bad_substitutes_are_refused(
    boss, finance_londoner, substitute, starts, ends, field, message
):
    approval_delegation_add(
        approver=boss,
        substitute=finance_londoner,
        starts_on=date(2026, 12, 1),
        ends_on=date(2026, 12, 5),
        today=date(2026, 11, 25),
    )
    person = {"self": boss, "other": UserFactory(username="sub2"), "nobody": None}
    with pytest.raises(InvalidInput) as exc:
        approval_delegation_add(
            approver=boss,
            substitute=person[substitute],
            starts_on=starts,
            ends_on=ends,
            today=date(2026, 11, 25),
        )
    assert message in exc.value.errors[field][0]
    assert ApprovalDelegation.objects.count() == 1


def test_only_the_approver_removes_their_substitute(boss, finance_londoner, employee):
    delegation = approval_delegation_add(
        approver=boss,
        substitute=finance_londoner,
        starts_on=date(2026, 12, 1),
        ends_on=date(2026, 12, 5),
        today=date(2026, 11, 25),
    )
    with pytest.raises(NotFoundForUser):
        approval_delegation_remove(delegation_id=delegation.pk, approver=employee)
    approval_delegation_remove(delegation_id=delegation.pk, approver=boss)
    assert not ApprovalDelegation.objects.exists()


# --- Reminders and escalation ---------------------------------------------------------


@pytest.fixture
def office_hours_reminders(db):
    settings = ServiceDeskSettings.load()
    settings.approval_calendar = BusinessCalendar.objects.get(name="Office hours")
    settings.approval_reminder_hours = 16
    settings.approval_escalation_hours = 40
    settings.save()


@time_machine.travel(MONDAY_9AM, tick=False)
def test_a_waiting_approval_reminds_then_escalates_once_each(
    employee,
    boss,
    big_boss,
    catalog,
    office_hours_reminders,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    order(employee, catalog, "laptop")
    step = ApprovalStep.objects.get()
    # 16 working hours after Monday 09:00: Monday 9 h, Tuesday 08:00–15:00.
    assert step.remind_at == london(2026, 11, 24, 15, 0)
    # 40 working hours: Mon 9, Tue 10, Wed 10, Thu 10, Fri 08:00–09:00.
    assert step.escalate_at == london(2026, 11, 27, 9, 0)
    mailoutbox.clear()

    def sweep(*when):
        with django_capture_on_commit_callbacks(execute=True):
            return service_desk_sweep(now=london(*when)).as_dict()

    assert sweep(2026, 11, 24, 14, 59)["reminded"] == 0
    assert sweep(2026, 11, 24, 15, 1)["reminded"] == 1
    assert sweep(2026, 11, 24, 15, 6)["reminded"] == 0
    assert [m.subject for m in mailoutbox] == [
        f"Reminder: {step.item.number} is waiting for your approval"
    ]
    assert mailoutbox[0].to == [boss.email]
    escalated = sweep(2026, 11, 27, 9, 1)
    assert escalated["escalated"] == 1
    assert sweep(2026, 11, 27, 9, 6)["escalated"] == 0
    step.refresh_from_db()
    assert (step.approver, step.escalated_from) == (big_boss, boss)
    assert mailoutbox[-1].to == [big_boss.email]
    # The manager is no longer the approver; the one above decides.
    with pytest.raises(ApprovalRefused, match="no longer"):
        approval_decide(step_id=step.pk, actor=boss, approve=True)
    approval_decide(step_id=step.pk, actor=big_boss, approve=True)
    names = list(
        RequestEvent.objects.filter(item=step.item)
        .order_by("sequence")
        .values_list("name", flat=True)
    )
    assert names == [
        "item.created",
        "approval.requested",
        "approval.reminded",
        "approval.escalated",
        "approval.approved",
        "item.status_changed",
    ]


def test_the_substitute_is_emailed_with_the_approver(
    employee,
    boss,
    catalog,
    finance_londoner,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    from django.utils import timezone

    today = timezone.localdate()
    approval_delegation_add(
        approver=boss,
        substitute=finance_londoner,
        starts_on=today,
        ends_on=today + timedelta(days=3),
        today=today,
    )
    with django_capture_on_commit_callbacks(execute=True):
        order(employee, catalog, "laptop")
    (asking,) = [m for m in mailoutbox if m.subject.startswith("Please approve")]
    assert asking.to == sorted([boss.email, finance_londoner.email])
