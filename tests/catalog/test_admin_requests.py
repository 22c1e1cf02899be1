"""The admin's view of a request: people by name, its items and its whole log."""

import pytest

from catalog.services.fulfilment import item_work_note_add
from tests.conftest import order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_the_request_list_names_people(admin_client, employee, catalog):
    order(employee, catalog, "password")
    html = admin_client.get("/admin/requests/").content.decode()
    name = employee.get_full_name()
    assert name and html.count(name) >= 2  # for whom, and who ordered it
    assert f">{employee.username}<" not in html


def test_inspecting_a_request_shows_its_items_and_log(admin_client, employee, catalog):
    service_request = order(employee, catalog, "laptop", "password")
    laptop = service_request.items.get(line_number=1)
    item_work_note_add(
        item_id=laptop.pk,
        actor=UserFactory(username="root2", is_superuser=True),
        text="Stock checked.",
    )
    response = admin_client.get(f"/admin/requests/inspect/{service_request.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    facts = " ".join(html.split())
    assert f"<dt>Requested for</dt> <dd> {employee.get_full_name()} </dd>" in facts
    assert f"<dt>Number</dt> <dd> {service_request.number} </dd>" in facts
    assert f'href="/queue/items/{laptop.pk}/"' in html
    assert "New laptop" in html and "Reset a forgotten password" in html
    # The whole log, the team's internal note included and marked.
    assert "submitted the request" in html
    assert "added a work note" in html and "Stock checked." in html
    assert "queue-badge--internal" in html


# --- Lists that grow without end count only so far -----------------------------------


@pytest.fixture
def small_cap(monkeypatch):
    from catalog.views.admin import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 3)


def test_a_long_list_counts_up_to_its_cap(admin_client, employee, catalog, small_cap):
    def label(url):
        html = " ".join(admin_client.get(url).content.decode().split())
        return html.split('class="pagination__end">')[1].split("<")[0].strip()

    order(employee, catalog, "password")
    order(employee, catalog, "password")
    # Up to the cap, a list counts as Wagtail's does; past it, it says so.
    assert label("/admin/requests/") == "2 service requests"
    assert label("/admin/request-log/") == "More than 3 request events"
    assert label("/admin/request-log/?name=request.submitted") == "2 request events"


@pytest.mark.parametrize(
    ("rows", "per_page", "pages", "label"),
    [
        (0, 2, 1, "0 request events"),
        (3, 2, 2, "3 request events"),
        (4, 2, 2, "More than 3 request events"),  # 3 shown, on 2 pages
        (9, 1, 3, "More than 3 request events"),
    ],
)
def test_capped_pages(employee, catalog, small_cap, rows, per_page, pages, label):
    from catalog.models import RequestEvent
    from catalog.views.admin import CappedPaginator

    while RequestEvent.objects.count() < rows:
        order(employee, catalog, "password")
    events = (
        RequestEvent.objects.order_by("pk")[:rows]
        if rows
        else RequestEvent.objects.none()
    )
    paginator = CappedPaginator(
        RequestEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("pk"),
        per_page,
    )
    assert (paginator.num_pages, paginator.items_count_label) == (pages, label)
    # The last page stops at the cap: 3 rows in all.
    shown = sum(len(paginator.page(n).object_list) for n in range(1, pages + 1))
    assert shown == min(rows, 3)
