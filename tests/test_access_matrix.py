"""Who gets what, written out by hand: every role against every URL the project
serves or adds to the admin, with the status each should get for GET and (where
the URL takes it) POST.

A URL added without a row here fails ``test_every_project_url_has_a_row``. The
statuses say what the product should do: anonymous people go to the login page,
employees get 403 on the executive pages, other people's things are 404 so their
existence is not revealed, and the admin is for the roles that work in it.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from wagtail.documents.models import Document

from catalog.models import ApprovalDelegation, ApprovalStep, UserProfile
from catalog.services.basket import basket_line_add
from tests.conftest import LAPTOP_ANSWERS, order
from tests.factories import FulfilmentGroupFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "employee",
    "manager",
    "executive",
    "fulfiller",
    "editor",
    "admin",
)
OK, INVALID, DENIED, HIDDEN, WRONG_METHOD = 200, 400, 403, 404, 405
LOGIN = "login"  # 302 to the portal's login page
ADMIN_LOGIN = "admin login"  # 302 to the admin's login page: no admin access
REFUSED = "refused"  # 302 to the admin's dashboard with "no permission": Wagtail's 403
MOVED_ON = "302"  # the view's own redirect: done, or see the answer there
MOVED_PERMANENTLY = 301  # an old address


@dataclass(frozen=True)
class Row:
    """``get`` and ``post`` give the status for each of ``ROLES`` in order;
    ``post`` is None where the URL takes no POST."""

    name: str
    path: str
    get: tuple
    post: tuple | None = None


def portal(employee, manager, executive, fulfiller, editor, admin):
    """Anonymous people always go to the login page first."""
    return (LOGIN, employee, manager, executive, fulfiller, editor, admin)


def admin(fulfiller, editor, admin_):
    """Anonymous people, employees, managers and executives have no admin
    access and go to the admin's login page."""
    return (ADMIN_LOGIN,) * 4 + (fulfiller, editor, admin_)


def everyone(status):
    return portal(*(status,) * 6)


READ_ONLY_REFUSED = admin(REFUSED, REFUSED, REFUSED)

ROWS = [
    # --- Signing in and out ---------------------------------------------------
    Row("login", "/accounts/login/", get=(OK,) * 7, post=(OK,) * 7),
    Row(
        "logout",
        "/accounts/logout/",
        # A page with the "Log out" button: a GET never logs anyone out.
        get=everyone(OK),
        post=(LOGIN,) * 7,
    ),
    # --- Documents: behind the login wall -------------------------------------
    Row(
        "wagtaildocs_serve",
        "/documents/{document}/{document_file}",
        get=everyone(OK),
    ),
    Row(
        "wagtaildocs_authenticate_with_password",
        "/documents/authenticate_with_password/{no_such_id}/",
        get=everyone(HIDDEN),
        post=everyone(HIDDEN),
    ),
    # --- Pages ----------------------------------------------------------------
    Row("wagtail_serve", "/", get=everyone(OK), post=everyone(OK)),
    Row("wagtail_serve", "/services/", get=everyone(OK)),
    Row("wagtail_serve", "/services/computers/", get=everyone(OK)),
    Row("wagtail_serve", "/services/computers/new-laptop/", get=everyone(OK)),
    # Only for the finance department: hidden from everyone here, admins too.
    Row(
        "wagtail_serve",
        "/services/access/access-to-the-finance-system/",
        get=everyone(HIDDEN),
    ),
    Row("wagtailcore_login", "/_util/login/", get=(OK,) * 7, post=(OK,) * 7),
    Row(
        "wagtailcore_authenticate_with_password",
        "/_util/authenticate_with_password/{no_such_id}/{no_such_id}/",
        get=everyone(HIDDEN),
        post=everyone(HIDDEN),
    ),
    # --- Basket and checkout: the line is the employee's ----------------------
    Row("catalog:basket", "/basket/", get=everyone(OK), post=everyone(OK)),
    Row(
        "catalog:basket_add",
        "/basket/add/{password}/",
        get=everyone(WRONG_METHOD),
        post=everyone(MOVED_ON),
    ),
    Row(
        "catalog:basket_line_edit",
        "/basket/lines/{line}/edit/",
        get=portal(OK, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        post=portal(INVALID, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    ),
    Row(
        "catalog:basket_line_remove",
        "/basket/lines/{line}/remove/",
        get=everyone(WRONG_METHOD),
        post=portal(MOVED_ON, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    ),
    # With an empty basket, checkout sends people back to the basket.
    Row(
        "catalog:checkout",
        "/checkout/",
        get=portal(OK, MOVED_ON, MOVED_ON, MOVED_ON, MOVED_ON, MOVED_ON),
        post=portal(INVALID, MOVED_ON, MOVED_ON, MOVED_ON, MOVED_ON, MOVED_ON),
    ),
    # --- Requests: somebody else's, waiting for the manager's approval --------
    Row("catalog:request_list", "/requests/", get=everyone(OK), post=everyone(OK)),
    Row(
        "catalog:request_detail",
        "/requests/{others_request}/",
        get=portal(HIDDEN, OK, HIDDEN, OK, HIDDEN, OK),
        post=portal(HIDDEN, OK, HIDDEN, OK, HIDDEN, OK),
    ),
    Row(
        "catalog:request_detail",
        "/requests/{own_request}/",
        get=portal(OK, HIDDEN, HIDDEN, OK, HIDDEN, OK),
    ),
    Row(
        "catalog:request_submitted",
        "/requests/{others_request}/submitted/",
        get=portal(HIDDEN, OK, HIDDEN, OK, HIDDEN, OK),
        post=portal(HIDDEN, OK, HIDDEN, OK, HIDDEN, OK),
    ),
    Row(
        "catalog:request_comment",
        "/requests/{others_request}/comment/",
        get=everyone(WRONG_METHOD),
        post=portal(HIDDEN, INVALID, HIDDEN, INVALID, HIDDEN, INVALID),
    ),
    # Those who may see the request are told they can't cancel it.
    Row(
        "catalog:item_cancel",
        "/requests/items/{others_item}/cancel/",
        get=everyone(WRONG_METHOD),
        post=portal(HIDDEN, MOVED_ON, HIDDEN, MOVED_ON, HIDDEN, MOVED_ON),
    ),
    # Only the people on the request rate what they received.
    Row(
        "catalog:item_rate",
        "/requests/items/{others_item}/rate/",
        get=everyone(HIDDEN),
        post=everyone(HIDDEN),
    ),
    Row("catalog:my_services", "/my-services/", get=everyone(OK), post=everyone(OK)),
    Row(
        "catalog:my_service_remove",
        "/my-services/{others_item}/remove/",
        get=everyone(HIDDEN),
        post=everyone(HIDDEN),
    ),
    # --- Approvals: the manager decides; administrators may decide any -------
    Row("catalog:approvals", "/approvals/", get=everyone(OK), post=everyone(OK)),
    Row(
        "catalog:approval_decide",
        "/approvals/steps/{step}/decide/",
        get=everyone(WRONG_METHOD),
        post=portal(HIDDEN, INVALID, HIDDEN, MOVED_ON, HIDDEN, MOVED_ON),
    ),
    Row(
        "catalog:approval_request_decide",
        "/approvals/requests/{others_request}/decide/",
        get=everyone(WRONG_METHOD),
        post=portal(HIDDEN, MOVED_ON, HIDDEN, MOVED_ON, HIDDEN, MOVED_ON),
    ),
    Row(
        "catalog:substitutes",
        "/approvals/substitutes/",
        get=everyone(OK),
        post=everyone(INVALID),
    ),
    # The manager named a deputy; only the manager takes it back.
    Row(
        "catalog:substitute_remove",
        "/approvals/substitutes/{delegation}/remove/",
        get=everyone(WRONG_METHOD),
        post=portal(HIDDEN, MOVED_ON, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    ),
    # --- Executive pages: executives and administrators only ------------------
    *(
        Row(
            name,
            path,
            get=portal(DENIED, DENIED, OK, DENIED, DENIED, OK),
            post=portal(DENIED, DENIED, OK, DENIED, DENIED, OK),
        )
        for name, path in [
            ("catalog:executive", "/executive/"),
            ("catalog:executive_items", "/executive/items/"),
            ("catalog:executive_export", "/executive/export.csv"),
            ("catalog:bill", "/executive/bill/"),
            ("catalog:bill_export", "/executive/bill/export.csv"),
            ("catalog:service_review", "/executive/review/"),
        ]
    ),
    Row(
        "catalog:service_suspend",
        "/executive/review/{laptop}/suspend/",
        get=everyone(WRONG_METHOD),
        post=portal(DENIED, DENIED, INVALID, DENIED, DENIED, INVALID),
    ),
    # --- Admin views the project adds ------------------------------------------
    Row(
        "catalog_as_user",
        "/admin/catalog/view-as/",
        get=admin(REFUSED, OK, OK),
        post=admin(REFUSED, WRONG_METHOD, WRONG_METHOD),
    ),
    # A shortcut to the page explorer, which applies its own permissions.
    Row(
        "catalog_categories",
        "/admin/catalog/categories/",
        get=admin(MOVED_ON, MOVED_ON, MOVED_ON),
        post=admin(MOVED_ON, MOVED_ON, MOVED_ON),
    ),
    Row(
        "calendar_preview",
        "/admin/catalog/calendars/preview/",
        get=admin(REFUSED, OK, OK),
        post=admin(REFUSED, WRONG_METHOD, WRONG_METHOD),
    ),
    # The queue, for fulfillers (and admins): others are refused before
    # anything is read, whatever the method.
    Row(
        "catalog:queue",
        "/queue/",
        get=portal(DENIED, DENIED, DENIED, OK, DENIED, OK),
    ),
    Row(
        "catalog:queue_assign",
        "/queue/assign/",
        get=everyone(WRONG_METHOD),
        post=portal(DENIED, DENIED, DENIED, MOVED_ON, DENIED, MOVED_ON),
    ),
    Row(
        "catalog:queue_item",
        "/queue/items/{others_item}/",
        get=portal(DENIED, DENIED, DENIED, OK, DENIED, OK),
        post=portal(DENIED, DENIED, DENIED, WRONG_METHOD, DENIED, WRONG_METHOD),
    ),
    Row(
        "catalog:queue_item_action",
        "/queue/items/{others_item}/comment/",
        get=portal(DENIED, DENIED, DENIED, WRONG_METHOD, DENIED, WRONG_METHOD),
        post=portal(DENIED, DENIED, DENIED, INVALID, DENIED, INVALID),
    ),
    # Its old address in the admin sends admin users on to it.
    Row(
        "queue_moved",
        "/admin/queue/",
        get=admin(MOVED_PERMANENTLY, MOVED_PERMANENTLY, MOVED_PERMANENTLY),
    ),
    Row(
        "queue_item_moved",
        "/admin/queue/items/{others_item}/",
        get=admin(MOVED_PERMANENTLY, MOVED_PERMANENTLY, MOVED_PERMANENTLY),
    ),
    Row(
        "close_bills",
        "/admin/bills/close/",
        get=admin(REFUSED, REFUSED, OK),
        post=admin(REFUSED, REFUSED, INVALID),
    ),
    Row(
        "locked_logins",
        "/admin/security/locked-logins/",
        get=admin(DENIED, DENIED, OK),
        post=admin(DENIED, DENIED, MOVED_ON),
    ),
    # --- Reference data with the project's own views ---------------------------
    *(
        Row(
            f"wagtailsnippets_catalog_{model}:{view}",
            f"/admin/snippets/catalog/{model}/{path}",
            get=admin(REFUSED, OK, OK),
            post=admin(REFUSED, OK, OK),  # an empty form comes back with errors
        )
        for model, view, path in [
            ("servicelevel", "add", "add/"),
            ("servicelevel", "edit", "edit/{level}/"),
            ("fulfilmentgroup", "add", "add/"),
            ("fulfilmentgroup", "edit", "edit/{team}/"),
        ]
    ),
    Row(
        "wagtailsnippets_catalog_businesscalendar:list",
        "/admin/snippets/catalog/businesscalendar/",
        get=admin(REFUSED, OK, OK),
    ),
    Row(
        "wagtailsnippets_catalog_businesscalendar:list_results",
        "/admin/snippets/catalog/businesscalendar/results/",
        get=admin(REFUSED, OK, OK),
    ),
    # People are for people administrators (and administrators), not editors.
    Row(
        "wagtailsnippets_catalog_userprofile:list",
        "/admin/snippets/catalog/userprofile/",
        get=admin(REFUSED, REFUSED, OK),
    ),
    Row(
        "wagtailsnippets_catalog_userprofile:list_results",
        "/admin/snippets/catalog/userprofile/results/",
        get=admin(REFUSED, REFUSED, OK),
    ),
    Row(
        "wagtailsnippets_catalog_userprofile:edit",
        "/admin/snippets/catalog/userprofile/edit/{profile}/",
        get=admin(REFUSED, REFUSED, OK),
        post=admin(REFUSED, REFUSED, MOVED_ON),  # every field is optional: saved
    ),
]

# --- The system of record: read in the admin, never written there ---------------
for _prefix, _url, _object in [
    ("service_requests", "/admin/requests/", "{others_request}"),
    ("request_log", "/admin/request-log/", "{event}"),
]:
    ROWS += [
        Row(f"{_prefix}:index", _url, get=admin(OK, REFUSED, OK)),
        Row(f"{_prefix}:index_results", f"{_url}results/", get=admin(OK, REFUSED, OK)),
        Row(
            f"{_prefix}:inspect",
            f"{_url}inspect/{_object}/",
            get=admin(OK, REFUSED, OK),
        ),
        Row(
            f"{_prefix}:add",
            f"{_url}new/",
            get=READ_ONLY_REFUSED,
            post=READ_ONLY_REFUSED,
        ),
        *(
            Row(
                f"{_prefix}:{view}",
                f"{_url}{view}/{_object}/",
                get=READ_ONLY_REFUSED,
                post=READ_ONLY_REFUSED,
            )
            for view in ("edit", "delete", "copy")
        ),
        # Wagtail shows history and usage to those who may change the object.
        *(
            Row(f"{_prefix}:{name}", f"{_url}{view}/{_object}/", get=READ_ONLY_REFUSED)
            for name, view in [
                ("history", "history"),
                ("history_results", "history-results"),
                ("usage", "usage"),
            ]
        ),
    ]


# --- Enumerating the project's URLs -------------------------------------------


def _project_view(callback) -> bool:
    view = getattr(callback, "view_class", callback)
    return view.__module__.startswith(("catalog.", "home.", "config."))


def _project_viewset_namespaces() -> set[str]:
    """The admin viewsets the project registers itself (not Wagtail's own)."""
    from wagtail import hooks

    names = set()
    for hook in hooks.get_hooks("register_admin_viewset"):
        if not hook.__module__.startswith(("catalog.", "home.")):
            continue
        registered = hook()
        for viewset in getattr(registered, "registerables", [registered]):
            names.add(viewset.name)
    return names


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}".lstrip(":")
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}".lstrip(":")
            yield prefix + str(pattern.pattern), name, pattern.callback


def project_url_names() -> set[str]:
    """Everything outside the admin (the project wires all of it in
    ``config/urls.py``), and in the admin what the project adds: views it
    defines or customises, and its own viewsets."""
    viewsets = _project_viewset_namespaces()
    return {
        name
        for route, name, callback in _walk(get_resolver().url_patterns)
        if not route.startswith("admin/")
        or _project_view(callback)
        or name.split(":")[0] in viewsets
    }


# --- The world the table runs in ----------------------------------------------


def _role(name, group, **profile):
    return UserFactory(username=name, groups=[Group.objects.get(name=group)], **profile)


@pytest.fixture
def world(
    settings, tmp_path, catalog, employee, a_manager, finance_londoner, sales, berlin
):
    """Each role as one person; a request of somebody else's (the finance person,
    whose manager is the manager role) waiting for the manager's approval; one of
    the employee's own; a line in the employee's basket; the manager's deputy;
    a document."""
    settings.MEDIA_ROOT = str(tmp_path)
    employee.groups.add(Group.objects.get(name="Employee"))
    a_manager.groups.add(Group.objects.get(name="Approver"))
    people = {
        "anonymous": None,
        "employee": employee,
        "manager": a_manager,
        "executive": _role(
            "exec", "Executive", profile={"department": sales, "location": berlin}
        ),
        "fulfiller": _role("fixer", "Fulfiller"),
        "editor": _role("editor", "Catalog editor"),
        "admin": _role("administrator", "Administrator"),
    }
    UserProfile.objects.filter(user=finance_londoner).update(manager=a_manager)
    others = order(finance_londoner, catalog, "laptop", "password")
    own = order(employee, catalog, "password")
    line = basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    step = ApprovalStep.objects.get(request=others)
    delegation = ApprovalDelegation.objects.create(
        approver=a_manager,
        substitute=UserFactory(username="deputy"),
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=7),
    )
    document = Document.objects.create(
        title="Laptop policy", file=ContentFile(b"Be kind to laptops.", "policy.txt")
    )
    team = FulfilmentGroupFactory(name="Desk")
    ids = {
        "others_request": others.pk,
        "own_request": own.pk,
        "others_item": others.items.get(line_number=1).pk,
        "line": line.pk,
        "step": step.pk,
        "delegation": delegation.pk,
        "document": document.pk,
        "document_file": document.filename,
        "laptop": catalog["laptop"].pk,
        "password": catalog["password"].pk,
        "event": others.events.first().pk,
        "level": catalog["laptop"].service_level_id,
        "team": team.pk,
        "profile": UserProfile.objects.get(user=employee).pk,
        "no_such_id": 987654,
    }
    return people, ids


def statuses(client, people, method, path) -> tuple:
    seen = []
    for role in ROLES:
        client.logout()
        if people[role] is not None:
            client.force_login(people[role])
        # Whatever a POST changes is undone before the next role tries.
        with transaction.atomic():
            response = getattr(client, method.lower())(path)
            transaction.set_rollback(True)
        seen.append(_status(response))
    return tuple(seen)


def _status(response):
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    if location.startswith("/accounts/login/"):
        return LOGIN
    if location.startswith("/admin/login/"):
        return ADMIN_LOGIN
    if location == "/admin/":
        return REFUSED
    return MOVED_ON


# --- The tests ------------------------------------------------------------------


def test_every_project_url_has_a_row():
    """Add a row for a new URL (and remove the row of a removed one)."""
    assert project_url_names() == {row.name for row in ROWS}


def test_each_row_is_about_its_url(world):
    _, ids = world
    for row in ROWS:
        assert resolve(row.path.format(**ids)).view_name == row.name, row


def test_who_gets_what(client, world):
    """One world for the whole table (a POST's changes are rolled back); a
    failure lists just the rows that differ."""
    people, ids = world
    expected, seen = {}, {}
    for row in ROWS:
        path = row.path.format(**ids)
        for method, wanted in (("GET", row.get), ("POST", row.post)):
            if wanted is None:
                continue
            got = statuses(client, people, method, path)
            expected[f"{method} {path}"] = dict(zip(ROLES, wanted, strict=True))
            seen[f"{method} {path}"] = dict(zip(ROLES, got, strict=True))
    assert seen == expected
