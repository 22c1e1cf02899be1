"""Requests read through their items: each request once, its items in line
order with their request set, and a request without items still found."""

import datetime
from decimal import Decimal

import pytest
from django.http import QueryDict

from catalog.exceptions import NotFoundForUser
from catalog.models import RequestItem
from catalog.selectors.requests import (
    my_requests,
    request_detail,
    requests_with_lines,
)
from tests.factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db
AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _request(person, *, lines=(), day=0):
    service_request = ServiceRequestFactory(
        requested_by=person, submitted_at=AT + datetime.timedelta(days=day)
    )
    # Written out of line order, so the read must sort them.
    for line_number, name, price in lines:
        RequestItem.objects.create(
            request=service_request,
            line_number=line_number,
            service_name=name,
            one_off_price=Decimal(price),
            monthly_price=Decimal("0"),
            currency="EUR",
            created_at=AT,
            status_changed_at=AT,
        )
    return service_request


def test_each_request_once_with_its_items_in_line_order(employee):
    first = _request(
        employee, lines=[(3, "Mouse", "20"), (1, "Laptop", "1200"), (2, "Bag", "40")]
    )
    second = _request(employee, lines=[(2, "Headset", "90"), (1, "Phone", "600")])
    found = requests_with_lines([first.pk, second.pk], related=["requested_for"])
    assert sorted(found) == sorted([first.pk, second.pk])
    assert [i.service_name for i in found[first.pk].lines] == ["Laptop", "Bag", "Mouse"]
    assert [i.service_name for i in found[second.pk].lines] == ["Phone", "Headset"]
    for service_request in found.values():
        assert all(item.request is service_request for item in service_request.lines)
    assert found[first.pk].requested_for.username == "emp"


def test_a_request_without_items_is_still_found(employee):
    empty = _request(employee)
    found = requests_with_lines([empty.pk], related=["requested_for"])
    assert found[empty.pk].lines == []
    assert found[empty.pk].requested_for.username == "emp"


def test_my_requests_lists_newest_first_with_totals(employee):
    older = _request(employee, lines=[(1, "Laptop", "1200"), (2, "Bag", "40")])
    empty = _request(employee, day=1)
    newer = _request(employee, lines=[(1, "Phone", "600")], day=2)
    page = my_requests(user=employee, params=QueryDict())["requests"]
    assert [r.pk for r in page] == [newer.pk, empty.pk, older.pk]
    # 1,200 + 40 by hand; nothing for the request without items.
    assert [r.one_off_total for r in page] == [
        Decimal("600"),
        Decimal("0"),
        Decimal("1240"),
    ]


def test_the_request_page_reads_its_request_and_items_in_one_query(
    employee, django_assert_num_queries
):
    service_request = _request(
        employee, lines=[(2, "Bag", "40"), (1, "Laptop", "1200")]
    )
    # The request with its items, then its public log (no approval was asked).
    with django_assert_num_queries(2):
        found = request_detail(user=employee, request_id=service_request.pk)
    assert [item.service_name for item in found.lines] == ["Laptop", "Bag"]


def test_someone_else_s_request_is_not_found(employee, finance_londoner):
    theirs = _request(finance_londoner, lines=[(1, "Laptop", "1200")])
    with pytest.raises(NotFoundForUser):
        request_detail(user=employee, request_id=theirs.pk)
    with pytest.raises(NotFoundForUser):
        request_detail(user=employee, request_id=theirs.pk + 1000)
