"""The listing's cache: the same list for the same audience is rendered once."""

import pytest

from catalog.selectors.caching import listing_context

pytestmark = pytest.mark.django_db


def _request(rf, user, **params):
    request = rf.get("/services/", params)
    request.user = user
    return request


def test_the_same_list_is_served_from_the_cache(rf, catalog, employee):
    first = listing_context(
        request=_request(rf, employee, sort="name", utm_source="mail"),
        catalog_url="/services/",
    )
    assert first["result_count"] == 2
    assert "utm_source" not in first["listing_html"]
    again = listing_context(
        request=_request(rf, employee, sort="name"), catalog_url="/services/"
    )
    assert again == {"listing_html": first["listing_html"], "query": ""}


def test_a_search_is_rendered_every_time(rf, catalog, employee):
    for _ in range(2):
        context = listing_context(
            request=_request(rf, employee, q="laptop"), catalog_url="/services/"
        )
        assert context["query"] == "laptop"
        assert context["result_count"] == 1
