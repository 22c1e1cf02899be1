"""What checkout and its confirmation say will happen: which cost centre pays,
who approves each item, and when it is usually ready."""

import re

import pytest

from catalog.models import CostCentre
from catalog.services.basket import basket_line_add
from tests.conftest import LAPTOP_ANSWERS
from tests.factories import UserFactory, service_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(reports_to_manager, a_manager, sales, finance):
    a_manager.first_name, a_manager.last_name = "Marcus", "Meyer"
    a_manager.save()
    CostCentre.objects.filter(pk=sales.cost_centre_id).update(
        code="CC-2100", name="Sales"
    )
    owner = UserFactory(username="fiona", first_name="Fiona", last_name="Figures")
    CostCentre.objects.filter(pk=finance.cost_centre_id).update(
        code="CC-1100", name="Finance", owner=owner
    )
    return reports_to_manager


@pytest.fixture
def basket(named, catalog):
    basket_line_add(
        user=named,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    basket_line_add(user=named, service_id=catalog["password"].pk, data={})
    return named


def outlooks(html: str) -> list[str]:
    return re.findall(r'<span class="outlook">([^<]*)</span>', html)


def test_checkout_names_the_cost_centre_and_the_approvers(client, basket):
    client.force_login(basket)
    html = client.get("/checkout/").content.decode()
    assert (
        '<option value="" selected>Your department&#x27;s cost centre: '
        "CC-2100 Sales</option>" in html
    )
    assert "Their department&#x27;s cost centre" not in html
    # She orders only for herself: no hint about finding someone else.
    assert "Find them above" not in html
    assert (
        "Charged to <strong>CC-2100 Sales</strong>, your department's cost "
        "centre." in html
    )
    assert outlooks(html) == [
        "Needs approval from Marcus Meyer (manager). Usually ready in 2 working "
        "days after approval.",
        "No approval needed. Usually ready the same working day.",
    ]


def test_another_cost_centre_adds_its_owner(client, basket, finance):
    client.force_login(basket)
    form = client.get("/checkout/").content.decode()
    response = client.post(
        "/checkout/",
        {
            "basket": re.search(r'name="basket" value="(\d+)"', form).group(1),
            "fingerprint": re.search(r'name="fingerprint" value="(\w+)"', form).group(
                1
            ),
            "cost_centre": finance.cost_centre_id,
            "business_reason": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Charged to <strong>CC-1100 Finance</strong>." in html
    # The password reset is free: no cost centre owner for a free item.
    assert outlooks(html) == [
        "Needs approval from Marcus Meyer (manager), then Fiona Figures (cost "
        "centre owner). Usually ready in 2 working days after approval.",
        "No approval needed. Usually ready the same working day.",
    ]


def test_confirmation_says_the_same(client, basket):
    client.force_login(basket)
    form = client.get("/checkout/").content.decode()
    response = client.post(
        "/checkout/",
        {
            "basket": re.search(r'name="basket" value="(\d+)"', form).group(1),
            "fingerprint": re.search(r'name="fingerprint" value="(\w+)"', form).group(
                1
            ),
            "business_reason": "New joiner.",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Thank you, your request is in" in html
    assert "Charged to <strong>CC-2100 Sales</strong>." in html
    assert outlooks(html) == [
        "Needs approval from Marcus Meyer (manager). Usually ready in 2 working "
        "days after approval.",
        "No approval needed. Usually ready the same working day.",
    ]


def test_someone_without_a_department_is_asked_to_choose(client, catalog):
    loner = UserFactory(username="loner")
    basket_line_add(user=loner, service_id=catalog["password"].pk, data={})
    client.force_login(loner)
    html = client.get("/checkout/").content.decode()
    assert '<option value="" selected>Choose a cost centre</option>' in html
    assert "has no department to charge: choose a cost centre below." in html
    # Who approves depends on the cost centre: nothing is promised yet.
    assert outlooks(html) == ["Usually ready the same working day."]


def test_checkout_queries_do_not_grow_with_the_lines(
    client, basket, catalog, django_assert_max_num_queries
):
    client.force_login(basket)
    with django_assert_max_num_queries(16) as two:
        assert client.get("/checkout/").status_code == 200
    for n in range(4):
        page = service_page(
            catalog["computers"], f"Extra {n}", requires_approval=n % 2 == 0
        )
        basket_line_add(user=basket, service_id=page.pk, data={})
    with django_assert_max_num_queries(len(two.captured_queries)):
        assert client.get("/checkout/").status_code == 200
