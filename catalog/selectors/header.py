"""What the header shows on every page for someone logged in: the basket count,
the approvals waiting for them (and whether they approve at all) and where the
catalog is, read in one query.

Raw SQL because it runs on every page: the ORM spent about 2 ms per request
compiling these counts, many times what the database takes to answer them
(bench/README.md, "The shell"). Tables and columns are named from the models.
Which steps wait for someone is ``catalog.permissions.decidable_steps_q``; this
is the same rule as SQL, and tests/catalog/selectors/test_approvals.py holds
both (and the approval service's own check) to one table of cases.
"""

from dataclasses import dataclass
from datetime import date
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
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


NOBODY = Header(
    basket_count=0,
    approvals=ApprovalsNav(count=0, is_approver=False),
    catalog_url_path="",
)


@cache
def _header_sql(*, approves_any: bool) -> str:
    """The query, built once per process for each of its two shapes."""
    t, c = table, column
    membership = get_user_model().groups.through
    line, basket = BasketLine, Basket
    step, req, dele = ApprovalStep, ServiceRequest, ApprovalDelegation
    unassigned = f" OR s.{c(step, 'approver')} IS NULL" if approves_any else ""
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
        f"{unassigned})"
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
        f" WHERE p.{c(Page, 'live')} ORDER BY p.{c(Page, 'path')} LIMIT 1)"
    )


def header_for(*, user, on: date | None = None) -> Header:
    """The header's figures for ``user`` on ``on`` (today), in one query; none
    for someone logged out."""
    if user is None or not user.is_authenticated:
        return NOBODY
    on = connection.ops.adapt_datefield_value(on or timezone.localdate())
    pk = user.pk
    sql = _header_sql(approves_any=user.has_perm(permissions.APPROVE_ANY))
    params = [
        pk,
        Basket.Status.OPEN.value,
        ApprovalStep.Status.PENDING.value,
        pk,
        pk,
        on,
        on,
        pk,
        pk,
        pk,
        APPROVER_GROUP,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        basket_count, waiting, is_approver, url_path = cursor.fetchone()
    return Header(
        basket_count=basket_count,
        approvals=ApprovalsNav(count=waiting, is_approver=bool(is_approver)),
        catalog_url_path=url_path or "",
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
