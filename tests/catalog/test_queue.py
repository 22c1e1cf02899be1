"""The fulfilment queue in the admin: who sees which items, each filter and sort
on a small hand-made queue, time left at a frozen moment, bulk assignment, the
item work page and its actions, and query budgets."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import (
    FulfilmentGroup,
    HoldReason,
    ItemStatus,
    RequestEvent,
    RequestItem,
)
from catalog.selectors.queue import fulfilment_queue, time_left
from tests.conftest import order
from tests.factories import ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

# Wednesday 15 January 2025, 12:00 in London (GMT, so also 12:00 UTC).
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
QUEUE = "/queue/"


# --- People and a hand-made queue -----------------------------------------------------


@pytest.fixture
def hardware(db):
    return FulfilmentGroup.objects.create(name="Hardware")


@pytest.fixture
def access(db):
    return FulfilmentGroup.objects.create(name="Access")


def fulfiller_in(username, *teams, first="Pat", last=""):
    person = UserFactory(
        username=username,
        first_name=first,
        last_name=last or username.title(),
        groups=[Group.objects.get(name="Fulfiller")],
    )
    for team in teams:
        team.members.add(person)
    return person


@pytest.fixture
def fixer(hardware):
    return fulfiller_in("fixer", hardware, first="Femi", last="Fixer")


@pytest.fixture
def colleague(hardware):
    return fulfiller_in("colleague", hardware, first="Cara", last="Colleague")


@pytest.fixture
def access_fixer(access):
    return fulfiller_in("gatekeeper", access, first="Gil", last="Gate")


def make_item(requester, service_name, *, team, status, created, **figures):
    """An item as the clock would have left it; the queue only reads what is
    stored, so these tests set the stored figures by hand."""
    service_request = ServiceRequestFactory(
        requested_by=requester, submitted_at=created
    )
    return RequestItem.objects.create(
        request=service_request,
        line_number=1,
        service_name=service_name,
        one_off_price=Decimal("0"),
        monthly_price=Decimal("0"),
        currency="EUR",
        fulfilment_group=team,
        fulfilment_group_name=team.name if team else "",
        status=status,
        created_at=created,
        status_changed_at=created,
        **figures,
    )


TARGETS = {
    "response_target_hours": Decimal("4"),
    "resolution_target_hours": Decimal("16"),
    "internal_response_target_hours": Decimal("2"),
    "internal_resolution_target_hours": Decimal("12"),
}


@pytest.fixture
def queue(employee, hardware, access, fixer, colleague):
    """Six items fixer may see (five of Hardware, one of no team), one of
    Access they may not, and a delivered one that has left the queue."""
    items = {
        "laptop": make_item(
            employee,
            "New laptop",
            team=hardware,
            status=ItemStatus.SUBMITTED,
            created=NOW - 2 * HOUR,
            internal_resolution_due_at=NOW + timedelta(hours=3, minutes=20),
            internal_at_risk_from=NOW + HOUR,
            resolution_due_at=NOW + 4 * HOUR,
            **TARGETS,
        ),
        "password": make_item(
            employee,
            "Reset a forgotten password",
            team=hardware,
            status=ItemStatus.IN_PROGRESS,
            created=NOW - 2 * DAY,
            assigned_to=fixer,
            internal_resolution_due_at=NOW - 2 * HOUR,
            internal_at_risk_from=NOW - 4 * HOUR,
            resolution_due_at=NOW + 5 * HOUR,
            **TARGETS,
        ),
        "vpn": make_item(
            employee,
            "VPN access",
            team=hardware,
            status=ItemStatus.ON_HOLD,
            created=NOW - 5 * DAY,
            assigned_to=colleague,
            paused_since=NOW - DAY,
            response_breached_at=NOW - 3 * DAY,
            **TARGETS,
        ),
        "monitor": make_item(
            employee,
            "Second monitor",
            team=hardware,
            status=ItemStatus.APPROVED,
            created=NOW - 10 * DAY,
            internal_resolution_due_at=NOW + 2 * DAY,
            internal_at_risk_from=NOW - HOUR,
            resolution_due_at=NOW + 3 * DAY,
            **TARGETS,
        ),
        "folder": make_item(
            employee,
            "Access to a shared folder",
            team=hardware,
            status=ItemStatus.IN_PROGRESS,
            created=NOW - timedelta(minutes=30),
            assigned_to=fixer,
        ),
        "toner": make_item(
            employee,
            "Printer toner",
            team=None,
            status=ItemStatus.SUBMITTED,
            created=NOW - DAY - HOUR,
            internal_resolution_due_at=NOW + 10 * DAY,
            resolution_due_at=NOW + 12 * DAY,
            **TARGETS,
        ),
        "badge": make_item(
            employee,
            "Building badge",
            team=access,
            status=ItemStatus.SUBMITTED,
            created=NOW - HOUR,
        ),
        "delivered": make_item(
            employee,
            "Headset",
            team=hardware,
            status=ItemStatus.FULFILLED,
            created=NOW - 3 * DAY,
        ),
    }
    return items


def names(page) -> list[str]:
    return [row.item.service_name for row in page["rows"]]


def queue_for(user, **params):
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    with time_machine.travel(NOW, tick=False):
        return fulfilment_queue(user=user, params=query)


# --- Who sees what --------------------------------------------------------------------


def test_a_fulfiller_sees_their_teams_items_and_items_of_no_team(queue, fixer):
    assert names(queue_for(fixer)) == [
        "Reset a forgotten password",
        "New laptop",
        "Second monitor",
        "Printer toner",
        "VPN access",
        "Access to a shared folder",
    ]


def test_another_teams_fulfiller_sees_only_theirs(queue, access_fixer):
    assert names(queue_for(access_fixer)) == ["Printer toner", "Building badge"]


def test_a_superuser_sees_every_team(queue):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert sorted(names(queue_for(admin))) == [
        "Access to a shared folder",
        "Building badge",
        "New laptop",
        "Printer toner",
        "Reset a forgotten password",
        "Second monitor",
        "VPN access",
    ]


def test_employees_get_no_access_to_the_queue(client, queue, employee):
    client.force_login(employee)
    assert client.get(QUEUE).status_code == 403
    assert client.get(f"/queue/items/{queue['laptop'].pk}/").status_code == 403


def test_admin_users_without_the_permission_are_turned_away(client, queue):
    editor = UserFactory(
        username="ed", groups=[Group.objects.get(name="Catalog editor")]
    )
    client.force_login(editor)
    assert client.get(QUEUE).status_code == 403
    assert client.get(f"/queue/items/{queue['laptop'].pk}/").status_code == 403


def test_the_queue_old_admin_address_leads_to_it(client, queue, fixer):
    client.force_login(fixer)
    response = client.get("/admin/queue/?status=submitted")
    assert (response.status_code, response.url) == (301, "/queue/?status=submitted")
    response = client.get(f"/admin/queue/items/{queue['laptop'].pk}/")
    assert (response.status_code, response.url) == (
        301,
        f"/queue/items/{queue['laptop'].pk}/",
    )


def test_the_header_links_the_queue_for_fulfillers_only(client, queue, fixer, employee):
    client.force_login(fixer)
    assert '<a href="/queue/">Queue</a>' in client.get("/requests/").content.decode()
    client.force_login(employee)
    assert 'href="/queue/"' not in client.get("/requests/").content.decode()


def test_the_queue_shows_in_the_menu_for_fulfillers_only(client, queue, fixer):
    client.force_login(fixer)
    assert "Fulfilment queue" in client.get("/admin/").content.decode()
    editor = UserFactory(
        username="ed", groups=[Group.objects.get(name="Catalog editor")]
    )
    client.force_login(editor)
    assert "Fulfilment queue" not in client.get("/admin/").content.decode()


# --- Filters and sorts ----------------------------------------------------------------

FILTERS = [
    (
        {"status": ["in_progress", "on_hold"]},
        ["Reset a forgotten password", "VPN access", "Access to a shared folder"],
    ),
    ({"status": ["submitted"]}, ["New laptop", "Printer toner"]),
    ({"service": "PASS"}, ["Reset a forgotten password"]),
    ({"assignee": "me"}, ["Reset a forgotten password", "Access to a shared folder"]),
    ({"assignee": "none"}, ["New laptop", "Second monitor", "Printer toner"]),
    ({"due": "overdue"}, ["Reset a forgotten password"]),
    ({"due": "today"}, ["New laptop"]),
    ({"due": "week"}, ["New laptop", "Second monitor"]),
    ({"at_risk": "on"}, ["Second monitor"]),
    ({"breached": "on"}, ["Reset a forgotten password", "VPN access"]),
    ({"age": "day"}, ["New laptop", "Access to a shared folder"]),
    ({"age": "1-3"}, ["Reset a forgotten password", "Printer toner"]),
    ({"age": "3-7"}, ["VPN access"]),
    ({"age": "week"}, ["Second monitor"]),
    (
        {"assignee": "me", "status": ["in_progress"], "due": "overdue"},
        ["Reset a forgotten password"],
    ),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_each_filter(queue, fixer, params, expected):
    assert names(queue_for(fixer, **params)) == expected


def test_team_filter_offers_only_my_teams(queue, fixer, hardware, access):
    assert names(queue_for(fixer, group=str(hardware.pk))) == [
        "Reset a forgotten password",
        "New laptop",
        "Second monitor",
        "VPN access",
        "Access to a shared folder",
    ]
    page = queue_for(fixer, group=str(access.pk))
    assert "Building badge" not in names(page)
    assert "group" in page["filter"].form.errors
    choices = [label for _, label in page["filter"].form.fields["group"].choices]
    assert choices == ["All my teams", "Hardware"]


def test_assignee_filter_finds_a_colleagues_items(queue, fixer, colleague):
    assert names(queue_for(fixer, assignee=str(colleague.pk))) == ["VPN access"]


SORTS = [
    (
        "internal_due",
        [
            "Reset a forgotten password",
            "New laptop",
            "Second monitor",
            "Printer toner",
            "VPN access",
            "Access to a shared folder",
        ],
    ),
    (
        "customer_due",
        [
            "New laptop",
            "Reset a forgotten password",
            "Second monitor",
            "Printer toner",
            "VPN access",
            "Access to a shared folder",
        ],
    ),
    (
        "age",
        [
            "Second monitor",
            "VPN access",
            "Reset a forgotten password",
            "Printer toner",
            "New laptop",
            "Access to a shared folder",
        ],
    ),
    (
        "service",
        [
            "Access to a shared folder",
            "New laptop",
            "Printer toner",
            "Reset a forgotten password",
            "Second monitor",
            "VPN access",
        ],
    ),
]


@pytest.mark.parametrize(("sort", "expected"), SORTS)
def test_each_sort(queue, fixer, sort, expected):
    assert names(queue_for(fixer, sort=sort)) == expected


@pytest.mark.parametrize(("sort", "expected"), SORTS)
def test_each_sort_across_pages(queue, fixer, monkeypatch, sort, expected):
    # Four to a page: the page's keys are read in the sort order, then its rows.
    monkeypatch.setattr("catalog.selectors.queue.ITEMS_PER_PAGE", 4)
    first = queue_for(fixer, sort=sort)
    second = queue_for(fixer, sort=sort, page="2")
    assert names(first) == expected[:4]
    assert names(second) == expected[4:]
    assert second["page_obj"].paginator.count == 6


def test_an_unknown_sort_falls_back_to_internal_due(queue, fixer):
    assert names(queue_for(fixer, sort="'; drop table")) == SORTS[0][1]


# --- Time left ------------------------------------------------------------------------

TIME_LEFT = [
    (timedelta(hours=3, minutes=20), "3 h 20 min left"),
    (timedelta(hours=3, minutes=20, seconds=59), "3 h 20 min left"),
    (timedelta(hours=2), "2 h left"),
    (timedelta(minutes=45), "45 min left"),
    (timedelta(seconds=30), "less than a minute left"),
    (timedelta(0), "less than a minute left"),
    (timedelta(days=1, hours=2, minutes=5), "1 d 2 h left"),
    (timedelta(days=3), "3 d left"),
    (-timedelta(hours=2), "overdue by 2 h"),
    (-timedelta(minutes=90), "overdue by 1 h 30 min"),
    (-timedelta(days=2, hours=1), "overdue by 2 d 1 h"),
]


@pytest.mark.parametrize(("delta", "expected"), TIME_LEFT)
def test_time_left_in_words(delta, expected):
    assert time_left(NOW + delta, NOW) == expected


def test_time_left_without_a_due_time():
    assert time_left(None, NOW) == "—"
    assert time_left(None, NOW, paused=True) == "paused"


def test_rows_show_time_left_on_both_clocks(queue, fixer):
    rows = {
        row.item.service_name: (row.internal_left, row.customer_left)
        for row in queue_for(fixer)["rows"]
    }
    assert rows == {
        "New laptop": ("3 h 20 min left", "4 h left"),
        "Reset a forgotten password": ("overdue by 2 h", "5 h left"),
        "VPN access": ("paused", "paused"),
        "Second monitor": ("2 d left", "3 d left"),
        "Access to a shared folder": ("—", "—"),
        "Printer toner": ("10 d left", "12 d left"),
    }


def test_the_queue_page_shows_rows_badges_and_times(client, queue, fixer):
    client.force_login(fixer)
    with time_machine.travel(NOW, tick=False):
        response = client.get(QUEUE)
    assert response.status_code == 200
    html = response.content.decode()
    password = queue["password"]
    assert f'href="/queue/items/{password.pk}/"' in html
    assert password.number in html
    assert "overdue by 2 h" in html
    assert "3 h 20 min left" in html
    assert html.count("queue-badge queue-badge--breached") == 2  # password, vpn
    assert html.count("queue-badge queue-badge--risk") == 1  # monitor
    assert "Building badge" not in html
    assert "Headset" not in html
    assert 'name="items"' in html
    assert '<option value="me">Me</option>' in html
    assert "Cara Colleague" in html


def test_bad_filter_values_show_the_form_not_an_error(client, queue, fixer):
    client.force_login(fixer)
    response = client.get(
        QUEUE, {"status": "nonsense", "due": "x", "age": "y", "page": "9999"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("cap", "page", "count_text", "rows", "pages"),
    [
        # Six items in the fixer's queue: under the cap, counted in full.
        (10, 1, "6 items", 3, 2),
        (6, 2, "6 items", 3, 2),
        # Past the cap: counted no further, and listed up to the cap only.
        (4, 1, "More than 4 items", 3, 2),
        (4, 2, "More than 4 items", 1, 2),
    ],
)
def test_a_large_queue_is_counted_and_listed_up_to_the_cap(
    client, queue, fixer, monkeypatch, cap, page, count_text, rows, pages
):
    monkeypatch.setattr("catalog.selectors.queue.QUEUE_LISTED_AT_MOST", cap)
    monkeypatch.setattr("catalog.selectors.queue.ITEMS_PER_PAGE", 3)
    client.force_login(fixer)
    with time_machine.travel(NOW, tick=False):
        response = client.get(QUEUE, {"page": page})
    html = " ".join(response.content.decode().split())
    count = html.split('id="queue-count">')[1].split(" · ")[0]
    assert count.startswith(count_text)
    assert len(response.context["rows"]) == rows
    assert f"Page {page} of {pages}" in html


# --- Bulk assignment ------------------------------------------------------------------


def test_bulk_assign_to_a_colleague(client, queue, fixer, colleague):
    client.force_login(fixer)
    laptop, monitor = queue["laptop"], queue["monitor"]
    response = client.post(
        "/queue/assign/",
        {
            "items": [laptop.pk, monitor.pk],
            "assignee": colleague.pk,
            "return_query": "status=submitted",
        },
    )
    assert response.status_code == 302
    assert response.url == "/queue/?status=submitted"
    laptop.refresh_from_db()
    monitor.refresh_from_db()
    assert (laptop.assigned_to, monitor.assigned_to) == (colleague, colleague)
    events = RequestEvent.objects.filter(name="item.assigned").order_by("item_id")
    assert [(e.item_id, e.data["assignee_name"]) for e in events] == [
        (laptop.pk, "Cara Colleague"),
        (monitor.pk, "Cara Colleague"),
    ]
    page = client.get(response.url).content.decode()
    assert "2 items assigned." in page


def test_bulk_assign_to_me(client, queue, fixer):
    client.force_login(fixer)
    toner = queue["toner"]
    client.post("/queue/assign/", {"items": [toner.pk], "assignee": "me"})
    toner.refresh_from_db()
    assert toner.assigned_to == fixer


def test_bulk_assign_fails_whole_if_one_item_is_another_teams(
    client, queue, fixer, colleague
):
    client.force_login(fixer)
    laptop, badge = queue["laptop"], queue["badge"]
    response = client.post(
        "/queue/assign/",
        {"items": [laptop.pk, badge.pk], "assignee": colleague.pk},
        follow=True,
    )
    laptop.refresh_from_db()
    badge.refresh_from_db()
    assert (laptop.assigned_to, badge.assigned_to) == (None, None)
    assert not RequestEvent.objects.filter(name="item.assigned").exists()
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        f"Nothing was assigned: {badge.number} is for Access, which Cara Colleague "
        "is not in."
    ]


def test_bulk_assign_with_nothing_ticked_says_so(client, queue, fixer):
    client.force_login(fixer)
    response = client.post("/queue/assign/", {"assignee": "me"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Tick the items to assign."
    ]


def test_bulk_assign_ignores_a_foreign_return_address(client, queue, fixer):
    client.force_login(fixer)
    response = client.post(
        "/queue/assign/",
        {
            "items": [queue["laptop"].pk],
            "assignee": "me",
            "return_query": "x=1\r\nLocation: https://evil.example",
        },
    )
    assert response.status_code == 302
    assert response.url.startswith("/queue/?")
    assert "evil" not in response.url.split("?")[0]


# --- Query budgets --------------------------------------------------------------------


def queries_for_queue(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(QUEUE)
    assert response.status_code == 200
    return len(captured)


# The session (with the person and their permissions), the header's figures, and
# the page's own: the memberships of the person's teams (teams and colleagues at
# once), count, items.
QUEUE_BUDGET = 5
# The session (with the person and their permissions), the header's figures, the
# item, the person's teams (may they work on it?), the team's members, its log,
# and the hold reasons.
ITEM_PAGE_BUDGET = 7


def test_queue_queries_do_not_grow_with_items(
    client, employee, hardware, fixer, django_assert_max_num_queries
):
    client.force_login(fixer)
    for n in range(5):
        make_item(
            employee,
            f"Service {n}",
            team=hardware,
            status=ItemStatus.IN_PROGRESS,
            created=NOW,
            assigned_to=fixer,
        )
    client.get(QUEUE)  # warm the session and permission caches
    five = queries_for_queue(client)
    for n in range(20):
        make_item(
            employee,
            f"More {n}",
            team=hardware,
            status=ItemStatus.SUBMITTED,
            created=NOW,
        )
    with django_assert_max_num_queries(QUEUE_BUDGET):
        twenty_five = queries_for_queue(client)
    assert twenty_five == five


# --- The item work page ---------------------------------------------------------------


@pytest.fixture
def ordered(employee, catalog):
    """Reset a forgotten password: no approval, no team, no service level."""
    return order(employee, catalog, "password").items.get()


def item_url(item, action=""):
    return f"/queue/items/{item.pk}/" + (f"{action}/" if action else "")


def act(client, item, action, **data):
    fields = {f"{action}-{name}": value for name, value in data.items()}
    return client.post(item_url(item, action), fields)


def test_the_item_page_shows_who_why_and_the_whole_timeline(client, ordered, fixer):
    client.force_login(fixer)
    response = client.get(item_url(ordered))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        ordered.request.number,
        "Reset a forgotten password",
        "Needed for work.",
        str(ordered.request.cost_centre),
        "submitted the request",
        "Start work",
        "Assign to me",
        "Add work note",
        "Send comment",
        "Cancel the item",
    ]:
        assert text in html
    # Only what the status allows: nothing to resume or resolve yet.
    assert "Resume" not in html
    assert ">Resolve<" not in html


def test_start_hold_resume_resolve_through_the_page(client, ordered, fixer):
    client.force_login(fixer)
    reason = HoldReason.objects.get(name="Waiting for the requester")

    response = act(client, ordered, "start", expected_status="submitted")
    assert (response.status_code, response.url) == (302, item_url(ordered))
    ordered.refresh_from_db()
    assert (ordered.status, ordered.assigned_to) == ("in_progress", fixer)

    act(
        client,
        ordered,
        "hold",
        expected_status="in_progress",
        reason=reason.pk,
        note="Which account is it?",
    )
    ordered.refresh_from_db()
    assert (ordered.status, ordered.hold_reason) == ("on_hold", reason)
    assert "Resume" in client.get(item_url(ordered)).content.decode()

    act(client, ordered, "resume", expected_status="on_hold", note="")
    ordered.refresh_from_db()
    assert ordered.status == "in_progress"

    act(client, ordered, "resolve", expected_status="in_progress", note="Reset it.")
    ordered.refresh_from_db()
    assert ordered.status == "fulfilled"
    moves = list(
        RequestEvent.objects.filter(item=ordered, name="item.status_changed")
        .order_by("sequence")
        .values_list("from_state", "to_state", "note")
    )
    assert moves == [
        ("submitted", "in_progress", ""),
        ("in_progress", "on_hold", "Which account is it?"),
        ("on_hold", "in_progress", ""),
        ("in_progress", "fulfilled", "Reset it."),
    ]


def test_a_stale_page_changes_nothing_and_says_why(client, ordered, fixer):
    client.force_login(fixer)
    client.post(item_url(ordered, "start"), {"start-expected_status": "submitted"})
    client.get(item_url(ordered))  # shows (and so clears) the "started" message
    events_before = RequestEvent.objects.count()
    # The page still showed "Submitted" when the cancellation was sent.
    response = client.post(
        item_url(ordered, "cancel"),
        {"cancel-expected_status": "submitted", "cancel-note": "Duplicate"},
        follow=True,
    )
    ordered.refresh_from_db()
    assert ordered.status == "in_progress"
    assert RequestEvent.objects.count() == events_before
    assert [str(m) for m in response.context["messages"]] == [
        f"{ordered.number} changed while you were looking at it: it is now “Being "
        "worked on”. Nothing was changed; have a look and try again."
    ]


def test_a_move_the_status_does_not_allow_is_refused_with_a_message(
    client, ordered, fixer
):
    client.force_login(fixer)
    response = client.post(
        item_url(ordered, "resume"),
        {"resume-expected_status": "submitted"},
        follow=True,
    )
    ordered.refresh_from_db()
    assert ordered.status == "submitted"
    assert [str(m) for m in response.context["messages"]] == [
        f"{ordered.number} is not on hold."
    ]


def test_hold_without_a_note_when_the_requester_must_act(client, ordered, fixer):
    client.force_login(fixer)
    act(client, ordered, "start", expected_status="submitted")
    reason = HoldReason.objects.get(name="Waiting for the requester")
    response = act(
        client, ordered, "hold", expected_status="in_progress", reason=reason.pk
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'href="#id_hold-note"' in html
    assert "Tell the requester what you need from them." in html
    assert response.context["forms"]["hold"].errors == {
        "note": ["Tell the requester what you need from them."]
    }
    ordered.refresh_from_db()
    assert ordered.status == "in_progress"


def test_hold_without_a_reason(client, ordered, fixer):
    client.force_login(fixer)
    act(client, ordered, "start", expected_status="submitted")
    response = act(client, ordered, "hold", expected_status="in_progress", reason="")
    assert response.status_code == 400
    assert response.context["forms"]["hold"].errors == {
        "reason": ["Choose why the item is on hold."]
    }


def test_resolve_needs_a_note(client, ordered, fixer):
    client.force_login(fixer)
    act(client, ordered, "start", expected_status="submitted")
    response = act(client, ordered, "resolve", expected_status="in_progress")
    assert response.status_code == 400
    assert response.context["forms"]["resolve"].errors == {
        "note": ["Say what was done, so the requester knows what they got."]
    }
    ordered.refresh_from_db()
    assert ordered.status == "in_progress"


def test_cancel_with_a_note(client, ordered, fixer):
    client.force_login(fixer)
    act(client, ordered, "cancel", expected_status="submitted", note="Duplicate.")
    ordered.refresh_from_db()
    assert ordered.status == "cancelled"
    event = RequestEvent.objects.filter(item=ordered).latest("sequence")
    assert (event.to_state, event.note) == ("cancelled", "Duplicate.")


def test_assign_to_a_colleague_and_to_me(client, ordered, fixer, colleague):
    client.force_login(fixer)
    act(client, ordered, "assign", expected_status="submitted", assignee=colleague.pk)
    ordered.refresh_from_db()
    assert ordered.assigned_to == colleague
    client.post(
        item_url(ordered, "assign"),
        {"assign-expected_status": "submitted", "assign-to-me": "1"},
    )
    ordered.refresh_from_db()
    assert ordered.assigned_to == fixer


def test_work_note_is_internal_and_comment_is_public(client, ordered, fixer, employee):
    client.force_login(fixer)
    act(client, ordered, "work-note", text="Checked the directory: locked 3 times.")
    act(client, ordered, "comment", text="We are on it.")
    assert list(
        RequestEvent.objects.filter(item=ordered)
        .order_by("sequence")
        .values_list("name", "note")
    )[-2:] == [
        ("item.work_note", "Checked the directory: locked 3 times."),
        ("item.commented", "We are on it."),
    ]
    page = client.get(item_url(ordered)).content.decode()
    assert "Checked the directory: locked 3 times." in page
    assert "Internal" in page

    client.force_login(employee)
    mine = client.get(f"/requests/{ordered.request_id}/").content.decode()
    assert "Checked the directory" not in mine
    assert "We are on it." in mine


def test_an_empty_work_note_shows_the_field_error(client, ordered, fixer):
    client.force_login(fixer)
    response = act(client, ordered, "work-note", text="  ")
    assert response.status_code == 400
    assert 'href="#id_work-note-text"' in response.content.decode()
    assert not RequestEvent.objects.filter(name="item.work_note").exists()


def test_another_teams_item_looks_like_it_does_not_exist(
    client, ordered, fixer, access
):
    RequestItem.objects.filter(pk=ordered.pk).update(fulfilment_group=access)
    client.force_login(fixer)
    assert client.get(item_url(ordered)).status_code == 404
    response = act(client, ordered, "start", expected_status="submitted")
    assert response.status_code == 404
    ordered.refresh_from_db()
    assert ordered.status == "submitted"


def test_unknown_actions_and_gets_are_refused(client, ordered, fixer):
    client.force_login(fixer)
    assert client.post(item_url(ordered, "explode")).status_code == 404
    assert client.get(item_url(ordered, "start")).status_code == 405
    assert client.get("/queue/items/999999/").status_code == 404


def test_item_page_queries_do_not_grow_with_the_log(
    client, ordered, fixer, django_assert_max_num_queries
):
    client.force_login(fixer)
    client.get(item_url(ordered))

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(item_url(ordered)).status_code == 200
        return len(captured)

    act(client, ordered, "work-note", text="one")
    few = count()
    for n in range(10):
        act(client, ordered, "work-note", text=f"note {n}")
    with django_assert_max_num_queries(ITEM_PAGE_BUDGET):
        assert count() == few


def test_an_action_without_the_status_seen_asks_to_reload(client, ordered, fixer):
    client.force_login(fixer)
    response = client.post(item_url(ordered, "start"), {})
    assert response.status_code == 400
    assert "Reload the page and try again." in response.content.decode()
    ordered.refresh_from_db()
    assert ordered.status == "submitted"


def test_assigning_outside_the_team_is_refused_at_the_field(
    client, ordered, fixer, access_fixer
):
    client.force_login(fixer)
    response = act(
        client, ordered, "assign", expected_status="submitted", assignee=access_fixer.pk
    )
    assert response.status_code == 400
    assert response.context["forms"]["assign"].errors == {
        "assignee": ["Choose someone from the team's list."]
    }
    assert 'href="#id_assign-assignee"' in response.content.decode()
    ordered.refresh_from_db()
    assert ordered.assigned_to is None


def test_the_item_page_explains_targets_and_time_left(
    client, catalog, standard_level, employee, fixer
):
    from tests.factories import service_page

    catalog["keyboard"] = service_page(
        catalog["access"], "Replace a keyboard", service_level=standard_level
    )
    # Ordered on Monday 13 January 2025 at 09:00 in London (Office hours:
    # Monday to Friday 08:00-18:00): customer due Tuesday 15:00 (16 working
    # hours), internal due Tuesday 11:00 (12 working hours).
    with time_machine.travel(datetime(2025, 1, 13, 9, 0, tzinfo=UTC), tick=False):
        item = order(employee, catalog, "keyboard").items.get()
    client.force_login(fixer)
    with time_machine.travel(datetime(2025, 1, 13, 10, 0, tzinfo=UTC), tick=False):
        response = client.get(item_url(item))
    html = response.content.decode()
    assert "SLA</strong> = what we promise the customer" in html
    assert "OLA</strong> = our internal target" in html
    assert "“Office hours”" in html
    work = response.context["work"]
    assert response.context["targets"] == {
        "response": "4 h",
        "resolution": "16 h",
        "internal_response": "2 h",
        "internal_resolution": "12 h",
    }
    assert (work.customer_left, work.internal_left) == ("1 d 5 h left", "1 d 1 h left")
    assert "Tue 14 Jan, 15:00" in html
    assert "Tue 14 Jan, 11:00" in html


def queue_filters_html(client) -> str:
    html = client.get("/queue/").content.decode()
    return html[html.index('class="queue-filters"') : html.index("Show items")]


def test_the_unbound_filter_form_is_cached_per_set_of_choices(
    client, queue, fixer, colleague, access_fixer
):
    client.force_login(fixer)
    first = queue_filters_html(client)
    assert first == queue_filters_html(client)  # from the cache, the same
    assert "Hardware" in first and "Cara Colleague" in first
    # Another team's fulfiller never gets the first one's choices.
    client.force_login(access_fixer)
    theirs = queue_filters_html(client)
    assert "Access" in theirs
    assert "Hardware" not in theirs and "Cara Colleague" not in theirs
    # A new colleague shows at once: the choices are the key.
    fulfiller_in("newcomer", FulfilmentGroup.objects.get(name="Access"), first="Nia")
    assert "Nia Newcomer" in queue_filters_html(client)


def test_a_filtered_form_keeps_the_persons_values(client, queue, fixer):
    client.force_login(fixer)
    queue_filters_html(client)
    html = client.get("/queue/?service=laptop").content.decode()
    assert 'value="laptop"' in html
