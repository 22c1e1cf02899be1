"""What the header shows on every page for someone logged in: the basket count,
the approvals waiting for them (and whether they approve at all), the links only
some people get (the fulfilment queue, IT costs) and where the catalog is, read
in one query.

Raw SQL because it runs on every page: the ORM spent about 2 ms per request
compiling these counts, many times what the database takes to answer them
(bench/README.md, "The shell"). Tables and columns are named from the models.
Which steps wait for someone is ``catalog.permissions.decidable_steps_q``; this
is the same rule as SQL, and tests/catalog/selectors/test_approvals.py holds
both (and the approval service's own check) to one table of cases. The three
permissions it needs are Django's rule (the person's own or their groups', all
of them for a superuser) as SQL, held to ``user.has_perm`` by
tests/catalog/selectors/test_header.py: so a page that checks no permission of
its own doesn't load them all.
"""

from dataclasses import dataclass
from datetime import date
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page, Site

from catalog import permissions
from catalog.models import (
    ApprovalDelegation,
    ApprovalStep,
    Basket,
    BasketLine,
    CatalogIndexPage,
    ServiceRequest,
)
from home.auth import held_permission_ids_sql
from home.sql import column, table

# The role that decides approvals; the header shows its members the link even
# when nothing is waiting.
APPROVER_GROUP = "Approver"


@dataclass(frozen=True)
class ApprovalsNav:
    count: int
    is_approver: bool

    @property
    def show(self) -> bool:
        return self.is_approver or self.count > 0


@dataclass(frozen=True)
class Header:
    basket_count: int
    approvals: ApprovalsNav
    # The catalog index page's path in the page tree, or "" if none is live.
    catalog_url_path: str
    # The "Queue" and "IT costs" links.
    works_queue: bool = False
    sees_reports: bool = False


NOBODY = Header(
    basket_count=0,
    approvals=ApprovalsNav(count=0, is_approver=False),
    catalog_url_path="",
)


def _has_perm_sql() -> str:
    """Whether the person (first parameter, twice) holds one permission (then
    its app label and codename), directly or through a group."""
    t, c = table, column
    return (
        f"EXISTS (SELECT 1 FROM {t(Permission)} p"
        f" JOIN {t(ContentType)} ct"
        f" ON ct.{c(ContentType, 'id')} = p.{c(Permission, 'content_type')}"
        f" WHERE p.{c(Permission, 'id')} IN ({held_permission_ids_sql()})"
        f" AND ct.{c(ContentType, 'app_label')} = %s"
        f" AND p.{c(Permission, 'codename')} = %s)"
    )


@cache
def _header_sql() -> str:
    """The query, built once per process."""
    t, c = table, column
    membership = get_user_model().groups.through
    line, basket = BasketLine, Basket
    step, req, dele = ApprovalStep, ServiceRequest, ApprovalDelegation
    has_perm = _has_perm_sql()
    return (
        # Lines in the person's open basket.
        f"SELECT (SELECT COUNT(*) FROM {t(line)} l"
        f" JOIN {t(basket)} b ON l.{c(line, 'basket')} = b.{c(basket, 'id')}"
        f" WHERE b.{c(basket, 'owner')} = %s AND b.{c(basket, 'status')} = %s),"
        # Steps waiting for them: theirs, or of someone they stand in for today,
        # or nobody's when they may decide any; never on their own request.
        f" (SELECT COUNT(*) FROM {t(step)} s"
        f" JOIN {t(req)} r ON s.{c(step, 'request')} = r.{c(req, 'id')}"
        f" WHERE s.{c(step, 'status')} = %s"
        f" AND (s.{c(step, 'approver')} = %s"
        f" OR s.{c(step, 'approver')} IN (SELECT d.{c(dele, 'approver')}"
        f" FROM {t(dele)} d WHERE d.{c(dele, 'substitute')} = %s"
        f" AND d.{c(dele, 'starts_on')} <= %s AND d.{c(dele, 'ends_on')} >= %s)"
        f" OR (s.{c(step, 'approver')} IS NULL AND (%s OR {has_perm})))"
        f" AND r.{c(req, 'requested_by')} <> %s"
        f" AND r.{c(req, 'requested_for')} <> %s),"
        # Whether they are an approver at all.
        f" EXISTS (SELECT 1 FROM {t(membership)} m"
        f" JOIN {t(Group)} g ON m.{c(membership, 'group')} = g.{c(Group, 'id')}"
        f" WHERE m.{c(membership, 'user')} = %s AND g.{c(Group, 'name')} = %s),"
        # The live catalog index (the first, as the tree orders pages).
        f" (SELECT p.{c(Page, 'url_path')} FROM {t(Page)} p"
        f" JOIN {t(CatalogIndexPage)} ci"
        f" ON ci.{c(CatalogIndexPage, 'page_ptr')} = p.{c(Page, 'id')}"
        f" WHERE p.{c(Page, 'live')} ORDER BY p.{c(Page, 'path')} LIMIT 1),"
        # The permissions behind the header's links.
        f" {has_perm}, {has_perm}, {has_perm}"
    )


def _perm_params(pk: int, perm: str) -> list:
    app_label, codename = perm.split(".", 1)
    return [pk, pk, app_label, codename]


def header_for(*, user, on: date | None = None) -> Header:
    """The header's figures for ``user`` on ``on`` (today), in one query; none
    for someone logged out."""
    if user is None or not user.is_authenticated:
        return NOBODY
    on = connection.ops.adapt_datefield_value(on or timezone.localdate())
    pk = user.pk
    # Django's rule: a superuser holds every permission, an inactive person none.
    everything = user.is_active and user.is_superuser
    params = [
        pk,
        Basket.Status.OPEN.value,
        ApprovalStep.Status.PENDING.value,
        pk,
        pk,
        on,
        on,
        everything,
        *_perm_params(pk, permissions.APPROVE_ANY),
        pk,
        pk,
        pk,
        APPROVER_GROUP,
        *_perm_params(pk, permissions.WORK_REQUESTS),
        *_perm_params(pk, permissions.VIEW_REPORTS),
        *_perm_params(pk, permissions.VIEW_ALL_DEPARTMENTS),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_header_sql(), params)
        row = cursor.fetchone()
    basket_count, waiting, is_approver, url_path, works, reports, everyone = row
    active = user.is_active
    return Header(
        basket_count=basket_count,
        approvals=ApprovalsNav(count=waiting, is_approver=bool(is_approver)),
        catalog_url_path=url_path or "",
        works_queue=everything or (active and bool(works)),
        # permissions.can_view_reports: their department's, or everyone's.
        sees_reports=everything or (active and bool(reports or everyone)),
    )


def served_url(url_path: str) -> str:
    """The address a page with this tree path is served at, as Wagtail's
    ``Page.get_url`` works it out for a one-site portal (the site whose root is
    the longest prefix), without loading the page; "/" if there is none."""
    if not url_path:
        return "/"
    roots = sorted(
        Site.get_site_root_paths(), key=lambda root: len(root.root_path), reverse=True
    )
    for root in roots:
        if url_path.startswith(root.root_path):
            return reverse("wagtail_serve", args=(url_path[len(root.root_path) :],))
    return "/"
