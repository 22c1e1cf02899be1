"""Who the page benchmark times each page as: the same kind of person on both
databases, so the same address is the same page."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from bench.scale import people
from tests.factories import (
    FulfilmentGroupFactory,
    ServiceRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _person(name, groups, department):
    return UserFactory(
        username=name,
        profile={"department": department},
        groups=[Group.objects.get(name=group) for group in groups],
    )


def test_the_employee_and_holder_are_not_executives_even_with_more_requests(sales):
    boss = _person("boss", ["Employee", "Executive"], sales)
    plain = _person("plain", ["Employee"], sales)
    _person("approver", ["Employee", "Approver"], sales)
    fixer = _person("fixer", ["Employee"], sales)
    FulfilmentGroupFactory().members.add(fixer)
    for _ in range(3):
        ServiceRequestFactory(requested_by=boss, submitted_at=timezone.now())
    ServiceRequestFactory(requested_by=plain, submitted_at=timezone.now())

    chosen = people()

    # The executive has three requests to the employee's one, and is passed over.
    assert chosen["employee"].username == "plain"
    assert chosen["employee"].load == "1 requests"
    assert chosen["holder"].username != "boss"
    assert chosen["approver"].username == "approver"
    assert chosen["fulfiller"].username == "fixer"
