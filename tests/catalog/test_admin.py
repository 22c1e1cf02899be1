"""The Wagtail admin as IT editors use it."""

import pytest
from django.contrib.auth.models import Group
from wagtail.models import GroupPagePermission, Page

from catalog.demo.loader import load_demo
from catalog.models import SearchMiss, ServicePage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    load_demo()


@pytest.fixture
def editor_client(client, demo):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="editor"))
    return client


def test_catalog_editors_can_edit_but_not_publish_service_pages(demo):
    editors = Group.objects.get(name="Catalog editor")
    root = Page.get_first_root_node()
    codenames = set(
        GroupPagePermission.objects.filter(group=editors, page=root).values_list(
            "permission__codename", flat=True
        )
    )
    assert codenames == {"add_page", "change_page", "lock_page", "unlock_page"}


def test_service_edit_view_has_customer_and_it_tabs(editor_client):
    service = ServicePage.objects.get(title="VPN access")
    response = editor_client.get(f"/admin/pages/{service.pk}/edit/")
    assert response.status_code == 200
    html = response.content.decode()
    for tab in ["Customer view", "Ordering", "Who can see it", "IT only"]:
        assert tab in html


@pytest.mark.parametrize(
    "model",
    [
        "servicelevel",
        "businesscalendar",
        "holdreason",
        "department",
        "costcentre",
        "location",
        "fulfilmentgroup",
        "searchmiss",
    ],
)
def test_reference_data_lists_open_for_editors(editor_client, model):
    response = editor_client.get(f"/admin/snippets/catalog/{model}/")
    assert response.status_code == 200


def test_people_are_for_people_administrators_not_editors(client, demo):
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.get(username="editor")
    client.force_login(editor)
    response = client.get("/admin/snippets/catalog/userprofile/")
    assert (response.status_code, response.url) == (302, "/admin/")
    people_admin = UserFactory(username="hr")
    people_admin.groups.add(Group.objects.get(name="People administrator"))
    client.force_login(people_admin)
    assert client.get("/admin/snippets/catalog/userprofile/").status_code == 200


def test_catalog_setup_menu_groups_reference_data(editor_client):
    html = editor_client.get("/admin/").content.decode()
    assert "Catalog setup" in html
    assert "View catalog as" in html


def test_view_as_explains_hidden_services(editor_client):
    from django.contrib.auth import get_user_model

    employee = get_user_model().objects.get(username="employee")
    response = editor_client.get("/admin/catalog/view-as/", {"user": employee.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Access to HR records" in html
    assert "Only for the departments Human Resources; they are in Sales." in html
    assert "Only for members of Approver." in html
    visible = {row.service.title for row in response.context["visible"]}
    assert "VPN access" in visible
    assert "New starter bundle" not in visible


def test_view_as_with_bad_user_id_shows_the_form_error(editor_client):
    response = editor_client.get("/admin/catalog/view-as/", {"user": "nope"})
    assert response.status_code == 200
    assert "person" not in response.context


def test_view_as_is_refused_without_permission(client, demo):
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name="Moderators"))
    client.force_login(staff)
    response = client.get("/admin/catalog/view-as/")
    assert response.status_code in (302, 403)


def test_employees_cannot_open_the_admin(client, demo):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="employee"))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_searches_with_no_results_are_listed(editor_client):
    SearchMiss.objects.create(query_string="hoverboard", count=3)
    html = editor_client.get("/admin/snippets/catalog/searchmiss/").content.decode()
    assert "hoverboard" in html


def test_a_published_summary_change_reaches_employees(editor_client):
    """Editors submit changes for moderation (the service owner approves); what
    is published is what employees see."""
    from django.contrib.auth import get_user_model

    service = ServicePage.objects.get(title="VPN access")
    service.summary = "Work from anywhere, securely."
    service.save_revision(user=get_user_model().objects.get(username="owner")).publish()
    employee = get_user_model().objects.get(username="employee")
    editor_client.force_login(employee)
    html = editor_client.get(service.url).content.decode()
    assert "Work from anywhere, securely." in html


def test_catalog_editors_cannot_publish_directly(demo):
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.get(username="editor")
    service = ServicePage.objects.get(title="VPN access")
    assert service.permissions_for_user(editor).can_edit()
    assert not service.permissions_for_user(editor).can_publish()


def test_editors_can_promote_a_service_for_a_search_term(editor_client):
    response = editor_client.get("/admin/searchpicks/")
    assert response.status_code == 200
    assert editor_client.get("/admin/searchpicks/add/").status_code == 200


def test_catalog_setup_menu_leads_to_the_categories(editor_client):
    from catalog.models import CatalogIndexPage

    response = editor_client.get("/admin/catalog/categories/")
    index = CatalogIndexPage.objects.get()
    assert response.status_code == 302
    assert response.url == f"/admin/pages/{index.pk}/"
    html = editor_client.get(response.url).content.decode()
    assert "Laptops and computers" in html
