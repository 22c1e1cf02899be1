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


def _item(service_request, line_number, name, price, status="submitted"):
    return RequestItem(
        request=service_request,
        line_number=line_number,
        service_name=name,
        one_off_price=Decimal(price),
        monthly_price=Decimal("0"),
        currency="EUR",
        status=status,
        created_at=AT,
        status_changed_at=AT,
    )


def _request(person, *, lines=(), day=0, for_=None, statuses=()):
    service_request = ServiceRequestFactory(
        requested_by=person,
        requested_for=for_ or person,
        submitted_at=AT + datetime.timedelta(days=day),
    )
    # Written out of line order, so the read must sort them.
    for line_number, name, price in lines:
        _item(service_request, line_number, name, price).save()
    for line_number, status in enumerate(statuses, start=1):
        _item(service_request, line_number, "Laptop", "1200", status).save()
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


def test_an_item_copies_its_request_s_people_and_time(employee, finance_londoner):
    service_request = _request(employee, for_=finance_londoner, statuses=["submitted"])
    item = RequestItem.objects.get(request=service_request)
    assert (item.requested_for_id, item.requested_by_id, item.submitted_at) == (
        finance_londoner.pk,
        employee.pk,
        AT,
    )


def test_items_created_together_read_their_requests_once(
    employee, finance_londoner, django_assert_num_queries
):
    first = _request(employee, day=1)
    second = _request(employee, for_=finance_londoner, day=2)
    items = [_item(first, 1, "Laptop", "1200"), _item(second, 1, "Phone", "600")]
    for item in items:
        item.request = None
    items[0].request_id, items[1].request_id = first.pk, second.pk
    # Both requests in one read, then one insert.
    with django_assert_num_queries(2):
        RequestItem.objects.bulk_create(items)
    copies = RequestItem.objects.order_by("service_name").values_list(
        "service_name", "requested_for", "requested_by", "submitted_at"
    )
    assert list(copies) == [
        ("Laptop", employee.pk, employee.pk, AT + datetime.timedelta(days=1)),
        ("Phone", finance_londoner.pk, employee.pk, AT + datetime.timedelta(days=2)),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Two items being worked on in "mine" count once; "theirs" is neither
        # by nor for the employee.
        ("status=in_progress", ["for_me_by_them", "by_me_for_them", "mine"]),
        ("status=fulfilled", ["for_me_by_them", "delivered"]),
        ("status=on_hold", []),
        ("status=fulfilled&submitted_from=2026-03-04", ["for_me_by_them"]),
        ("status=in_progress&submitted_to=2026-03-03", ["mine"]),
        (
            "",
            ["for_me_by_them", "by_me_for_them", "delivered", "mine"],
        ),
    ],
)
def test_my_requests_by_status_reads_the_person_s_items(
    employee, finance_londoner, query, expected
):
    # 2 March 2026 onwards, a day apart.
    made = {
        "mine": _request(employee, statuses=["in_progress", "in_progress"]),
        "delivered": _request(employee, day=1, statuses=["fulfilled"]),
        "by_me_for_them": _request(
            employee, for_=finance_londoner, day=2, statuses=["in_progress"]
        ),
        "for_me_by_them": ServiceRequestFactory(
            requested_by=finance_londoner,
            requested_for=employee,
            submitted_at=AT + datetime.timedelta(days=3),
        ),
        "theirs": _request(finance_londoner, day=4, statuses=["in_progress"]),
    }
    for line_number, status in enumerate(["in_progress", "fulfilled"], start=1):
        _item(made["for_me_by_them"], line_number, "Phone", "600", status).save()
    names = {r.pk: name for name, r in made.items()}
    found = my_requests(user=employee, params=QueryDict(query))
    assert [names[r.pk] for r in found["requests"]] == expected
    assert found["page_obj"].paginator.count == len(expected)


def test_saving_a_written_item_reads_nothing_more(employee, django_assert_num_queries):
    """The copies are made when an item is created; saving a partly loaded item
    later neither reads its request nor the fields it left out."""
    service_request = _request(employee, statuses=["submitted"])
    item = RequestItem.objects.only("id", "status").get(request=service_request)
    item.status = "in_progress"
    with django_assert_num_queries(1):
        item.save(update_fields=["status"])
    assert RequestItem.objects.get(pk=item.pk).submitted_at == AT
