"""Basket rules: one open basket, add, edit, remove; refusals change nothing;
a change made while checkout sends the basket is never lost."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from catalog.exceptions import (
    BasketSubmitted,
    InvalidAnswers,
    NotFoundForUser,
    ServiceNotOrderable,
)
from catalog.models import Basket, BasketLine, ServiceRequest
from catalog.selectors.basket import basket_line_for, basket_review
from catalog.services import basket as basket_service
from catalog.services import checkout
from catalog.services.basket import (
    basket_get_or_create,
    basket_line_add,
    basket_line_remove,
    basket_line_update,
)
from catalog.services.checkout import request_submit
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


# --- Changes racing checkout ---------------------------------------------------------


def submit(user, review):
    return request_submit(
        user=user,
        basket_id=review.basket.pk,
        expected_fingerprint=review.fingerprint,
        business_reason="My laptop died.",
    ).service_request


def lines_of(lines):
    return [(line.service_name, line.quantity) for line in lines]


def sent_as_ordered(service_request):
    """The submitted basket holds exactly what its request holds."""
    basket = service_request.basket
    basket.refresh_from_db()
    return basket.status == Basket.Status.SUBMITTED and lines_of(
        basket.lines.order_by("pk")
    ) == lines_of(service_request.items.order_by("line_number"))


def test_an_add_after_checkout_sent_the_basket_goes_to_a_new_basket(
    employee, catalog, monkeypatch
):
    add_laptop(employee, catalog)
    # The add found the open basket; checkout sends it before the add writes.
    seen = basket_get_or_create(user=employee)
    sent = submit(employee, basket_review(user=employee))
    real_get_or_create = basket_service.basket_get_or_create
    reads = iter([seen])
    monkeypatch.setattr(
        basket_service,
        "basket_get_or_create",
        lambda *, user: next(reads, None) or real_get_or_create(user=user),
    )

    line = basket_line_add(user=employee, service_id=catalog["password"].pk, data={})

    line.basket.refresh_from_db()
    assert line.basket.status == Basket.Status.OPEN
    assert line.basket.pk != sent.basket_id
    assert lines_of(basket_review(user=employee).basket.lines.all()) == [
        ("Reset a forgotten password", 1)
    ]
    assert sent_as_ordered(sent)


def test_an_add_that_keeps_finding_sent_baskets_gives_up_and_says_so(
    employee, catalog, monkeypatch
):
    add_laptop(employee, catalog)
    seen = basket_get_or_create(user=employee)
    sent = submit(employee, basket_review(user=employee))
    monkeypatch.setattr(basket_service, "basket_get_or_create", lambda *, user: seen)

    with pytest.raises(BasketSubmitted) as refused:
        basket_line_add(user=employee, service_id=catalog["password"].pk, data={})

    assert sent.number in refused.value.message
    assert sent_as_ordered(sent)
    assert not Basket.objects.filter(status=Basket.Status.OPEN).exists()


def test_an_edit_of_a_line_in_a_just_sent_basket_is_refused(employee, catalog):
    line = add_laptop(employee, catalog)
    basket_line_for(user=employee, line_id=line.pk)  # the edit page's read
    sent = submit(employee, basket_review(user=employee))

    with pytest.raises(BasketSubmitted) as refused:
        basket_line_update(
            user=employee, line_id=line.pk, data={**LAPTOP_ANSWERS, "quantity": "3"}
        )

    assert refused.value.message == (
        f"That basket was just sent as request {sent.number}; your change was not "
        "applied."
    )
    line.refresh_from_db()
    assert line.quantity == 1
    assert sent_as_ordered(sent)


def test_a_removal_from_a_just_sent_basket_is_refused(employee, catalog):
    line = add_laptop(employee, catalog)
    basket_line_for(user=employee, line_id=line.pk)  # the remove button's read
    sent = submit(employee, basket_review(user=employee))

    with pytest.raises(BasketSubmitted) as refused:
        basket_line_remove(user=employee, line_id=line.pk)

    assert sent.number in refused.value.message
    assert BasketLine.objects.filter(pk=line.pk).exists()
    assert sent_as_ordered(sent)


def test_a_line_removed_by_another_tab_is_not_found(employee, catalog):
    line = add_laptop(employee, catalog)
    basket_line_remove(user=employee, line_id=line.pk)
    with pytest.raises(NotFoundForUser):
        basket_line_remove(user=employee, line_id=line.pk)


def wait_for_a_lock_wait(seconds=5.0) -> bool:
    """True once another connection to this database waits for a row lock."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    "sqlite" in connection.settings_dict["ENGINE"],
    reason="SQLite runs one writer at a time: there is no lock to wait behind",
)
@pytest.mark.parametrize("change", ["add", "edit", "remove"])
def test_a_change_waits_for_checkout_and_nothing_is_lost(
    employee, catalog, monkeypatch, change
):
    line = add_laptop(employee, catalog)
    review = basket_review(user=employee)
    holding_lock, release = threading.Event(), threading.Event()
    real_create_request = checkout._create_request

    def create_request_slowly(**kwargs):
        # Checkout has locked the basket and read its lines.
        holding_lock.set()
        release.wait(10)
        return real_create_request(**kwargs)

    monkeypatch.setattr(checkout, "_create_request", create_request_slowly)
    changes = {
        "add": lambda: basket_line_add(
            user=employee, service_id=catalog["password"].pk, data={}
        ),
        "edit": lambda: basket_line_update(
            user=employee, line_id=line.pk, data={**LAPTOP_ANSWERS, "quantity": "3"}
        ),
        "remove": lambda: basket_line_remove(user=employee, line_id=line.pk),
    }
    outcome = {}

    def run(key, action):
        try:
            outcome[key] = action()
        except Exception as exc:  # asserted below
            outcome[key] = exc
        finally:
            connection.close()

    checking_out = threading.Thread(
        target=run, args=("checkout", lambda: submit(employee, review))
    )
    checking_out.start()
    assert holding_lock.wait(10)
    changing = threading.Thread(target=run, args=("change", changes[change]))
    changing.start()
    change_waited = wait_for_a_lock_wait()
    release.set()
    checking_out.join(20)
    changing.join(20)

    sent = ServiceRequest.objects.get()
    assert outcome["checkout"] == sent
    assert lines_of(sent.items.all()) == [("New laptop", 1)]
    assert sent_as_ordered(sent)
    assert change_waited
    if change == "add":
        assert isinstance(outcome["change"], BasketLine)
        open_basket = Basket.objects.get(owner=employee, status=Basket.Status.OPEN)
        assert lines_of(open_basket.lines.all()) == [("Reset a forgotten password", 1)]
    else:
        assert isinstance(outcome["change"], BasketSubmitted)
        assert sent.number in outcome["change"].message
