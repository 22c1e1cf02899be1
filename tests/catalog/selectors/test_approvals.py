"""Reading approvals: what waits for whom (and that it agrees, step by step, with
the rule the approval service applies), the header's figures, the grouped list
with its totals, and substitutes."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from catalog import permissions
from catalog.models import ApprovalDelegation, ApprovalStep, UserProfile
from catalog.selectors.approvals import (
    approvals_decided_by,
    approvals_waiting,
    standing_in_for,
    substitute_candidates,
    substitutes_of,
    waiting_steps,
)
from catalog.selectors.header import header_for
from catalog.services.approvals import approval_decide
from tests.conftest import order
from tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2027, 3, 8)
WEDNESDAY = datetime.date(2027, 3, 10)
FRIDAY = datetime.date(2027, 3, 12)
NEXT_MONDAY = datetime.date(2027, 3, 15)


@pytest.fixture
def people(employee, a_manager, finance_londoner):
    UserProfile.objects.filter(user=employee).update(manager=a_manager)
    sub = UserFactory(username="sub", first_name="Sam", last_name="Stand-in")
    anyone = UserFactory(username="anyone")
    anyone.user_permissions.add(Permission.objects.get(codename="approve_any_request"))
    ApprovalDelegation.objects.create(
        approver=a_manager, substitute=sub, starts_on=MONDAY, ends_on=WEDNESDAY
    )
    return {
        "manager": a_manager,
        "employee": employee,
        "sub": sub,
        "anyone": anyone,
        "finance": finance_londoner,
        "nobody": UserFactory(username="nobody"),
    }


@pytest.fixture
def steps(people, catalog):
    """The employee's laptop (for the manager) and the finance person's laptop
    (nobody above them: any approver's)."""
    return {
        "employee": ApprovalStep.objects.get(
            request=order(people["employee"], catalog, "laptop")
        ),
        "finance": ApprovalStep.objects.get(
            request=order(people["finance"], catalog, "laptop")
        ),
    }


@pytest.mark.parametrize(
    ("viewer", "on", "expected"),
    [
        ("manager", WEDNESDAY, {"employee"}),
        ("sub", MONDAY, {"employee"}),
        ("sub", WEDNESDAY, {"employee"}),
        ("sub", FRIDAY, set()),
        ("employee", WEDNESDAY, set()),
        ("finance", WEDNESDAY, set()),
        ("anyone", WEDNESDAY, {"finance"}),
        ("nobody", WEDNESDAY, set()),
    ],
)
def test_waiting_steps_agree_with_the_approval_rule(
    people, steps, viewer, on, expected
):
    user = people[viewer]
    listed = set(waiting_steps(user=user, on=on).values_list("pk", flat=True))
    assert {key for key, step in steps.items() if step.pk in listed} == expected
    # The one rule the approval service applies says the same of every step.
    allowed = {
        key
        for key, step in steps.items()
        if not permissions.approval_refusal(user, step, on=on)
    }
    assert allowed == expected
    # And the header's count, the same rule as SQL.
    assert header_for(user=user, on=on).approvals.count == len(expected)


def test_decided_and_withdrawn_steps_no_longer_wait(people, steps):
    approval_decide(
        step_id=steps["employee"].pk,
        actor=people["manager"],
        approve=True,
        on=WEDNESDAY,
    )
    assert not waiting_steps(user=people["manager"], on=WEDNESDAY).exists()
    assert [s.pk for s in approvals_decided_by(user=people["manager"])] == [
        steps["employee"].pk
    ]


def test_the_header_figures(people, steps, django_assert_num_queries):
    manager = people["manager"]
    # Every page has loaded the person's permissions already (Wagtail's user bar
    # asks for one), so the figures cost one query of their own.
    manager.has_perm("wagtailadmin.access_admin")
    with django_assert_num_queries(1):
        nav = header_for(user=manager, on=WEDNESDAY).approvals
    assert (nav.count, nav.is_approver, nav.show) == (1, False, True)
    nobody = header_for(user=people["nobody"], on=WEDNESDAY).approvals
    assert (nobody.count, nobody.is_approver, nobody.show) == (0, False, False)
    people["nobody"].groups.add(GroupFactory(name="Approver"))
    nav = header_for(user=people["nobody"], on=WEDNESDAY).approvals
    assert (nav.count, nav.is_approver, nav.show) == (0, True, True)


def test_anonymous_visitors_cost_nothing(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    with django_assert_num_queries(0):
        header = header_for(user=AnonymousUser())
    assert header.approvals.show is False
    assert header.basket_count == 0


def test_the_list_is_grouped_by_request_with_totals(people, catalog):
    employee = people["employee"]
    from catalog.selectors.basket import basket_review
    from catalog.services.basket import basket_line_add
    from catalog.services.checkout import request_submit
    from tests.conftest import LAPTOP_ANSWERS

    basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "2"},
    )
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    review = basket_review(user=employee)
    request_submit(
        user=employee,
        basket_id=review.basket.pk,
        expected_fingerprint=review.fingerprint,
        business_reason="Two new starters.",
    )
    [group] = approvals_waiting(user=people["manager"], on=WEDNESDAY)
    # Only the laptops need approval; the password reset is not listed.
    assert [row.item.service_name for row in group.items] == ["New laptop"]
    row = group.items[0]
    # 2 × €1,200 one-off; 2 × €15 a month × 12 = €360 a year.
    assert (row.one_off_total, row.yearly_total) == (Decimal("2400"), Decimal("360"))
    assert (group.one_off_total, group.yearly_total) == (
        Decimal("2400"),
        Decimal("360"),
    )
    assert row.on_behalf_of == "" and row.unassigned is False
    [as_sub] = approvals_waiting(user=people["sub"], on=WEDNESDAY)
    assert as_sub.items[0].on_behalf_of == "Pat " + people["manager"].last_name


def test_substitutes_now_and_later(people):
    manager, sub = people["manager"], people["sub"]
    later = ApprovalDelegation.objects.create(
        approver=manager,
        substitute=people["nobody"],
        starts_on=NEXT_MONDAY,
        ends_on=NEXT_MONDAY,
    )
    assert [d.substitute for d in substitutes_of(user=manager, today=WEDNESDAY)] == [
        sub,
        people["nobody"],
    ]
    # Past ones are not listed.
    assert list(substitutes_of(user=manager, today=FRIDAY)) == [later]
    assert [d.approver for d in standing_in_for(user=sub, today=MONDAY)] == [manager]


def test_substitute_candidates_by_name(people):
    sam = substitute_candidates(user=people["manager"], query="sam stand")
    assert sam == [people["sub"]]
    # Never yourself, and nobody without a search.
    assert substitute_candidates(user=people["sub"], query="sam") == []
    assert substitute_candidates(user=people["manager"], query="") == []
    # The one already chosen stays on the list.
    kept = substitute_candidates(
        user=people["manager"], query="", chosen_id=people["nobody"].pk
    )
    assert kept == [people["nobody"]]


def test_waiting_approvals_come_a_page_at_a_time_oldest_first(
    people, catalog, monkeypatch
):
    import datetime

    from catalog.models import ServiceRequest
    from catalog.selectors.approvals import approvals_waiting_page
    from tests.conftest import order

    monkeypatch.setattr("catalog.selectors.approvals.WAITING_PER_PAGE", 2)
    numbers = []
    for days_ago in (1, 3, 2):  # submitted out of order
        service_request = order(people["employee"], catalog, "laptop")
        ServiceRequest.objects.filter(pk=service_request.pk).update(
            submitted_at=service_request.submitted_at
            - datetime.timedelta(days=days_ago)
        )
        numbers.append(service_request.number)
    oldest_first = [numbers[1], numbers[2], numbers[0]]

    def page(number):
        page_obj, groups = approvals_waiting_page(
            user=people["manager"], page=number, on=WEDNESDAY
        )
        return page_obj, [group.service_request.number for group in groups]

    first, on_first = page(1)
    second, on_second = page(2)
    assert (first.paginator.count, first.paginator.num_pages) == (3, 2)
    assert on_first == oldest_first[:2]
    assert on_second == oldest_first[2:]
