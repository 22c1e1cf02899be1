"""The storefront as a person's browser sees it: pages, entitlements by URL,
bad input, login, and query budgets that do not grow with the catalog."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from wagtail.contrib.search_promotions.models import Query, SearchPromotion

from catalog.models import SearchMiss
from tests.factories import service_page

pytestmark = pytest.mark.django_db


def test_home_shows_categories_and_featured_services(employee_client, catalog):
    response = employee_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Computers" in html and "Access" in html
    assert "New laptop" in html  # featured
    assert "Access to the finance system" not in html


def shop_window_of(content: bytes) -> str:
    html = content.decode()
    return html[html.index("Browse by category") : html.index("</main>")]


def test_repeated_home_is_served_from_the_cache(
    employee_client, catalog, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20) as miss:
        first = employee_client.get("/").content
    with django_assert_max_num_queries(20) as hit:
        second = employee_client.get("/").content
    assert shop_window_of(second) == shop_window_of(first)
    assert len(hit.captured_queries) < len(miss.captured_queries)


def test_cached_home_follows_publishing(employee_client, catalog):
    assert "New laptop" in shop_window_of(employee_client.get("/").content)
    laptop = catalog["laptop"]
    laptop.title = "New notebook computer"
    laptop.save_revision().publish()
    assert "New notebook computer" in shop_window_of(employee_client.get("/").content)
    laptop.unpublish()
    assert "New notebook" not in shop_window_of(employee_client.get("/").content)


def test_cached_home_is_never_shared_across_audiences(
    client, catalog, employee, finance_londoner
):
    finance_system = catalog["finance_system"]
    finance_system.featured = True
    finance_system.save_revision().publish()
    client.force_login(finance_londoner)
    assert "Access to the finance system" in shop_window_of(client.get("/").content)
    client.force_login(employee)
    assert "Access to the finance system" not in shop_window_of(client.get("/").content)


def test_listing_shows_only_entitled_services(employee_client, catalog):
    response = employee_client.get("/services/")
    titles = [s.title for s in response.context["services"]]
    assert sorted(titles) == ["New laptop", "Reset a forgotten password"]


def test_category_page_lists_its_own_services(employee_client, catalog):
    response = employee_client.get("/services/computers/")
    assert [s.title for s in response.context["services"]] == ["New laptop"]


def test_service_page_shows_price_delivery_and_service_level(employee_client, catalog):
    response = employee_client.get("/services/computers/new-laptop/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "€1,200" in html and "one-off" in html
    assert "€15" in html and "per month" in html
    assert "Usually ready in 2 working days" in html
    assert "Your manager approves it first" in html
    # The promise in the same unit as the card: 16 working hours on a 10-hour
    # office day is 2 working days.
    assert "<dt>We deliver within</dt><dd>2 working days</dd>" in html
    assert "Standard service level." in html
    # A laptop is not an online system: no availability figure.
    assert "of the time" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/services/access/access-to-the-finance-system/",
        "/services/computers/meeting-room-video-kit/",
        "/services/computers/new-starter-bundle/",
    ],
)
def test_direct_url_to_a_service_not_entitled_is_404(employee_client, catalog, url):
    response = employee_client.get(url)
    assert response.status_code == 404
    assert "finance" not in response.content.decode().lower()


def test_entitled_person_can_open_restricted_service(client, catalog, finance_londoner):
    client.force_login(finance_londoner)
    response = client.get("/services/access/access-to-the-finance-system/")
    assert response.status_code == 200


def test_suspended_service_explains_why(employee_client, catalog):
    page = catalog["password"]
    page.orderable = False
    page.not_orderable_reason = "Our password tool is being upgraded until Monday."
    page.save_revision().publish()
    response = employee_client.get("/services/access/reset-a-forgotten-password/")
    assert "being upgraded until Monday" in response.content.decode()


STEPS = {
    "type": "steps",
    "value": {
        "heading": "What happens next",
        "steps": ["You order it here and tell us what you need."],
    },
}
INTRO = {"type": "paragraph", "value": "<p>A new password by e-mail.</p>"}


def test_suspended_service_hides_its_ordering_steps(employee_client, catalog):
    page = catalog["password"]
    page.description = [INTRO, STEPS]
    page.save_revision().publish()
    url = "/services/access/reset-a-forgotten-password/"
    html = employee_client.get(url).content.decode()
    assert "You order it here" in html and "A new password by e-mail." in html
    page.orderable = False
    page.not_orderable_reason = "Tool upgrade."
    page.save_revision().publish()
    html = employee_client.get(url).content.decode()
    assert "You order it here" not in html
    assert "What happens next" not in html
    assert "A new password by e-mail." in html


def test_suspended_service_with_only_steps_has_no_empty_section(
    employee_client, catalog
):
    page = catalog["password"]
    page.description = [STEPS]
    page.orderable = False
    page.not_orderable_reason = "Tool upgrade."
    page.save_revision().publish()
    html = employee_client.get(
        "/services/access/reset-a-forgotten-password/"
    ).content.decode()
    assert "<h2>What you get</h2>" not in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"price": "free"}, ["Reset a forgotten password"]),
        ({"price": "over-500"}, ["New laptop"]),
        ({"delivery": "same-day"}, ["Reset a forgotten password"]),
        ({"no_approval": "on"}, ["Reset a forgotten password"]),
        ({"sort": "-price"}, ["New laptop", "Reset a forgotten password"]),
        ({"sort": "price"}, ["Reset a forgotten password", "New laptop"]),
        ({"sort": "name"}, ["New laptop", "Reset a forgotten password"]),
    ],
)
def test_filters_and_sorting(employee_client, catalog, params, expected):
    response = employee_client.get("/services/", params)
    assert [s.title for s in response.context["services"]] == expected


def test_category_filter(employee_client, catalog):
    response = employee_client.get("/services/", {"category": catalog["access"].pk})
    assert [s.title for s in response.context["services"]] == [
        "Reset a forgotten password"
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"category": "abc"},
        {"category": "999999"},
        {"price": "cheap"},
        {"delivery": "-1"},
        {"sort": "id; drop table"},
        {"page": "zzz"},
        {"page": "99999"},
        {"page": "-1"},
        {"q": "x" * 20000},
        {"q": "\"'*()[]{}:;!@#$%^&|~`<>\\/"},
        {"q": "laptop OR AND NOT"},
        {"q": "\x00\x01"},
        {"q": "ünïcødé 日本語"},
        {"no_approval": "maybe"},
    ],
)
def test_bad_input_gives_a_normal_page(employee_client, catalog, params):
    response = employee_client.get("/services/", params)
    assert response.status_code == 200
    response = employee_client.get("/services/computers/", params)
    assert response.status_code == 200


def test_invalid_filter_is_explained_and_ignored(employee_client, catalog):
    response = employee_client.get("/services/", {"price": "cheap"})
    assert "showing everything instead" in response.content.decode()
    assert len(response.context["services"]) == 2


def test_search_that_finds_nothing_is_recorded_for_editors(employee_client, catalog):
    employee_client.get("/services/", {"q": "teleporter"})
    employee_client.get("/services/", {"q": "Teleporter"})
    miss = SearchMiss.objects.get()
    assert miss.query_string == "teleporter"
    assert miss.count == 2
    assert Query.get("teleporter").hits == 2


def test_search_that_finds_nothing_links_to_asking_it(employee_client, catalog):
    ask = service_page(
        catalog["access"],
        "Something else",
        request_form=[
            {
                "type": "long_text",
                "id": "need",
                "value": {"label": "What do you need?", "required": True},
            }
        ],
    )
    html = employee_client.get("/services/", {"q": "teleporter"}).content.decode()
    assert (
        f'<a class="button" href="{ask.url}">Ask IT for something not in the '
        "catalog</a>" in html
    )
    found = employee_client.get("/services/", {"q": "laptop"}).content.decode()
    assert "Ask IT for something not in the catalog" not in found


def test_no_ask_it_link_without_such_a_service(employee_client, catalog):
    html = employee_client.get("/services/", {"q": "teleporter"}).content.decode()
    assert "Nothing found for" in html
    assert "Ask IT for something" not in html


def test_listing_lets_keyboard_users_skip_the_filters(employee_client, catalog):
    html = employee_client.get("/services/", {"q": "laptop"}).content.decode()
    skip = html.index('<a class="skip-to-results" href="#results">Skip to results</a>')
    assert skip < html.index('class="filters"')
    assert '<section class="listing__results" id="results" tabindex="-1"' in html


def test_later_pages_of_a_search_are_not_counted_again(
    employee_client, catalog, settings
):
    settings.CATALOG_PAGE_SIZE = 1
    employee_client.get("/services/", {"q": "laptop password"})
    employee_client.get("/services/", {"q": "laptop password", "page": "2"})
    assert Query.get("laptop password").hits == 1


def test_successful_search_is_not_a_miss(employee_client, catalog):
    employee_client.get("/services/", {"q": "laptop"})
    assert not SearchMiss.objects.exists()


def test_promoted_service_is_shown_first_when_visible(employee_client, catalog):
    SearchPromotion.objects.create(
        query=Query.get("computer"), page=catalog["password"], sort_order=0
    )
    SearchPromotion.objects.create(
        query=Query.get("computer"), page=catalog["finance_system"], sort_order=1
    )
    response = employee_client.get("/services/", {"q": "computer"})
    assert [s.title for s in response.context["promoted"]] == [
        "Reset a forgotten password"
    ]
    assert "Access to the finance system" not in response.content.decode()


def test_portal_requires_login(client, catalog):
    for url in ["/", "/services/", "/services/computers/new-laptop/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_login_redirects_to_next_within_the_site(client, employee, catalog):
    response = client.post(
        "/accounts/login/?next=/services/",
        {"username": "emp", "password": "portal-demo", "next": "/services/"},
    )
    assert response.status_code == 302 and response.url == "/services/"


def test_login_never_redirects_off_site(client, employee, catalog):
    response = client.post(
        "/accounts/login/",
        {
            "username": "emp",
            "password": "portal-demo",
            "next": "https://evil.example.com/",
        },
    )
    assert response.status_code == 302
    assert response.url == "/"


def test_wrong_password_shows_a_message(client, employee):
    response = client.post("/accounts/login/", {"username": "emp", "password": "no"})
    assert response.status_code == 200
    assert "don&#x27;t match" in response.content.decode()


def test_logout(employee_client, catalog):
    response = employee_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert employee_client.get("/services/").status_code == 302


def test_logout_says_so_on_the_login_page(employee_client, catalog):
    response = employee_client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert (
        '<p class="message message--success" role="status">You have logged out.</p>'
        in response.content.decode()
    )


def test_logout_address_opened_directly_offers_the_button(employee_client, catalog):
    response = employee_client.get("/accounts/logout/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Log out of IT Services?</h1>" in html
    assert '<form method="post" action="/accounts/logout/">' in html
    assert '<button class="button button--wide" type="submit">Log out</button>' in html
    # Still logged in: a GET logs nobody out.
    assert employee_client.get("/services/").status_code == 200


def _add_services(category, n, start=0):
    for i in range(start, start + n):
        service_page(category, f"Extra service {i}", one_off_price=Decimal(i))


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        ("/", 18),  # the header asks where the catalog is
        ("/services/", 21),
        ("/services/computers/", 21),
        ("/services/?price=under-100&sort=price&no_approval=on", 20),
        ("/services/?q=laptop", 32),  # includes logging the search
        ("/services/computers/new-laptop/", 18),
    ],
)
def test_query_budget_does_not_grow_with_the_catalog(
    employee_client, catalog, django_assert_max_num_queries, url, budget
):
    # Measured with every cache empty: the worst case.
    cache.clear()
    with django_assert_max_num_queries(budget) as small:
        assert employee_client.get(url).status_code == 200
    _add_services(catalog["computers"], 15)
    cache.clear()
    with django_assert_max_num_queries(budget) as large:
        assert employee_client.get(url).status_code == 200
    assert len(large.captured_queries) <= len(small.captured_queries)


def listing_of(content: bytes) -> str:
    html = content.decode()
    return html[html.index('<div class="listing">') : html.index("</main>")]


def test_repeated_listing_is_served_from_the_cache(
    employee_client, catalog, django_assert_max_num_queries
):
    # Warm per-process caches with another list (junk parameters would share
    # the entry under test).
    employee_client.get("/services/computers/?sort=name")
    with django_assert_max_num_queries(20) as miss:
        first = employee_client.get("/services/computers/").content
    with django_assert_max_num_queries(20) as hit:
        second = employee_client.get("/services/computers/").content
    assert listing_of(second) == listing_of(first)
    assert len(hit.captured_queries) < len(miss.captured_queries)


def test_cached_listing_follows_publishing(employee_client, catalog):
    assert "New laptop" in employee_client.get("/services/").content.decode()
    laptop = catalog["laptop"]
    laptop.title = "New notebook computer"
    laptop.save_revision().publish()
    html = employee_client.get("/services/").content.decode()
    assert "New notebook computer" in html
    laptop.unpublish()
    assert "New notebook" not in employee_client.get("/services/").content.decode()


def test_cached_listing_is_never_shared_across_audiences(
    client, catalog, employee, finance_londoner
):
    client.force_login(finance_londoner)
    assert "Access to the finance system" in client.get("/services/").content.decode()
    client.force_login(employee)
    assert "Access to the finance system" not in (
        client.get("/services/").content.decode()
    )


def test_cached_listing_follows_a_change_of_department(
    client, catalog, employee, finance
):
    client.force_login(employee)
    assert "finance system" not in client.get("/services/").content.decode()
    employee.profile.department = finance
    employee.profile.save()
    client.force_login(employee)
    assert "finance system" in client.get("/services/").content.decode()


def test_cached_route_follows_unpublishing(employee_client, catalog):
    url = "/services/computers/new-laptop/"
    assert employee_client.get(url).status_code == 200
    catalog["laptop"].unpublish()
    assert employee_client.get(url).status_code == 404


def test_cached_route_still_checks_who_is_asking(
    client, catalog, finance_londoner, employee
):
    url = "/services/access/access-to-the-finance-system/"
    client.force_login(finance_londoner)
    assert client.get(url).status_code == 200  # now in the route cache
    client.force_login(employee)
    assert client.get(url).status_code == 404


def stored_keys() -> int:
    return len(cache._cache)  # the local-memory backend's store


def test_swapping_one_restriction_for_another_changes_the_cached_listing(
    client, catalog, employee, finance_londoner, finance, sales
):
    """Same number of restriction rows, same highest page log id: only a real
    version notices."""
    client.force_login(employee)
    assert "finance system" not in client.get("/services/").content.decode()
    client.force_login(finance_londoner)
    assert "finance system" in client.get("/services/").content.decode()
    through = catalog["finance_system"].restricted_to_departments.through
    through.objects.filter(department=finance).update(department=sales)
    assert "finance system" not in client.get("/services/").content.decode()
    client.force_login(employee)
    assert "finance system" in client.get("/services/").content.decode()


def test_junk_parameters_share_one_cache_entry(employee_client, catalog):
    first = employee_client.get("/services/?price=under-100&utm_source=mail")
    stored = stored_keys()
    for junk in ("utm_source=news", "x=1&y=2", "fbclid=abc", "price=under-100"):
        response = employee_client.get(f"/services/?{junk}&price=under-100")
        assert listing_of(response.content) == listing_of(first.content)
    assert stored_keys() == stored
    assert "utm_source" not in listing_of(first.content)


@pytest.mark.parametrize(
    "query",
    ["price=bogus", "sort=relevance", "category=999999", "page=7", "page=x"],
)
def test_a_list_no_filter_accepts_is_not_cached(employee_client, catalog, query):
    employee_client.get("/services/")  # the usual list, for comparison
    stored = stored_keys()
    assert employee_client.get(f"/services/?{query}").status_code == 200
    assert stored_keys() == stored


def test_pages_of_a_cached_listing_link_without_junk(
    employee_client, catalog, settings
):
    settings.CATALOG_PAGE_SIZE = 1
    html = employee_client.get("/services/?ref=mail&sort=name").content.decode()
    assert 'href="?sort=name&amp;page=2"' in html
    assert "ref=mail" not in listing_of(html.encode())


def test_search_results_offer_best_match_first(employee_client, catalog):
    html = employee_client.get("/services/", {"q": "laptop"}).content.decode()
    assert html.index("Best match") < html.index("Most popular")
    assert "Best match" not in employee_client.get("/services/").content.decode()
    response = employee_client.get("/services/", {"q": "laptop", "sort": "relevance"})
    assert [s.title for s in response.context["services"]] == ["New laptop"]


def test_only_an_online_system_shows_its_availability(employee_client, catalog):
    laptop = catalog["laptop"]
    laptop.online_system = True
    laptop.save_revision().publish()
    html = employee_client.get("/services/computers/new-laptop/").content.decode()
    assert "<dt>Available</dt><dd>99.5% of the time</dd>" in html
