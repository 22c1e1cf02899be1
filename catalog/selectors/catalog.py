"""What a person may see in the catalog, and the lists built from it.

``visible_services`` is the one rule: every list, search and page view goes through
it. A service may be restricted to departments, locations and groups; in each
dimension that has entries the person must match one of them, and a dimension
without entries lets everyone through.
"""

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import QueryDict
from django.utils import timezone
from django.utils.http import urlencode
from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.search.utils import normalise_query_string

from catalog.filters import DELIVERY_BANDS, PRICE_BANDS, SORTS, ServiceFilter
from catalog.models import (
    CatalogVersion,
    CategoryPage,
    RequestItem,
    ServicePage,
    UserProfile,
)

MAX_QUERY_LENGTH = 100
POPULARITY_WINDOW_DAYS = 90
POPULARITY_CACHE_SECONDS = 600
LISTING_DEFERRED = ("description", "request_form", "internal_notes")

_departments = ServicePage.restricted_to_departments.through
_locations = ServicePage.restricted_to_locations.through
_groups = ServicePage.restricted_to_groups.through


@dataclass(frozen=True)
class Audience:
    """The facts about a person that entitlements look at."""

    department_id: int | None
    location_id: int | None
    group_ids: frozenset[int]

    @classmethod
    def of(cls, user) -> "Audience":
        """The person's audience, read once per request (kept on the user)."""
        if not getattr(user, "is_authenticated", False):
            return cls(None, None, frozenset())
        audience = getattr(user, "_catalog_audience", None)
        if audience is None:
            audience, _ = _audience_and_restrictions(user, service_id=None)
        return audience


def _audience_and_restrictions(user, *, service_id: int | None):
    """The person's audience and, if asked, one service's restrictions, in one
    round trip: this runs on every catalog page."""
    sql = _AUDIENCE_SQL
    params = [user.pk, user.pk]
    if service_id is not None:
        sql = f"{sql} UNION ALL {_ONE_SERVICE_RESTRICTIONS_KIND_FIRST_SQL}"
        params += [service_id] * 3
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    department_id = location_id = None
    groups = set()
    restrictions = Restrictions()
    for kind, first, second in rows:
        if kind == "p":
            department_id, location_id = first, second
        elif kind == "m":
            groups.add(first)
        else:
            getattr(restrictions, _KIND_TO_FIELD[kind]).add(second)
    audience = Audience(department_id, location_id, frozenset(groups))
    user._catalog_audience = audience
    return audience, restrictions


def _profile(user):
    from catalog.models import UserProfile

    try:
        return user.profile
    except UserProfile.DoesNotExist:
        return None


@dataclass
class Restrictions:
    """Who a service is limited to; an empty set in a dimension means everyone."""

    departments: set[int] = field(default_factory=set)
    locations: set[int] = field(default_factory=set)
    groups: set[int] = field(default_factory=set)

    def failures(self, audience: Audience, *, include_groups: bool = True) -> list:
        """The rule, in one place: each restricted dimension the person fails."""
        failed = []
        if self.departments and audience.department_id not in self.departments:
            failed.append("departments")
        if self.locations and audience.location_id not in self.locations:
            failed.append("locations")
        if include_groups and self.groups and not self.groups & audience.group_ids:
            failed.append("groups")
        return failed

    def admits(self, audience: Audience, *, include_groups: bool = True) -> bool:
        return not self.failures(audience, include_groups=include_groups)


def _restrictions_sql(where: str, *, kind_first: bool = False) -> str:
    """Rows of (service, kind, value), or (kind, service, value) to union with
    the audience rows."""
    parts = [
        (
            f"SELECT '{kind}', servicepage_id, {column}"
            if kind_first
            else f"SELECT servicepage_id, '{kind}', {column}"
        )
        + f" FROM {through._meta.db_table}{where}"
        for kind, through, column in (
            ("d", _departments, "department_id"),
            ("l", _locations, "location_id"),
            ("g", _groups, "group_id"),
        )
    ]
    return " UNION ALL ".join(parts)


_ALL_RESTRICTIONS_SQL = _restrictions_sql("")
# Rows of (kind, a, b): the profile ("p", department, location) and each group
# membership ("m", group, NULL).
_AUDIENCE_SQL = (
    f"SELECT 'p', department_id, location_id FROM {UserProfile._meta.db_table} "
    "WHERE user_id = %s UNION ALL "
    "SELECT 'm', group_id, NULL FROM auth_user_groups WHERE user_id = %s"
)
_ONE_SERVICE_RESTRICTIONS_SQL = _restrictions_sql(" WHERE servicepage_id = %s")
_ONE_SERVICE_RESTRICTIONS_KIND_FIRST_SQL = _restrictions_sql(
    " WHERE servicepage_id = %s", kind_first=True
)
_KIND_TO_FIELD = {"d": "departments", "l": "locations", "g": "groups"}


def service_restrictions(service_id: int | None = None) -> dict[int, Restrictions]:
    """Restrictions of every restricted service (or of one), in one small query.

    Plain SQL on purpose: this runs on every catalog page, and building the
    equivalent ORM query cost more than the database took to answer it.
    """
    with connection.cursor() as cursor:
        if service_id is None:
            cursor.execute(_ALL_RESTRICTIONS_SQL)
        else:
            cursor.execute(_ONE_SERVICE_RESTRICTIONS_SQL, [service_id] * 3)
        rows = cursor.fetchall()
    result: dict[int, Restrictions] = {}
    for page_id, kind, value in rows:
        getattr(result.setdefault(page_id, Restrictions()), _KIND_TO_FIELD[kind]).add(
            value
        )
    return result


def _hidden_ids(audience: Audience, *, include_groups: bool = True) -> list[int]:
    return [
        page_id
        for page_id, restrictions in service_restrictions().items()
        if not restrictions.admits(audience, include_groups=include_groups)
    ]


def _live_except(hidden: list[int]):
    services = ServicePage.objects.live()
    return services.exclude(pk__in=hidden) if hidden else services


def visible_services(*, user):
    """Live services the person is entitled to see."""
    return _live_except(_hidden_ids(Audience.of(user)))


def services_person_may_have(*, person):
    """Live services ``person`` may receive when someone orders for them.

    Department and location restrictions say who may have a service; group
    restrictions say who may order it (only managers order a new starter bundle,
    for a new starter who is in no such group), so they apply to the orderer.
    """
    return _live_except(_hidden_ids(Audience.of(person), include_groups=False))


def service_is_visible(*, user, service: ServicePage) -> bool:
    if not service.live:
        return False
    if not getattr(user, "is_authenticated", False):
        restrictions = service_restrictions(service.pk).get(service.pk, Restrictions())
        return restrictions.admits(Audience.of(user))
    audience, restrictions = _audience_and_restrictions(user, service_id=service.pk)
    return restrictions.admits(audience)


@dataclass
class Visibility:
    service: ServicePage
    reasons: list[str] = field(default_factory=list)

    @property
    def visible(self) -> bool:
        return not self.reasons


def catalog_as_seen_by(*, user) -> list[Visibility]:
    """Every service with the reasons it is hidden from ``user`` (none if visible).

    Backs the admin's "view the catalog as" page; explains, where peers only hide.
    """
    audience = Audience.of(user)
    profile = _profile(user)
    restrictions = service_restrictions()
    services = (
        ServicePage.objects.defer(*LISTING_DEFERRED)
        .prefetch_related(
            "restricted_to_departments",
            "restricted_to_locations",
            "restricted_to_groups",
        )
        .order_by("path")
    )
    result = []
    for service in services:
        reasons = [] if service.live else ["Not published."]
        failed = restrictions.get(service.pk, Restrictions()).failures(audience)
        if "departments" in failed:
            theirs = profile.department.name if profile and profile.department else None
            reasons.append(
                "Only for the departments "
                + ", ".join(d.name for d in service.restricted_to_departments.all())
                + (f"; they are in {theirs}." if theirs else "; they have none.")
            )
        if "locations" in failed:
            theirs = profile.location.name if profile and profile.location else None
            reasons.append(
                "Only for people based in "
                + ", ".join(loc.name for loc in service.restricted_to_locations.all())
                + (f"; they are based in {theirs}." if theirs else "; they have none.")
            )
        if "groups" in failed:
            reasons.append(
                "Only for members of "
                + ", ".join(g.name for g in service.restricted_to_groups.all())
                + "."
            )
        result.append(Visibility(service=service, reasons=reasons))
    return result


def service_popularity() -> dict[int, int]:
    """Items ordered per service over the last 90 days, cached for ten minutes."""
    key = "catalog:popularity"
    counts = cache.get(key)
    if counts is None:
        since = timezone.now() - timedelta(days=POPULARITY_WINDOW_DAYS)
        counts = dict(
            RequestItem.objects.filter(created_at__gte=since, service__isnull=False)
            .values("service_id")
            .annotate(n=Count("id"))
            .values_list("service_id", "n")
        )
        cache.set(key, counts, POPULARITY_CACHE_SECONDS)
    return counts


def _by_popularity(queryset):
    counts = service_popularity()
    if not counts:
        return queryset.order_by("-featured", "title")
    rank = Case(
        *(When(pk=pk, then=Value(n)) for pk, n in counts.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    return queryset.annotate(popularity=rank).order_by("-popularity", "title")


def _categories_by_path() -> dict[str, CategoryPage]:
    return {
        c.path: c
        for c in CategoryPage.objects.live().only("title", "path", "icon", "url_path")
    }


def _with_categories(services, categories=None):
    categories = categories if categories is not None else _categories_by_path()
    for service in services:
        service.category = categories.get(service.path[: -ServicePage.steplen])
    return services


def catalog_version() -> str | None:
    """The catalog's version: a token the database replaces, in the same
    transaction, on every write to pages, service restrictions or delivery
    figures (``CatalogVersion``, kept by triggers). None if its row is missing,
    and then nothing may be cached.

    Read it before reading what is cached under it: a listing read the other way
    round could store the old list under the new version.
    """
    return CatalogVersion.objects.filter(pk=1).values_list("token", flat=True).first()


ROUTE_CACHE_SECONDS = 3600


def service_by_path(*, index, category_slug: str, service_slug: str):
    """The (category, service) pages at /services/<category>/<service>/, or None.

    Cached per catalog version: publishing, unpublishing, moving or deleting any
    page (or new delivery figures) starts a new version, so a cached page is
    never older than what is live.
    Whether the person may see it is checked on every request, after this.
    """
    version = catalog_version()
    raw = f"{version}|{index.pk}|{category_slug}|{service_slug}"
    key = "catalog:route:" + hashlib.sha256(raw.encode()).hexdigest()
    found = cache.get(key) if version is not None else None
    if found is None:
        category = (
            CategoryPage.objects.child_of(index).filter(slug=category_slug).first()
        )
        # The page's delivery figures come along (new figures start a new
        # catalog version, like any page change).
        service = (
            ServicePage.objects.child_of(category)
            .select_related("delivery_stats")
            .filter(slug=service_slug)
            .first()
            if category is not None
            else None
        )
        if service is None:
            return None
        found = (category, service)
        if version is not None:
            cache.set(key, found, ROUTE_CACHE_SECONDS)
    return found


def listing_params(params, *, category=None) -> QueryDict | None:
    """The parameters a listing understands, normalised, or None when the list
    must not be cached (a search, or a value no filter accepts).

    Anything else in the query string (tracking tags, junk) is left out, so it
    can neither multiply cache entries nor end up in the cached HTML: the list
    is rendered from these parameters, not from the request's.
    """
    if clean_query(params.get("q")):
        return None  # searches are logged, and promotions apply
    normal = QueryDict(mutable=True)
    choices = {
        "price": PRICE_BANDS,
        "delivery": DELIVERY_BANDS,
        "sort": {key: label for key, label in SORTS.items() if key != "relevance"},
    }
    for name, allowed in choices.items():
        value = params.get(name)
        if value:
            if value not in allowed:
                return None
            normal[name] = value
    if category is None and params.get("category"):
        # Only on the catalog index; a category page has its category already.
        number = _whole_number(params["category"])
        if number is None:
            return None
        normal["category"] = str(number)
    if forms.CheckboxInput().value_from_datadict(params, {}, "no_approval"):
        normal["no_approval"] = "on"
    if params.get("page"):
        number = _whole_number(params["page"])
        if number is None or number < 1:
            return None
        if number > 1:
            normal["page"] = str(number)
    normal._mutable = False
    return normal


def _whole_number(value: str) -> int | None:
    if value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return None


def listing_cache_key(*, user, params: QueryDict, category=None) -> str | None:
    """A cache key for a listing with ``listing_params``, or None when there is
    no catalog version to key it on.

    Everything that decides what the list shows is in the key: the person's
    audience (what they may see), the parameters, the catalog's version and the
    popularity window. The cache's key prefix adds the release.
    """
    version = catalog_version()
    if version is None:
        return None
    audience = Audience.of(user)
    parts = [
        version,
        str(int(time.time() // POPULARITY_CACHE_SECONDS)),
        str(category.pk if category is not None else 0),
        str(audience.department_id),
        str(audience.location_id),
        ",".join(map(str, sorted(audience.group_ids))),
        urlencode(sorted(params.items())),
    ]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"catalog:listing:{digest}"


def listing_is_cacheable(listing: dict, params: QueryDict) -> bool:
    """Whether a listing rendered from ``listing_params`` may be stored: every
    filter accepted (an unknown category is only found out by the query) and
    the page asked for is the page shown (not a page past the end)."""
    filterset = listing["filter"]
    if filterset.is_bound and filterset.form.errors:
        return False
    return listing["page_obj"].number == int(params.get("page", 1))


def clean_query(raw: str | None) -> str:
    """A search string safe for any backend: words only, bounded in length."""
    if not raw:
        return ""
    text = re.sub(r"[^\w\s'-]", " ", raw[: MAX_QUERY_LENGTH * 4])
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_QUERY_LENGTH].strip()


def _search_ranked_ids(query: str) -> list[int]:
    results = ServicePage.objects.live().search(query, operator="or")
    return [page.pk for page in results[:200]]


def _promoted(query: str, visible) -> list[ServicePage]:
    promoted_ids = list(
        SearchPromotion.objects.filter(
            query__query_string=normalise_query_string(query), page__isnull=False
        )
        .order_by("sort_order")
        .values_list("page_id", flat=True)
    )
    if not promoted_ids:
        return []
    found = {p.pk: p for p in visible.filter(pk__in=promoted_ids)}
    return [found[pk] for pk in promoted_ids if pk in found]


def service_listing(*, user, params, category: CategoryPage | None = None) -> dict:
    """The filtered, searched, sorted and paginated list of services for a person."""
    # Each card's delivery line: its figures joined in, no query per card.
    visible = (
        visible_services(user=user)
        .defer(*LISTING_DEFERRED)
        .select_related("delivery_stats")
    )
    scoped = visible.child_of(category) if category is not None else visible
    filterset = ServiceFilter(params or None, queryset=scoped, category=category)
    services = filterset.qs
    query = clean_query(params.get("q"))
    cleaned = filterset.form.cleaned_data if filterset.is_bound else {}
    sort = cleaned.get("sort") or ""
    if sort == "relevance":
        sort = ""  # the search's own order; without a search, the usual one

    promoted = []
    if query:
        ranked = _search_ranked_ids(query)
        services = services.filter(pk__in=ranked)
        if not sort:
            relevance = Case(
                *(When(pk=pk, then=Value(i)) for i, pk in enumerate(ranked)),
                output_field=IntegerField(),
            )
            services = services.annotate(relevance=relevance).order_by("relevance")
        promoted = _promoted(query, visible)
    if sort or not query:
        services = _sorted(services, sort or "popular")

    paginator = Paginator(services, settings.CATALOG_PAGE_SIZE)
    page_obj = paginator.get_page(params.get("page"))
    categories = _categories_by_path()
    _with_categories(page_obj.object_list, categories)
    _with_categories(promoted, categories)
    promoted_ids = {p.pk for p in promoted}
    return {
        "filter": filterset,
        "services": page_obj.object_list,
        "page_obj": page_obj,
        "query": query,
        "promoted": promoted,
        "promoted_ids": promoted_ids,
        "result_count": paginator.count,
        "sort": sort or ("relevance" if query else "popular"),
        "filters_active": any(
            cleaned.get(name)
            for name in ("category", "price", "delivery", "no_approval")
        ),
    }


def _sorted(services, sort: str):
    if sort == "name":
        return services.order_by("title")
    if sort == "price":
        return services.order_by("one_off_price", "monthly_price", "title")
    if sort == "-price":
        return services.order_by("-one_off_price", "-monthly_price", "title")
    if sort == "delivery":
        return services.order_by("delivery_days", "title")
    return _by_popularity(services)


def catalog_home(*, user) -> dict:
    """The shop window: categories with counts, featured and popular services."""
    visible = (
        visible_services(user=user)
        .defer(*LISTING_DEFERRED)
        .select_related("delivery_stats")
    )
    categories = list(CategoryPage.objects.live().order_by("title"))
    by_path = {c.path: c for c in categories}
    counts: dict[str, int] = {}
    for path in visible.values_list("path", flat=True):
        parent = path[: -ServicePage.steplen]
        counts[parent] = counts.get(parent, 0) + 1
    for category in categories:
        category.service_count = counts.get(category.path, 0)
    featured = _with_categories(
        list(visible.filter(featured=True).order_by("title")[:6]), by_path
    )
    # Without recent orders "popular" would only repeat the featured list.
    popular = (
        _with_categories(list(_by_popularity(visible)[:6]), by_path)
        if service_popularity()
        else []
    )
    return {
        "categories": [c for c in categories if c.service_count],
        "featured": featured,
        "popular": popular,
    }
