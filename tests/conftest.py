"""Shared fixtures: the page tree, a small catalog and people in different places."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from catalog.demo.loader import ensure_home_page
from catalog.models import CatalogIndexPage
from tests.factories import (
    DepartmentFactory,
    GroupFactory,
    LocationFactory,
    ServiceLevelFactory,
    UserFactory,
    category_page,
    service_page,
)

LAPTOP_QUESTIONS = [
    {
        "type": "single_choice",
        "id": "model",
        "value": {
            "label": "Which model?",
            "help_text": "",
            "required": True,
            "choices": ["Standard", "Performance"],
        },
    },
    {
        "type": "yes_no",
        "id": "move-files",
        "value": {"label": "Move your files?", "help_text": "", "required": True},
    },
]
LAPTOP_ANSWERS = {"q_model": "Performance", "q_move-files": "yes"}


def order(user, catalog, *services, reason="Needed for work."):
    """Put services of the ``catalog`` fixture in the basket and check out, the
    way the checkout page does; returns the new ServiceRequest."""
    from catalog.selectors.basket import basket_review
    from catalog.services.basket import basket_line_add
    from catalog.services.checkout import request_submit

    for key in services:
        data = {**LAPTOP_ANSWERS, "quantity": "1"} if key == "laptop" else {}
        basket_line_add(user=user, service_id=catalog[key].pk, data=data)
    review = basket_review(user=user)
    return request_submit(
        user=user,
        basket_id=review.basket.pk,
        expected_fingerprint=review.fingerprint,
        business_reason=reason,
    ).service_request


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is deliberately slow; tests create many people.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def home_page(db):
    return ensure_home_page()


@pytest.fixture
def catalog_index(home_page):
    return home_page.add_child(
        instance=CatalogIndexPage(title="All services", slug="services")
    )


@pytest.fixture
def finance(db):
    return DepartmentFactory(name="Finance")


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Sales")


@pytest.fixture
def london(db):
    return LocationFactory(name="London")


@pytest.fixture
def berlin(db):
    return LocationFactory(name="Berlin")


@pytest.fixture
def managers(db):
    return GroupFactory(name="Managers")


@pytest.fixture
def standard_level(db):
    return ServiceLevelFactory(name="Standard")


@pytest.fixture
def catalog(catalog_index, finance, london, managers, standard_level):
    """Two categories; one open service, and one restricted each way."""
    computers = category_page(catalog_index, "Computers", icon="laptop")
    access = category_page(catalog_index, "Access", icon="key")
    services = {
        "laptop": service_page(
            computers,
            "New laptop",
            summary="A laptop set up for you.",
            also_known_as="notebook, computer",
            one_off_price=Decimal("1200"),
            monthly_price=Decimal("15"),
            delivery_days=2,
            requires_approval=True,
            service_level=standard_level,
            featured=True,
            max_quantity=3,
            request_form=LAPTOP_QUESTIONS,
        ),
        "password": service_page(
            access,
            "Reset a forgotten password",
            summary="Get back into your account.",
            also_known_as="login, locked out",
            delivery_days=0,
        ),
        "finance_system": service_page(
            access,
            "Access to the finance system",
            summary="Sign in to the finance system.",
            restricted_to_departments=[finance],
            monthly_price=Decimal("35"),
        ),
        "london_kit": service_page(
            computers,
            "Meeting-room video kit",
            summary="A camera and screen for a room.",
            one_off_price=Decimal("3200"),
            delivery_days=15,
            restricted_to_locations=[london],
        ),
        "starter": service_page(
            computers,
            "New starter bundle",
            summary="Everything a new joiner needs.",
            one_off_price=Decimal("1700"),
            restricted_to_groups=[managers],
        ),
    }
    return {"computers": computers, "access": access, **services}


@pytest.fixture
def employee(sales, berlin):
    return UserFactory(
        username="emp", profile={"department": sales, "location": berlin}
    )


@pytest.fixture
def finance_londoner(finance, london):
    return UserFactory(
        username="fin", profile={"department": finance, "location": london}
    )


@pytest.fixture
def a_manager(sales, berlin, managers):
    return UserFactory(
        username="boss",
        profile={"department": sales, "location": berlin},
        groups=[managers],
    )


@pytest.fixture
def reports_to_manager(employee, a_manager):
    """The employee reports to the manager, who may then order for them."""
    from catalog.models import UserProfile

    UserProfile.objects.filter(user=employee).update(manager=a_manager)
    employee.refresh_from_db()
    return employee


@pytest.fixture
def employee_client(client, employee):
    client.force_login(employee)
    return client


@pytest.fixture
def manager_client(client, a_manager):
    client.force_login(a_manager)
    return client


@pytest.fixture
def order_on_behalf(managers):
    from django.contrib.auth.models import Permission

    managers.permissions.add(Permission.objects.get(codename="order_on_behalf"))
    return managers


@pytest.fixture
def fulfiller(db, berlin):
    from django.contrib.auth.models import Permission

    from tests.factories import DepartmentFactory

    person = UserFactory(
        username="fixer",
        profile={"department": DepartmentFactory(name="IT"), "location": berlin},
    )
    person.user_permissions.add(Permission.objects.get(codename="work_requests"))
    return person
