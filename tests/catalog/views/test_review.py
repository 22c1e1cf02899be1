"""The service review and asking for a service to be suspended.

On 10 May 2026 the review covers May 2025 to April 2026. Hand-built requests:

| service (price)                        | Sales          | Finance |
|----------------------------------------|----------------|---------|
| New laptop (€1,200)                    | 12 (2 as "Notebook", its old name) | - |
| Reset a forgotten password (free)      | 6              | 3       |
| Meeting-room video kit (€3,200)        | 2              | -       |
| New starter bundle (€1,700)            | 0              | -       |
| Access to the finance system (€35/mo)  | (only Finance) | 7       |

plus, not counted: a laptop delivered in April 2025, one in May 2026, and a
removal of a laptop ("Remove: New laptop") in the months.
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.core.cache import cache
from wagtail.models import Workflow, WorkflowPage, WorkflowState, WorkflowTask

from catalog.models import (
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceOwnerApprovalTask,
    ServicePage,
    ServiceRequest,
)
from catalog.services.reporting import reporting_rebuild
from tests.factories import DepartmentFactory, UserFactory, service_page

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=LONDON)
REVIEW = "/executive/review/"


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: date) -> datetime:
    return datetime.combine(day, time(11), tzinfo=LONDON)


def order(service, who, day, *, name=None, monthly="0", met=None, rating=None, **kw):
    """One item of ``service`` ordered by ``who`` two days before ``day`` and
    delivered (closed) on it; ``met`` True/False measures it."""
    created = at(day) - timedelta(days=2)
    department = who.profile.department
    request = ServiceRequest.objects.create(
        requested_by=who,
        requested_for=who,
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
        service_name=name or service.title,
        one_off_price=service.one_off_price,
        monthly_price=Decimal(monthly),
        currency="EUR",
        status=ItemStatus.CLOSED,
        created_at=created,
        status_changed_at=at(day),
        fulfilled_at=at(day),
        clock_started_at=created,
        resolution_target_hours=Decimal("16") if met is not None else None,
        resolution_breached_at=at(day) if met is False else None,
        rating=rating,
        **kw,
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
def it_dept(db):
    return DepartmentFactory(name="IT")


@pytest.fixture
def owner(catalog, it_dept):
    """Owns the video kit and the finance system; no reporting rights."""
    user = person("omar", it_dept)
    ServicePage.objects.filter(
        pk__in=[catalog["london_kit"].pk, catalog["finance_system"].pk]
    ).update(service_owner=user)
    return user


@pytest.fixture
def history(catalog, sales, finance, owner):
    seller, accountant = person("sam", sales), person("fay", finance)
    laptop, password = catalog["laptop"], catalog["password"]
    days = [date(2025, 5, 5) + timedelta(days=20 * n) for n in range(12)]
    ratings = [5, 4, 4, 3] + [None] * 8
    for n, day in enumerate(days):
        # Ten measured (the first late), two without a target.
        met = None if n >= 10 else n != 0
        name = "Notebook" if n < 2 else None
        laptop_item = order(laptop, seller, day, name=name, met=met, rating=ratings[n])
    order(laptop, seller, date(2025, 4, 10))  # before the 12 months
    order(laptop, seller, date(2026, 5, 4))  # this month
    order(
        laptop,
        seller,
        date(2026, 2, 1),
        name="Remove: New laptop",
        removes_item=laptop_item,
    )
    for n in range(6):
        order(password, seller, date(2025, 7, 1) + timedelta(days=n), met=True)
    for n in range(3):
        order(password, accountant, date(2025, 8, 1) + timedelta(days=n), met=True)
    kit = catalog["london_kit"]
    order(kit, seller, date(2025, 10, 1), met=True, rating=1)
    order(kit, seller, date(2025, 10, 2), met=False)
    system = catalog["finance_system"]
    # Held from 1 September 2025: September to April, 8 × €35 = €280.
    order(system, accountant, date(2025, 9, 1), monthly="35")
    for n in range(6):
        order(system, accountant, date(2025, 9, 2) + timedelta(days=n))
    reporting_rebuild()
    return catalog


@pytest.fixture
def head_of_sales(sales):
    return person("head", sales, executive=True)


@pytest.fixture
def coo(db):
    return person(
        "coo",
        DepartmentFactory(name="Executive Office"),
        executive=True,
        whole_company=True,
    )


@pytest.fixture
def workflow(catalog_index):
    """The demo's moderation: the service's owner approves catalog changes."""
    flow = Workflow.objects.create(name="Service owner approval")
    task = ServiceOwnerApprovalTask.objects.create(name="Service owner approves")
    WorkflowTask.objects.create(workflow=flow, task=task, sort_order=0)
    WorkflowPage.objects.create(page=catalog_index, workflow=flow)
    return flow


def as_user(client, user):
    client.force_login(user)
    return client


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def rows(html: str, heading_id: str) -> list[tuple]:
    """(service, requested, spend, on time, rating) per entry of a list."""
    part = section(html, heading_id)
    found = []
    if heading_id == "rarely":
        for card in part.split('<article class="card service-card">')[1:]:
            title = re.search(r'service-card__title"><a [^>]*>([^<]+)</a>', card)
            values = re.findall(
                r"<li><span>[^<]+</span><strong>(.*?)</strong></li>", card
            )
            found.append((title.group(1), *(re.sub(r"<[^>]+>", "", v) for v in values)))
    else:
        for row in re.findall(r"<tr>\s*<td><a [^>]*>(.*?)</tr>", part, re.S):
            cells = re.findall(r">([^<>]*)</(?:a|td)>", "<a >" + row)
            found.append(tuple(cell.strip() for cell in cells))
    return found


# --- Who sees what ------------------------------------------------------------------


def test_head_of_sales_sees_sales_figures(client, history, head_of_sales):
    html = as_user(client, head_of_sales).get(REVIEW).content.decode()
    assert "May 2025 to April 2026" in html
    assert "Figures for Sales" in html
    assert rows(html, "rarely") == [
        ("New starter bundle", "0", "€0", "none delivered", "not rated"),
        ("Meeting-room video kit", "2", "€6,400", "50%", "1"),
    ]
    # 12 laptops (2 under the old name) × €1,200; 9 of 10 on time; ratings
    # 5, 4, 4, 3 average 4. The finance system is only for Finance: not here.
    assert rows(html, "busiest") == [
        ("New laptop", "12", "€14,400", "90%", "4"),
        ("Reset a forgotten password", "6", "€0", "100%", "–"),
    ]
    assert "Access to the finance system" not in html


def test_whole_company_sees_every_department(client, history, coo):
    html = as_user(client, coo).get(REVIEW).content.decode()
    assert "Figures for the whole company." in html
    assert rows(html, "rarely") == [
        ("New starter bundle", "0", "€0", "none delivered", "not rated"),
        ("Meeting-room video kit", "2", "€6,400", "50%", "1"),
    ]
    assert rows(html, "busiest") == [
        ("New laptop", "12", "€14,400", "90%", "4"),
        ("Reset a forgotten password", "9", "€0", "100%", "–"),
        ("Access to the finance system", "7", "€280", "–", "–"),
    ]


def test_service_owner_sees_own_services_with_whole_company_figures(
    client, history, owner
):
    html = as_user(client, owner).get(REVIEW).content.decode()
    assert "The services you own, with the whole company's figures." in html
    assert rows(html, "rarely") == [
        ("Meeting-room video kit", "2", "€6,400", "50%", "1"),
    ]
    assert rows(html, "busiest") == [
        ("Access to the finance system", "7", "€280", "–", "–"),
    ]
    assert "New laptop" not in html


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("employee", 403),
        ("owner", 200),
        ("head_of_sales", 200),
        ("coo", 200),
    ],
)
def test_who_may_open_the_review(client, history, request, who, expected):
    user = request.getfixturevalue(who)
    assert as_user(client, user).get(REVIEW).status_code == expected


def test_logged_out_goes_to_log_in(client, catalog):
    response = client.get(REVIEW)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_busiest_are_the_top_ten(client, catalog, sales, coo):
    seller = person("sam", sales)
    for n in range(11):
        busy = service_page(catalog["computers"], f"Busy {n + 1:02d}")
        for k in range(15 - n):
            order(busy, seller, date(2025, 6, 1) + timedelta(days=k))
    reporting_rebuild()
    html = as_user(client, coo).get(REVIEW).content.decode()
    # Busy 01 to Busy 10 (15 down to 6 requests); Busy 11 has 5: neither
    # among the ten nor rarely requested.
    assert [row[0] for row in rows(html, "busiest")] == [
        f"Busy {n:02d}" for n in range(1, 11)
    ]
    assert [row[0] for row in rows(html, "rarely")] == [
        "Access to the finance system",
        "Meeting-room video kit",
        "New laptop",
        "New starter bundle",
        "Reset a forgotten password",
    ]


def test_review_query_budget(
    client, history, coo, sales, django_assert_max_num_queries
):
    as_user(client, coo)
    cache.clear()
    with django_assert_max_num_queries(20) as small:
        assert client.get(REVIEW).status_code == 200
    seller = person("sid", sales)
    for n in range(8):
        extra = service_page(history["computers"], f"Extra {n}")
        order(extra, seller, date(2025, 6, 1), met=True, rating=3)
        order(history["laptop"], seller, date(2025, 6, 2 + n), met=True)
    reporting_rebuild()
    cache.clear()
    with django_assert_max_num_queries(20) as large:
        assert client.get(REVIEW).status_code == 200
    assert len(large.captured_queries) <= len(small.captured_queries)


# --- Suspending --------------------------------------------------------------------


def suspend(client, service_id, reason="Replaced by the room booking kit."):
    return client.post(f"{REVIEW}{service_id}/suspend/", {"reason": reason})


def messages_of(response) -> list[str]:
    """The messages this response added (earlier ones wait unread in the
    session until a page shows them)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


def test_suspending_goes_through_the_owners_approval(
    client, history, head_of_sales, owner, workflow
):
    kit = history["london_kit"]
    events = RequestEvent.objects.count()
    response = suspend(as_user(client, head_of_sales), kit.pk)
    assert response.status_code == 302 and response.url == REVIEW
    assert messages_of(response) == [
        "Suspending Meeting-room video kit is waiting for approval; "
        "it can still be ordered until then."
    ]
    page = ServicePage.objects.get(pk=kit.pk)
    state = WorkflowState.objects.get(object_id=str(kit.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.requested_by == head_of_sales
    # Still live and orderable until approved; the change waits in a revision.
    assert (page.live, page.orderable, page.not_orderable_reason) == (True, True, "")
    draft = page.get_latest_revision_as_object()
    assert (draft.orderable, draft.not_orderable_reason) == (
        False,
        "Replaced by the room booking kit.",
    )
    # The review now says a change is waiting instead of offering the form.
    html = client.get(REVIEW).content.decode()
    assert "A change to this service is waiting for approval." in html

    # The owner approves (as the admin's workflow view would).
    task_state = page.current_workflow_task_state
    actions = [name for name, _, _ in task_state.task.specific.get_actions(page, owner)]
    assert "approve" in actions
    task_state.approve(user=owner)
    page.refresh_from_db()
    assert (page.live, page.orderable, page.not_orderable_reason) == (
        True,
        False,
        "Replaced by the room booking kit.",
    )
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED
    # A catalog change: nothing in the request log.
    assert RequestEvent.objects.count() == events


def test_a_change_already_waiting_is_refused(client, history, head_of_sales, workflow):
    as_user(client, head_of_sales)
    starter = history["starter"]
    assert suspend(client, starter.pk).status_code == 302
    response = suspend(client, starter.pk, reason="Another reason.")
    assert response.status_code == 302
    assert messages_of(response) == [
        "A change to New starter bundle is already waiting for approval. "
        "Ask again once it has been decided."
    ]
    assert WorkflowState.objects.filter(object_id=str(starter.pk)).count() == 1


def test_a_reason_is_required(client, history, head_of_sales, workflow):
    starter = history["starter"]
    revisions = ServicePage.objects.get(pk=starter.pk).revisions.count()
    response = suspend(as_user(client, head_of_sales), starter.pk, reason="   ")
    assert response.status_code == 400
    html = response.content.decode()
    message = "Say why it can&#x27;t be ordered: customers will read this."
    # In the error summary, linked to the field, and under the field.
    assert f'<a href="#id_suspend{starter.pk}_reason">{message}</a>' in html
    assert f'<p class="field__error" id="id_suspend{starter.pk}_reason_error">' in html
    assert not WorkflowState.objects.exists()
    assert ServicePage.objects.get(pk=starter.pk).revisions.count() == revisions


@pytest.mark.parametrize(
    ("who", "service", "expected"),
    [
        ("employee", "starter", 403),
        ("owner", "laptop", 403),  # not theirs
        ("head_of_sales", "finance_system", 403),  # only for Finance
        ("head_of_sales", 999999, 404),
        ("head_of_sales", 10**30, 404),
        ("employee", 999999, 403),
    ],
)
def test_refusals(client, history, workflow, request, who, service, expected):
    user = request.getfixturevalue(who)
    service_id = history[service].pk if isinstance(service, str) else service
    assert suspend(as_user(client, user), service_id).status_code == expected
    assert not WorkflowState.objects.exists()


def test_suspend_only_by_post(client, history, head_of_sales):
    url = f"{REVIEW}{history['starter'].pk}/suspend/"
    assert as_user(client, head_of_sales).get(url).status_code == 405


def test_without_a_workflow_only_a_publisher_suspends(client, history, head_of_sales):
    # Wagtail's own default workflow sits on the root page: take it away too.
    WorkflowPage.objects.all().delete()
    starter = history["starter"]
    response = suspend(as_user(client, head_of_sales), starter.pk)
    assert response.status_code == 302
    assert messages_of(response) == [
        "New starter bundle has no approval workflow, and you may not publish it "
        "yourself. Ask its owner or a catalog editor to suspend it."
    ]
    assert ServicePage.objects.get(pk=starter.pk).orderable

    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    response = suspend(as_user(client, admin), starter.pk, reason="No new starters.")
    assert messages_of(response) == ["New starter bundle can no longer be ordered."]
    page = ServicePage.objects.get(pk=starter.pk)
    assert (page.live, page.orderable, page.not_orderable_reason) == (
        True,
        False,
        "No new starters.",
    )


def test_a_suspended_service_is_not_suspended_again(
    client, history, head_of_sales, workflow
):
    starter = history["starter"]
    ServicePage.objects.filter(pk=starter.pk).update(
        orderable=False, not_orderable_reason="Paused."
    )
    html = as_user(client, head_of_sales).get(REVIEW).content.decode()
    assert "Can't be ordered now" in html
    response = suspend(client, starter.pk)
    assert messages_of(response) == [
        "Ordering New starter bundle is suspended already."
    ]
    assert not WorkflowState.objects.exists()
