"""The demo data command."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest

from catalog.models import CategoryPage, ServiceLevel, ServicePage, UserProfile

pytestmark = pytest.mark.django_db


def test_demo_builds_a_realistic_catalog(settings):
    settings.DEBUG = True
    call_command("load_demo")
    assert ServicePage.objects.live().count() >= 30
    assert CategoryPage.objects.count() >= 6
    assert ServiceLevel.objects.count() >= 3
    around_the_clock = ServiceLevel.objects.get(calendar__always_open=True)
    assert around_the_clock.resolution_target_hours == 4
    restricted = ServicePage.objects.exclude(restricted_to_departments=None)
    assert restricted.exists()
    assert ServicePage.objects.exclude(restricted_to_locations=None).exists()
    assert (
        UserProfile.objects.filter(
            user__username__in=[
                "employee",
                "manager",
                "executive",
                "fulfiller",
                "editor",
                "owner",
                "admin",
            ]
        ).count()
        == 7
    )


def test_demo_has_a_service_for_anything_not_in_the_catalog(settings):
    settings.DEBUG = True
    call_command("load_demo")
    ask = ServicePage.objects.live().get(slug=settings.CATALOG_ASK_IT_SLUG)
    assert ask.title == "Something else"
    assert ask.orderable
    [(_, question)] = ask.request_questions
    assert question.block_type == "long_text"
    assert question.value["label"] == "What do you need?"
    assert question.value["required"] is True


def test_demo_people_are_in_the_roles_the_migration_created(settings):
    settings.DEBUG = True
    call_command("load_demo")
    roles = {
        user.username: sorted(user.groups.values_list("name", flat=True))
        for user in get_user_model().objects.filter(
            username__in=["employee", "manager", "executive", "fulfiller", "editor"]
        )
    }
    assert roles == {
        "employee": ["Employee"],
        "manager": ["Approver", "Employee", "Executive"],
        "executive": ["Approver", "Employee", "Executive"],
        "fulfiller": ["Employee", "Fulfiller"],
        "editor": ["Catalog editor", "Employee"],
    }


def test_demo_approval_policy_and_moderation(settings):
    from wagtail.models import WorkflowPage

    from catalog.models import CatalogIndexPage, CostCentre, ServiceDeskSettings

    settings.DEBUG = True
    call_command("load_demo")
    owners = dict(CostCentre.objects.values_list("code", "owner__username"))
    assert owners["CC-2100"] == "manager"
    assert owners["CC-1100"] == "executive"
    assert CostCentre.objects.get(code="CC-2100").approval_threshold == 2000
    assert ServiceDeskSettings.load().approval_calendar.name == "Office hours"
    workflow = WorkflowPage.objects.get(page=CatalogIndexPage.objects.get()).workflow
    assert workflow.name == "Service owner approval"
    owned = set(
        ServicePage.objects.filter(service_owner__username="owner").values_list(
            "title", flat=True
        )
    )
    assert {"Mobile phone", "New laptop"} <= owned


def test_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("load_demo")
    counts = (ServicePage.objects.count(), UserProfile.objects.count())
    call_command("load_demo")
    assert (ServicePage.objects.count(), UserProfile.objects.count()) == counts


def test_demo_users_log_in_with_the_published_password(settings, client):
    settings.DEBUG = True
    call_command("load_demo")
    # django-axes checks every login against its request; the test client's
    # login() makes none of its own.
    assert client.login(
        request=HttpRequest(), username="employee", password="portal-demo"
    )


def test_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("load_demo")
    assert not ServicePage.objects.exists()


def test_demo_runs_with_debug_off_when_forced(settings):
    settings.DEBUG = False
    call_command("load_demo", force=True)
    assert ServicePage.objects.exists()


def test_if_empty_leaves_an_existing_catalog_alone(settings):
    settings.DEBUG = True
    call_command("load_demo")
    ServicePage.objects.get(title="VPN access").delete()
    call_command("load_demo", if_empty=True)
    assert not ServicePage.objects.filter(title="VPN access").exists()


def test_demo_with_history(settings):
    from catalog.models import ServiceRequest
    from catalog.services.request_log import request_log_verify

    settings.DEBUG = True
    call_command("load_demo", history=30)
    assert ServiceRequest.objects.count() == 30
    assert list(request_log_verify()) == []
