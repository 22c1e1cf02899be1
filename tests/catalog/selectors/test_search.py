"""Search: the backend's ranking and the editors' promoted results."""

import pytest
from wagtail.contrib.search_promotions.models import Query, SearchPromotion

from catalog.selectors.entitlements import visible_services
from catalog.selectors.search import promoted_services, ranked_service_ids

pytestmark = pytest.mark.django_db


def test_ranking_finds_live_services_matching_any_word(catalog):
    ranked = ranked_service_ids("notebook password")
    assert catalog["laptop"].pk in ranked
    assert catalog["password"].pk in ranked
    catalog["laptop"].unpublish()
    assert catalog["laptop"].pk not in ranked_service_ids("notebook")


def test_promotions_keep_the_editors_order_and_only_what_the_person_sees(
    catalog, employee
):
    for order, name in enumerate(["password", "finance_system", "laptop"]):
        SearchPromotion.objects.create(
            query=Query.get("computer"), page=catalog[name], sort_order=order
        )
    promoted = promoted_services("Computer", visible_services(user=employee))
    assert [s.title for s in promoted] == ["Reset a forgotten password", "New laptop"]


def test_no_promotions_for_an_unpromoted_query(catalog, employee):
    assert promoted_services("printer", visible_services(user=employee)) == []
