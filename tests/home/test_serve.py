"""Pages served with routing remembered per catalog version: the memo saves the
Site, route and restriction queries, and every change to pages, sites or view
restrictions is seen on the very next request."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction, Site

from home.models import ContentPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def about(home_page):
    return home_page.add_child(
        instance=ContentPage(title="How ordering works", slug="how-it-works")
    )


def tables_read(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, " ".join(q["sql"] for q in queries.captured_queries)


def test_the_second_visit_skips_site_route_and_restriction_queries(
    employee_client, about
):
    first, sql = tables_read(employee_client, "/how-it-works/")
    assert first.status_code == 200
    assert "wagtailcore_site" in sql and "wagtailcore_pageviewrestriction" in sql
    again, sql = tables_read(employee_client, "/how-it-works/")
    assert again.status_code == 200
    assert "wagtailcore_site" not in sql
    assert "wagtailcore_pageviewrestriction" not in sql
    assert 'SELECT "wagtailcore_page"' not in sql  # the tree walk


def test_an_unpublished_page_is_gone_at_once(employee_client, about):
    assert employee_client.get("/how-it-works/").status_code == 200
    about.unpublish()
    assert employee_client.get("/how-it-works/").status_code == 404


def test_a_renamed_page_moves_at_once(employee_client, about):
    assert employee_client.get("/how-it-works/").status_code == 200
    about.slug = "ordering"
    about.save_revision().publish()
    assert employee_client.get("/how-it-works/").status_code == 404
    assert employee_client.get("/ordering/").status_code == 200


def test_a_published_edit_shows_at_once(employee_client, about):
    assert b"How ordering works" in employee_client.get("/how-it-works/").content
    about.title = "Ordering, step by step"
    about.save_revision().publish()
    assert b"Ordering, step by step" in employee_client.get("/how-it-works/").content


def test_a_new_view_restriction_applies_at_once(employee_client, about):
    assert employee_client.get("/how-it-works/").status_code == 200
    restriction = PageViewRestriction.objects.create(
        page=about, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Only these people"))
    response = employee_client.get("/how-it-works/")
    assert response.status_code in (302, 403)
    assert b"How ordering works" not in response.content


def test_a_site_without_a_root_for_this_host_is_not_served(employee_client, about):
    assert employee_client.get("/how-it-works/").status_code == 200
    Site.objects.all().delete()
    assert employee_client.get("/how-it-works/").status_code == 404
