"""factory_boy factories for the catalog's models."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.models import (
    BusinessCalendar,
    CostCentre,
    Department,
    FulfilmentGroup,
    Location,
    ServiceLevel,
    ServiceRequest,
    UserProfile,
)


class CostCentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostCentre
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"CC-{n:04d}")
    name = factory.Sequence(lambda n: f"Cost centre {n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Department {n}")
    cost_centre = factory.SubFactory(CostCentreFactory)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Office {n}")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Group {n}")


class ServiceLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLevel
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Service level {n}")
    # Created by migration 0006: Monday to Friday 08:00-18:00, Europe/London,
    # public holidays of England.
    calendar = factory.LazyFunction(
        lambda: BusinessCalendar.objects.get(name="Office hours")
    )
    response_target_hours = Decimal("4")
    resolution_target_hours = Decimal("16")
    internal_response_target_hours = Decimal("2")
    internal_resolution_target_hours = Decimal("12")
    availability_target = Decimal("99.5")


class FulfilmentGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FulfilmentGroup
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "portal-demo")

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if not create:
            return
        self.save()
        UserProfile.objects.update_or_create(user=self, defaults=extracted or kwargs)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*extracted)


class ServiceRequestFactory(factory.django.DjangoModelFactory):
    """A request as checkout leaves its row, for ``requested_by`` (who needs a
    profile with a department): for them, charged to their department."""

    class Meta:
        model = ServiceRequest

    requested_for = factory.SelfAttribute("requested_by")
    department = factory.LazyAttribute(lambda r: r.requested_by.profile.department)
    cost_centre = factory.LazyAttribute(lambda r: r.department.cost_centre)
    business_reason = "Needed for work."
    currency = "EUR"


def service_page(parent, title: str, **fields):
    """Create and publish a ServicePage under ``parent`` (a CategoryPage)."""
    from django.utils.text import slugify

    from catalog.models import ServicePage

    restrictions = {
        key: fields.pop(key)
        for key in (
            "restricted_to_departments",
            "restricted_to_locations",
            "restricted_to_groups",
        )
        if key in fields
    }
    fields.setdefault("summary", f"{title}, described simply.")
    fields.setdefault("slug", slugify(title))
    page = parent.add_child(instance=ServicePage(title=title, **fields))
    for key, values in restrictions.items():
        getattr(page, key).set(values)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def category_page(parent, title: str, **fields):
    from django.utils.text import slugify

    from catalog.models import CategoryPage

    fields.setdefault("summary", f"All about {title.lower()}.")
    fields.setdefault("slug", slugify(title))
    return parent.add_child(instance=CategoryPage(title=title, **fields))
