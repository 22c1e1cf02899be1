"""What a service page and card tell about delivery, to everyone (one plain
line) and to executives (a panel of their department's figures).

The line's wording, and why: the page already promises "Usually ready in N
working days" (what the catalog editor set). The measured figure is told next
to it as "Recently: half delivered within N working days, P% on time last
quarter": "recently" marks it as what happened rather than a second promise,
and "half delivered within" is what a median is, in words, so the two lines
never contradict each other even when recent deliveries were slower than the
promise. With too little data the line says so instead of a figure.

Panel figures are worked out by hand below for the "New laptop" (€1,200 one-off,
€15 a month) on 10 May 2026: the 12 months are May 2025 to April 2026, the 90
days 9 February to 9 May 2026.
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache

from catalog.models import (
    ItemStatus,
    RequestItem,
    ServiceDeliveryStats,
    ServiceRequest,
)
from catalog.services.reporting import reporting_rebuild
from tests.factories import DepartmentFactory, UserFactory, service_page

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=LONDON)
LAPTOP_URL = "/services/computers/new-laptop/"
NOT_ENOUGH = "Not enough recent requests to show delivery times"


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: date) -> datetime:
    return datetime.combine(day, time(11), tzinfo=LONDON)


def item(service, person, delivered: date, *, met=None, rating=None, removes=None):
    """One request with one item for ``person``, delivered (and closed) on
    ``delivered``; ``met`` True/False measures it against a 16-hour target."""
    created = at(delivered) - timedelta(days=2)
    department = person.profile.department
    request = ServiceRequest.objects.create(
        requested_by=person,
        requested_for=person,
        cost_centre=department.cost_centre,
        department=department,
        business_reason="Needed for work.",
        currency="EUR",
        submitted_at=created,
    )
    return RequestItem.objects.create(
        request=request,
        line_number=1,
        service=service,
        service_name=f"Remove: {service.title}" if removes else service.title,
        one_off_price=Decimal("0") if removes else service.one_off_price,
        monthly_price=Decimal("0") if removes else service.monthly_price,
        currency="EUR",
        status=ItemStatus.CLOSED,
        created_at=created,
        status_changed_at=at(delivered),
        fulfilled_at=at(delivered),
        clock_started_at=created,
        resolution_target_hours=Decimal("16") if met is not None else None,
        resolution_breached_at=at(delivered) if met is False else None,
        resolution_seconds=36000,
        rating=rating,
        removes_item=removes,
    )


def person(username, department, *, executive=False, whole_company=False):
    user = UserFactory(username=username, profile={"department": department})
    if executive:
        user.groups.add(Group.objects.get(name="Executive"))
    if whole_company:
        user.user_permissions.add(
            Permission.objects.get(codename="view_all_departments")
        )
    return user


@pytest.fixture
def laptop_history(catalog, sales, finance):
    """Sales: A, B and D hold a laptop now, C gave one back; Finance: E."""
    laptop = catalog["laptop"]
    a, b, c, d = (person(name, sales) for name in ("ann", "bob", "cat", "dan"))
    e = person("eve", finance)
    # Held from 10 June 2025: June 21/30 of €15 = €10.50, then 10 months = €150.
    item(laptop, a, date(2025, 6, 10))
    # Held from 2 March 2026: March 30/31 = €14.52, April €15. On time, rated 4.
    item(laptop, b, date(2026, 3, 2), met=True, rating=4)
    # Held from 15 April 2026: April 16/30 = €8.00. Late, rated 2.
    item(laptop, a, date(2026, 4, 15), met=False, rating=2)
    # Delivered before the 12 months (its €1,200 doesn't count) and given back
    # on 16 November 2025: May to October = €90, November 15/30 = €7.50.
    held = item(laptop, c, date(2025, 4, 20))
    item(laptop, c, date(2025, 11, 16), removes=held)
    # Delivered in May 2026: after the 12 months, inside the 90 days. On time,
    # rated 5.
    item(laptop, d, date(2026, 5, 5), met=True, rating=5)
    # Finance, held from 10 March 2026: March 22/31 = €10.65, April €15. On
    # time, rated 5.
    item(laptop, e, date(2026, 3, 10), met=True, rating=5)
    reporting_rebuild()
    return laptop


@pytest.fixture
def head_of_sales(client, sales):
    client.force_login(person("head", sales, executive=True))
    return client


@pytest.fixture
def coo_client(client):
    office = DepartmentFactory(name="Executive Office")
    client.force_login(person("coo", office, executive=True, whole_company=True))
    return client


def panel_of(html: str) -> str:
    match = re.search(
        r'<section class="card service-level executive-panel".*?</section>', html, re.S
    )
    return match.group(0) if match else ""


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


# --- The panel ---------------------------------------------------------------------


def test_head_of_sales_sees_their_department(head_of_sales, laptop_history):
    html = head_of_sales.get(LAPTOP_URL).content.decode()
    panel = text_of(panel_of(html))
    assert panel.startswith(
        "Sales Only executives see this: figures for your department."
    )
    # One-off: 3 × €1,200 in the 12 months. Monthly charges: €10.50 + €150
    # + €14.52 + €15 + €8.00 + €90 + €7.50 = €295.52.
    assert (
        "Spent, May 2025 to April 2026 €3,895.52 "
        "(€3,600 one-off, €295.52 monthly charges)"
    ) in panel
    # Ann (two), Bob and Dan hold one now; Cat gave hers back.
    assert "Your people who have it now 3" in panel
    # 90 days: Bob's and Dan's on time, Ann's late: 2 of 3.
    assert "last 90 days 66.7% of 3 delivered" in panel
    # Ratings 4, 2 and 5: 11 / 3 = 3.67.
    assert "Average rating, last 90 days 3.7 out of 5 from 3 ratings" in panel
    # Finance's laptop shows nowhere.
    assert "5,121.17" not in html and "75%" not in html


def test_whole_company_viewer_sees_everyone_labelled(coo_client, laptop_history):
    panel = text_of(panel_of(coo_client.get(LAPTOP_URL).content.decode()))
    assert panel.startswith(
        "Whole company Only executives see this: figures for the whole company."
    )
    # Sales + Finance: €4,800 one-off, €295.52 + €10.65 + €15 = €321.17.
    assert "€5,121.17 (€4,800 one-off, €321.17 monthly charges)" in panel
    assert "People who have it now 4" in panel
    assert "last 90 days 75% of 4 delivered" in panel
    # Ratings 4, 2, 5 and 5: 16 / 4.
    assert "4 out of 5 from 4 ratings" in panel


def test_panel_figures_link_to_the_items_behind_them(head_of_sales, laptop_history):
    html = panel_of(head_of_sales.get(LAPTOP_URL).content.decode())
    assert (
        'href="/executive/items/?service=New+laptop&amp;period=custom&amp;'
        'date_from=2025-05-01&amp;date_to=2026-04-30&amp;metric=spend"'
    ) in html
    assert (
        'href="/executive/items/?service=New+laptop&amp;period=custom&amp;'
        'date_from=2026-02-09&amp;date_to=2026-05-09&amp;metric=resolution"'
    ) in html
    assert "metric=rated" in html
    # The link lands on the dashboard's list of those items.
    response = head_of_sales.get(
        "/executive/items/?service=New+laptop&period=custom"
        "&date_from=2026-02-09&date_to=2026-05-09&metric=resolution"
    )
    assert response.status_code == 200


def test_employee_sees_no_panel(employee_client, laptop_history):
    html = employee_client.get(LAPTOP_URL).content.decode()
    assert "Only executives see this" not in html
    assert "3,895.52" not in html


def test_a_service_without_monthly_price_has_no_holders_line(head_of_sales, catalog):
    html = head_of_sales.get("/services/access/reset-a-forgotten-password/")
    panel = text_of(panel_of(html.content.decode()))
    assert "who have it now" not in panel
    assert "Spent, May 2025 to April 2026 €0" in panel
    assert "Nothing delivered with a promised time" in panel
    assert "Not rated yet" in panel


def test_executive_without_a_department_sees_no_panel(client, catalog):
    client.force_login(person("nodept", None, executive=True))
    html = client.get(LAPTOP_URL).content.decode()
    assert "Only executives see this" not in html


# --- The line ----------------------------------------------------------------------


@pytest.fixture
def laptop_stats(catalog):
    return ServiceDeliveryStats.objects.create(
        service=catalog["laptop"],
        median_days=Decimal("2.4"),
        delivered_90_days=31,
        on_time_share=Decimal("0.947"),
        delivered_last_quarter=40,
        computed_on=date(2026, 5, 10),
    )


LAPTOP_LINE = "Recently: half delivered within 3 working days, 94% on time last quarter"


def test_service_page_shows_the_line_beside_the_promise(employee_client, laptop_stats):
    html = employee_client.get(LAPTOP_URL).content.decode()
    assert "Usually ready in 2 working days" in html
    assert LAPTOP_LINE in html


def test_cards_show_the_line(employee_client, laptop_stats):
    for url in ("/services/", "/services/computers/", "/"):
        html = employee_client.get(url).content.decode()
        assert LAPTOP_LINE in html, url
        # The password reset (listed with everything) has no figures yet.
        if url == "/services/":
            assert NOT_ENOUGH in html, url


def test_too_little_data_is_said(employee_client, catalog):
    ServiceDeliveryStats.objects.create(
        service=catalog["laptop"],
        delivered_90_days=4,
        delivered_last_quarter=6,
        computed_on=date(2026, 5, 10),
    )
    html = employee_client.get(LAPTOP_URL).content.decode()
    assert NOT_ENOUGH in html
    assert "Recently:" not in html


def test_new_figures_reach_a_cached_listing_at_once(employee_client, laptop_stats):
    assert LAPTOP_LINE in employee_client.get("/services/computers/").content.decode()
    ServiceDeliveryStats.objects.filter(pk=laptop_stats.pk).update(
        median_days=Decimal("4.0"), computed_on=date(2026, 5, 11)
    )
    # New figures start a new catalog version, so the cached listing is not read.
    html = employee_client.get("/services/computers/").content.decode()
    assert "Recently: half delivered within 4 working days" in html


def test_new_figures_reach_a_service_page_at_once(employee_client, laptop_stats):
    assert LAPTOP_LINE in employee_client.get(LAPTOP_URL).content.decode()
    ServiceDeliveryStats.objects.filter(pk=laptop_stats.pk).update(
        median_days=Decimal("4.0"), computed_on=date(2026, 5, 11)
    )
    html = employee_client.get(LAPTOP_URL).content.decode()
    assert "Recently: half delivered within 4 working days" in html


# --- Query budgets -----------------------------------------------------------------


def _more_services(catalog, n):
    for i in range(n):
        page = service_page(catalog["computers"], f"Extra service {i}")
        ServiceDeliveryStats.objects.create(
            service=page,
            median_days=Decimal("1.0"),
            delivered_90_days=20,
            on_time_share=Decimal("0.9"),
            delivered_last_quarter=20,
            computed_on=date(2026, 5, 10),
        )


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        # The same budgets as the storefront's without the figures.
        ("/", 18),
        ("/services/", 21),
        ("/services/computers/", 21),
        (LAPTOP_URL, 18),
    ],
)
def test_employee_budgets_are_unchanged(
    employee_client, catalog, laptop_stats, django_assert_max_num_queries, url, budget
):
    cache.clear()
    with django_assert_max_num_queries(budget) as small:
        assert employee_client.get(url).status_code == 200
    _more_services(catalog, 12)
    cache.clear()
    with django_assert_max_num_queries(budget) as large:
        assert employee_client.get(url).status_code == 200
    assert len(large.captured_queries) <= len(small.captured_queries)


def test_cards_read_their_figures_with_the_list(
    employee_client, catalog, django_assert_max_num_queries
):
    """Figures for no card or for every card: the same number of queries."""
    cache.clear()
    with django_assert_max_num_queries(21) as without:
        employee_client.get("/services/computers/")
    _more_services(catalog, 8)
    cache.clear()
    with django_assert_max_num_queries(21) as with_figures:
        html = employee_client.get("/services/computers/").content.decode()
    assert html.count("Recently: half delivered within 1 working day") == 8
    assert len(with_figures.captured_queries) <= len(without.captured_queries)


def test_executive_panel_budget(
    head_of_sales, laptop_history, sales, django_assert_max_num_queries
):
    """The employee's 18, and 4 for the panel: the executive's department,
    the daily and the monthly rollups, and who holds the service."""
    cache.clear()
    with django_assert_max_num_queries(22) as small:
        assert head_of_sales.get(LAPTOP_URL).status_code == 200
    # More history, in more departments: the same number of queries.
    laptop = laptop_history
    for n in range(6):
        item(laptop, person(f"more{n}", sales), date(2026, 3, 1 + n), met=True)
    reporting_rebuild()
    cache.clear()
    with django_assert_max_num_queries(22) as large:
        assert head_of_sales.get(LAPTOP_URL).status_code == 200
    assert len(large.captured_queries) <= len(small.captured_queries)
