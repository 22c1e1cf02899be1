"""Basket rules: one open basket, add, edit, remove; refusals change nothing."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.exceptions import InvalidAnswers, NotFoundForUser, ServiceNotOrderable
from catalog.models import Basket, BasketLine
from catalog.selectors.basket import basket_review
from catalog.services.basket import (
    basket_get_or_create,
    basket_line_add,
    basket_line_remove,
    basket_line_update,
)
from tests.conftest import LAPTOP_ANSWERS

pytestmark = pytest.mark.django_db


def add_laptop(user, catalog, **overrides):
    data = {**LAPTOP_ANSWERS, "quantity": "1", **overrides}
    return basket_line_add(user=user, service_id=catalog["laptop"].pk, data=data)


def test_one_open_basket_per_person_is_a_database_rule(employee):
    Basket.objects.create(owner=employee)
    with pytest.raises(IntegrityError), transaction.atomic():
        Basket.objects.create(owner=employee)


def test_submitted_baskets_do_not_count_against_the_rule(employee):
    Basket.objects.create(owner=employee, status=Basket.Status.SUBMITTED)
    Basket.objects.create(owner=employee, status=Basket.Status.SUBMITTED)
    assert basket_get_or_create(user=employee).status == Basket.Status.OPEN


def test_add_captures_price_name_and_typed_answers(employee, catalog):
    line = add_laptop(employee, catalog, quantity="2")
    assert line.service_name == "New laptop"
    assert line.one_off_price == Decimal("1200")
    assert line.monthly_price == Decimal("15")
    assert line.quantity == 2
    assert [(a["label"], a["value"]) for a in line.answers] == [
        ("Which model?", "Performance"),
        ("Move your files?", True),
    ]


def test_basket_totals(employee, catalog):
    add_laptop(employee, catalog, quantity="2")
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    review = basket_review(user=employee)
    assert review.one_off_total == Decimal("2400")
    assert review.monthly_total == Decimal("30")
    assert review.can_check_out


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"q_model": ""}, "q_model"),
        ({"q_model": "Gold-plated"}, "q_model"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "4"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "two"}, "quantity"),
        ({"q_move-files": "perhaps"}, "q_move-files"),
    ],
)
def test_invalid_answers_are_refused_and_nothing_is_added(
    employee, catalog, overrides, field
):
    with pytest.raises(InvalidAnswers) as exc:
        add_laptop(employee, catalog, **overrides)
    assert field in exc.value.errors
    assert not BasketLine.objects.exists()


def test_service_not_entitled_is_not_found(employee, catalog):
    with pytest.raises(NotFoundForUser):
        basket_line_add(user=employee, service_id=catalog["finance_system"].pk, data={})
    assert not BasketLine.objects.exists()


def test_suspended_service_cannot_be_added(employee, catalog):
    page = catalog["password"]
    page.orderable = False
    page.not_orderable_reason = "Upgrading the tool."
    page.save_revision().publish()
    with pytest.raises(ServiceNotOrderable, match="Upgrading the tool"):
        basket_line_add(user=employee, service_id=page.pk, data={})
    assert not BasketLine.objects.exists()


def test_edit_answers_and_quantity(employee, catalog):
    line = add_laptop(employee, catalog)
    basket_line_update(
        user=employee,
        line_id=line.pk,
        data={"q_model": "Standard", "q_move-files": "no", "quantity": "3"},
    )
    line.refresh_from_db()
    assert line.quantity == 3
    assert [a["value"] for a in line.answers] == ["Standard", False]


def test_failed_edit_changes_nothing(employee, catalog):
    line = add_laptop(employee, catalog)
    before = (line.quantity, line.answers)
    with pytest.raises(InvalidAnswers):
        basket_line_update(
            user=employee, line_id=line.pk, data={"q_model": "", "quantity": "1"}
        )
    line.refresh_from_db()
    assert (line.quantity, line.answers) == before


def test_someone_elses_line_is_not_found(employee, finance_londoner, catalog):
    line = add_laptop(finance_londoner, catalog)
    with pytest.raises(NotFoundForUser):
        basket_line_update(user=employee, line_id=line.pk, data=LAPTOP_ANSWERS)
    with pytest.raises(NotFoundForUser):
        basket_line_remove(user=employee, line_id=line.pk)
    assert BasketLine.objects.filter(pk=line.pk).exists()


def test_remove_line(employee, catalog):
    line = add_laptop(employee, catalog)
    basket_line_remove(user=employee, line_id=line.pk)
    assert not BasketLine.objects.exists()
    assert basket_review(user=employee).is_empty


def test_price_change_after_adding_is_flagged(employee, catalog):
    add_laptop(employee, catalog)
    page = catalog["laptop"]
    page.one_off_price = Decimal("1350")
    page.save_revision().publish()
    review = basket_review(user=employee)
    (row,) = review.lines
    assert row.price_changed
    assert row.one_off_price == Decimal("1350")
    assert row.line.one_off_price == Decimal("1200")
    assert review.can_check_out  # allowed, once the person has seen it


def test_suspension_after_adding_blocks_checkout(employee, catalog):
    add_laptop(employee, catalog)
    page = catalog["laptop"]
    page.orderable = False
    page.not_orderable_reason = "Supplier shortage."
    page.save_revision().publish()
    review = basket_review(user=employee)
    assert not review.can_check_out
    assert "Supplier shortage" in review.lines[0].blocking[0]


def test_basket_survives_logout(client, employee, catalog):
    add_laptop(employee, catalog)
    client.force_login(employee)
    client.post("/accounts/logout/")
    client.force_login(employee)
    assert "basket-count" in client.get("/services/").content.decode()
