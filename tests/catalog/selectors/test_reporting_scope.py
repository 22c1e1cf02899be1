"""Whose figures a person sees: one table of (viewer, department asked for,
expected answer)."""

import pytest
from django.contrib.auth.models import Permission

from catalog.exceptions import NotAllowed, NotFoundForUser
from catalog.selectors.reporting.scope import reporting_scope
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(sales, finance, berlin):
    def person(name, department, *codenames):
        user = UserFactory(
            username=name, profile={"department": department, "location": berlin}
        )
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        return user

    return {
        "employee": person("emp", sales),
        "sales head": person("head", sales, "view_reports"),
        "coo": person(
            "coo",
            DepartmentFactory(name="Executive Office"),
            "view_reports",
            "view_all_departments",
        ),
        "no department": person("nodept", None, "view_reports"),
    }


@pytest.mark.parametrize(
    ("viewer", "asked_for", "expected"),
    [
        ("employee", None, NotAllowed),
        ("employee", "Sales", NotAllowed),
        ("sales head", None, {"Sales"}),
        ("sales head", "Sales", {"Sales"}),
        ("sales head", "Finance", NotFoundForUser),
        ("sales head", "nonsense", NotFoundForUser),
        ("sales head", "999999999999999999999999", NotFoundForUser),
        ("coo", None, "all"),
        ("coo", "Finance", {"Finance"}),
        ("coo", "999999", NotFoundForUser),
        ("no department", None, NotAllowed),
    ],
)
def test_reporting_scope(people, sales, finance, viewer, asked_for, expected):
    ids = {"Sales": sales.pk, "Finance": finance.pk}
    department = ids.get(asked_for, asked_for)
    user = people[viewer]
    if isinstance(expected, type):
        with pytest.raises(expected):
            reporting_scope(user=user, department_id=department)
        return
    scope = reporting_scope(user=user, department_id=department)
    if expected == "all":
        assert scope.whole_company and scope.label == "Whole company"
    else:
        names = {name for name, pk in ids.items() if scope.allows(pk)}
        assert names == expected
