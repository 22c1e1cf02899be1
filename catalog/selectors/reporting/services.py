"""Figures per service, inside the catalog and in the service review.

- ``delivery_line``: the plain "Recently: …" line every employee sees on a
  service page and card, read from the day's ``ServiceDeliveryStats`` row.
- ``executive_panel``: what a service cost the viewer's department (or the
  whole company) and how well it was delivered, on the service page.
- ``service_review``: rarely requested services (candidates to retire or
  suspend) and the busiest ones (candidates to streamline or automate).

Spend, attainment and ratings come from the rollups, which are keyed by the
service's name as its items copied it when ordered (so renamed or deleted pages
keep their history). A rollup row belongs to a service page through its items:
the names the page's items carry. Removal requests ("Remove: …") are not demand
for a service and are left out.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from wagtail.models import Page, WorkflowState

from catalog import permissions
from catalog.exceptions import NotAllowed, NotFoundForUser
from catalog.models import (
    DailyRollup,
    ItemFact,
    MonthlyRollup,
    RecurringRollup,
    ServicePage,
)
from catalog.selectors.reporting.scope import Scope, reporting_scope
from catalog.services.service_stats import MIN_ITEMS, recent_window

RARELY_REQUESTED_BELOW = 5
CENT = Decimal("0.01")
BUSIEST = 10
NOT_ENOUGH_DATA = "Not enough recent requests to show delivery times"
NOT_MEASURED = "Delivery times aren't measured for this service"


# --- Periods ---------------------------------------------------------------------


def last_twelve_months(today: date) -> tuple[date, date]:
    """The 12 complete calendar months before this one: (first day, first day of
    this month), end exclusive."""
    end = today.replace(day=1)
    return date(end.year - 1, end.month, 1), end


def _months(start: date, end: date):
    month = start
    while month < end:
        yield month
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _period_label(start: date, end: date) -> str:
    last = end - timedelta(days=1)
    return f"{start:%B %Y} to {last:%B %Y}"


def items_link(*, service_name: str, start: date, end: date, metric: str) -> str:
    """The dashboard's list of the items behind a figure: the service (by the
    name items are ordered under, as the dashboard filters), the period as dates
    of one's own (first and last day, both included) and which figure."""
    query = urlencode(
        {
            "service": service_name,
            "period": "custom",
            "date_from": start.isoformat(),
            "date_to": (end - timedelta(days=1)).isoformat(),
            "metric": metric,
        }
    )
    return f"{reverse('catalog:executive_items')}?{query}"


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def _average(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- The line everyone sees --------------------------------------------------------


@dataclass(frozen=True)
class DeliveryLine:
    text: str
    has_figures: bool


def delivery_line(*, service: ServicePage) -> DeliveryLine:
    """The "Recently: …" line for a service page or card.

    Reads ``service.delivery_stats``: one query, or none when the list joined it
    in (``select_related("delivery_stats")``). A service without a row (new, or
    not yet refreshed) has no recent requests to speak of.

    The typical time is told as "half delivered within N working days" with N the
    median rounded up to a whole day (at least 1), so it is true as written; the
    on-time share is rounded down to a whole percent, so it never claims more
    than was achieved.
    """
    try:
        stats = service.delivery_stats
    except ObjectDoesNotExist:
        stats = None
    parts = []
    if stats is not None and stats.median_days is not None:
        days = max(1, math.ceil(stats.median_days))
        parts.append(
            f"half delivered within {days} working day{'s' if days != 1 else ''}"
        )
    if stats is not None and stats.on_time_share is not None:
        percent = math.floor(stats.on_time_share * 100)
        parts.append(f"{percent}% on time last quarter")
    if parts:
        return DeliveryLine(text="Recently: " + ", ".join(parts), has_figures=True)
    enough = stats is not None and (
        stats.delivered_90_days >= MIN_ITEMS
        or stats.delivered_last_quarter >= MIN_ITEMS
    )
    return DeliveryLine(
        text=NOT_MEASURED if enough else NOT_ENOUGH_DATA, has_figures=False
    )


# --- Rollups of one service, or of all ------------------------------------------


def _ordered_items():
    """Facts of items that ordered a service (not removals of one)."""
    return ItemFact.objects.filter(item__removes_item__isnull=True)


def _names_of(service_id: int):
    """The names a service's items were ordered under, as a subquery."""
    return _ordered_items().filter(service_id=service_id).values("service_name")


def _recurring_spend(rows, start: date, end: date) -> dict[str, Decimal]:
    """Recurring spend per service name over [start, end), from rows of (name,
    month, level change, part months) for every month before ``end``: each month
    costs the running level up to and including it plus its part months."""
    by_name: dict[str, dict[date, tuple]] = defaultdict(dict)
    for name, month, level, part in rows:
        by_name[name][month] = (level, part)
    result = {}
    for name, months in by_name.items():
        level = sum(
            (change for month, (change, _) in months.items() if month < start),
            Decimal(0),
        )
        total = Decimal(0)
        for month in _months(start, end):
            change, part = months.get(month, (Decimal(0), Decimal(0)))
            level += change
            total += level + part
        result[name] = total.quantize(CENT)
    return result


def _recurring_rows(queryset, end: date):
    return (
        queryset.filter(month__lt=end)
        .values("service_name", "month")
        .annotate(level=Sum("level_change"), part=Sum("part_months"))
        .values_list("service_name", "month", "level", "part")
        .order_by()
    )


# --- The executive panel on a service page --------------------------------------


@dataclass(frozen=True)
class ExecutivePanel:
    scope_label: str
    whole_company: bool
    period_label: str
    spend: Decimal
    one_off: Decimal
    recurring: Decimal
    spend_link: str
    attainment_link: str
    rating_link: str
    holders: int | None  # None: not a service people hold (no monthly price)
    measured_recent: int  # delivered with a customer target, last 90 days
    attainment: Decimal | None
    rating: Decimal | None
    rated: int


def executive_panel(*, user, service: ServicePage) -> ExecutivePanel | None:
    """The panel for an executive, or None for everyone else (checked before any
    figure is read, so nobody else pays for it).

    A department executive sees their department's figures only; a viewer with
    the whole company in scope sees the whole company's, labelled so.
    """
    if not permissions.can_view_reports(user):
        return None
    try:
        scope = reporting_scope(user=user)
    except (NotAllowed, NotFoundForUser):
        return None  # an executive without a department has no figures
    today = timezone.localdate()
    start, end = last_twelve_months(today)
    recent_start, recent_end = recent_window(today)
    names = _names_of(service.pk)
    in_window = Q(day__gte=start, day__lt=end)
    recent = Q(day__gte=recent_start, day__lt=recent_end)
    daily = (
        DailyRollup.objects.filter(scope.q(), service_name__in=names)
        .filter(in_window | recent)
        .aggregate(
            one_off=Sum("one_off_amount", filter=in_window),
            measured=Sum("resolution_measured", filter=recent),
            met=Sum("resolution_met", filter=recent),
            rated=Sum("rated", filter=recent),
            rating_sum=Sum("rating_sum", filter=recent),
        )
    )
    recurring = sum(
        _recurring_spend(
            _recurring_rows(
                RecurringRollup.objects.filter(scope.q(), service_name__in=names),
                end,
            ),
            start,
            end,
        ).values(),
        Decimal(0),
    )
    holders = None
    if service.monthly_price > 0:
        holders = (
            ItemFact.objects.filter(
                scope.q(),
                service_id=service.pk,
                held_from__isnull=False,
                held_until__isnull=True,
            ).aggregate(n=Count("item__request__requested_for", distinct=True))["n"]
            or 0
        )
    # Sums of money come back from SQLite with float noise: keep to the cent.
    one_off = (daily["one_off"] or Decimal(0)).quantize(CENT)
    return ExecutivePanel(
        scope_label=scope.label,
        whole_company=scope.whole_company,
        period_label=_period_label(start, end),
        spend=one_off + recurring,
        one_off=one_off,
        recurring=recurring,
        spend_link=items_link(
            service_name=service.title, start=start, end=end, metric="spend"
        ),
        attainment_link=items_link(
            service_name=service.title,
            start=recent_start,
            end=recent_end,
            metric="resolution",
        ),
        rating_link=items_link(
            service_name=service.title,
            start=recent_start,
            end=recent_end,
            metric="rated",
        ),
        holders=holders,
        measured_recent=daily["measured"] or 0,
        attainment=_percent(daily["met"] or 0, daily["measured"] or 0),
        rating=_average(daily["rating_sum"] or 0, daily["rated"] or 0),
        rated=daily["rated"] or 0,
    )


# --- The service review ------------------------------------------------------------


@dataclass(frozen=True)
class ReviewAccess:
    """What a person's service review covers: ``scope`` is whose figures;
    ``owner_id`` set means only the services that person owns."""

    scope: Scope
    owner_id: int | None = None

    def covers(self, service: ServicePage, restricted_to: set[int]) -> bool:
        """Is ``service`` (restricted to the departments ``restricted_to``, empty
        for everyone) in this review?"""
        if self.owner_id is not None:
            return service.service_owner_id == self.owner_id
        if self.scope.whole_company or not restricted_to:
            return True
        return bool(restricted_to & self.scope.department_ids)


def review_access(*, user) -> ReviewAccess:
    """Who sees the service review, and what of it (the rule, in one place):

    - an executive (``catalog.view_reports`` or ``catalog.view_all_departments``)
      sees every live service their department may order (all of them for the
      whole company), with their department's figures (the whole company's);
    - a service owner (named on at least one service page) without reporting
      rights sees only the live services they own, with the whole company's
      figures: how their own services do is theirs to know, other departments'
      spend on other services is not;
    - anyone else is refused (403).

    The same rule decides who may ask for a service to be suspended.
    """
    if permissions.can_view_reports(user):
        return ReviewAccess(scope=reporting_scope(user=user))
    if (
        user.is_authenticated
        and ServicePage.objects.filter(service_owner=user).exists()
    ):
        return ReviewAccess(
            scope=Scope(department_ids=None, label="Whole company"), owner_id=user.pk
        )
    raise NotAllowed("Only executives and service owners see the service review.")


def service_in_review(*, access: ReviewAccess, service: ServicePage) -> bool:
    from catalog.selectors.entitlements import service_restrictions

    restrictions = service_restrictions([service.pk]).get(service.pk)
    return service.live and access.covers(
        service, restrictions.departments if restrictions else set()
    )


# Page ids are database integers: a longer number is no page (and some
# databases refuse to compare with it).
LARGEST_ID = 2**31 - 1


def reviewed_service(*, user, service_id: int) -> ServicePage:
    """A service in ``user``'s review: 403 for someone without a review, 404
    for an unknown service (or an id no database holds), 403 for a service
    outside their review."""
    access = review_access(user=user)
    page = (
        ServicePage.objects.live().filter(pk=service_id).first()
        if 0 < service_id <= LARGEST_ID
        else None
    )
    if page is None:
        raise NotFoundForUser("No such service.")
    if not service_in_review(access=access, service=page):
        raise NotAllowed("You can only suspend the services in your review.")
    return page


@dataclass
class ReviewRow:
    service: ServicePage
    requested: int = 0
    spend: Decimal = Decimal(0)
    measured: int = 0
    met: int = 0
    rated: int = 0
    rating_sum: int = 0
    change_waiting: bool = False

    @property
    def attainment(self) -> Decimal | None:
        return _percent(self.met, self.measured)

    @property
    def rating(self) -> Decimal | None:
        return _average(self.rating_sum, self.rated)


@dataclass
class ServiceReview:
    access: ReviewAccess
    period_label: str
    start: date
    end: date
    rarely: list[ReviewRow] = field(default_factory=list)
    busiest: list[ReviewRow] = field(default_factory=list)

    @property
    def scope_label(self) -> str:
        return self.access.scope.label

    @property
    def owner_only(self) -> bool:
        return self.access.owner_id is not None


def _review_pages(access: ReviewAccess) -> tuple[list[ServicePage], dict[str, int]]:
    """The live services in the review, and every live service's id by title
    (for matching rollup rows)."""
    from catalog.selectors.entitlements import LISTING_DEFERRED, service_restrictions

    pages = list(ServicePage.objects.live().defer(*LISTING_DEFERRED).order_by("path"))
    restrictions = service_restrictions() if not access.scope.whole_company else {}
    by_title: dict[str, int] = {}
    for page in pages:
        by_title.setdefault(page.title, page.pk)
    covered = [
        page
        for page in pages
        if access.covers(
            page,
            restrictions[page.pk].departments if page.pk in restrictions else set(),
        )
    ]
    return covered, by_title


def _service_of_names(names, by_title: dict[str, int]) -> dict[str, int]:
    """Which service page each rollup name belongs to: the live page of that
    title, else (a renamed or deleted page) the page its items point at."""
    found = {name: by_title[name] for name in names if name in by_title}
    unmatched = [name for name in names if name not in found]
    if unmatched:
        for name, service_id in (
            _ordered_items()
            .filter(service_name__in=unmatched, service__isnull=False)
            .values_list("service_name", "service_id")
            .distinct()
            .order_by()
        ):
            found.setdefault(name, service_id)
    return found


def service_review(*, user, today: date | None = None) -> ServiceReview:
    """Rarely requested services (fewer than 5 items ordered in the last 12
    complete months, none included) and the 10 most requested, each with what it
    cost, its attainment against the customer target and its average rating
    over the same months."""
    access = review_access(user=user)
    today = today or timezone.localdate()
    start, end = last_twelve_months(today)
    pages, by_title = _review_pages(access)
    rows = {page.pk: ReviewRow(service=page) for page in pages}
    scope_q = access.scope.q()
    # Twelve whole months: the monthly sums, a row per key and month.
    monthly = list(
        MonthlyRollup.objects.filter(scope_q, month__gte=start, month__lt=end)
        .values("service_name")
        .annotate(
            requested=Sum("submitted"),
            one_off=Sum("one_off_amount"),
            measured=Sum("resolution_measured"),
            met=Sum("resolution_met"),
            rated=Sum("rated"),
            rating_sum=Sum("rating_sum"),
        )
        .order_by()
    )
    recurring = _recurring_spend(
        _recurring_rows(RecurringRollup.objects.filter(scope_q), end), start, end
    )
    names = {row["service_name"] for row in monthly} | set(recurring)
    owners = _service_of_names(names, by_title)
    for row in monthly:
        target = rows.get(owners.get(row["service_name"]))
        if target is None:
            continue
        target.requested += row["requested"] or 0
        target.spend += (row["one_off"] or Decimal(0)).quantize(CENT)
        target.measured += row["measured"] or 0
        target.met += row["met"] or 0
        target.rated += row["rated"] or 0
        target.rating_sum += row["rating_sum"] or 0
    for name, amount in recurring.items():
        target = rows.get(owners.get(name))
        if target is not None:
            target.spend += amount

    rarely = sorted(
        (row for row in rows.values() if row.requested < RARELY_REQUESTED_BELOW),
        key=lambda row: (row.requested, row.service.title),
    )
    busiest = sorted(
        (row for row in rows.values() if row.requested >= RARELY_REQUESTED_BELOW),
        key=lambda row: (-row.requested, row.service.title),
    )[:BUSIEST]
    _mark_changes_waiting(rarely)
    return ServiceReview(
        access=access,
        period_label=_period_label(start, end),
        start=start,
        end=end,
        rarely=rarely,
        busiest=busiest,
    )


def _mark_changes_waiting(rows: list[ReviewRow]) -> None:
    """Flag services with a change in their approval workflow (a suspension
    can't be asked for until it is decided)."""
    if not rows:
        return
    waiting = set(
        WorkflowState.objects.active()
        .filter(
            base_content_type=ContentType.objects.get_for_model(Page),
            object_id__in=[str(row.service.pk) for row in rows],
        )
        .values_list("object_id", flat=True)
    )
    for row in rows:
        row.change_waiting = str(row.service.pk) in waiting
