"""Lists of services a person may see: the storefront's listing (filters, search,
sorting, pages), the home page's shop window and the popularity they sort by."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import QueryDict
from django.utils import timezone

from catalog.filters import DELIVERY_BANDS, PRICE_BANDS, SORTS, ServiceFilter
from catalog.models import CategoryPage, RequestItem, ServicePage
from catalog.selectors.entitlements import LISTING_DEFERRED, visible_services
from catalog.selectors.search import clean_query, promoted_services, ranked_service_ids

POPULARITY_WINDOW_DAYS = 90
POPULARITY_CACHE_SECONDS = 600


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


def _listed(*, user):
    """The person's services, with what a card shows and nothing more: each
    card's delivery line comes joined in, no query per card."""
    return (
        visible_services(user=user)
        .defer(*LISTING_DEFERRED)
        .select_related("delivery_stats")
    )


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


def ask_it_service(visible) -> ServicePage | None:
    """The service for anything not in the catalog, among ``visible`` (see
    ``settings.CATALOG_ASK_IT_SLUG``), if the person may order it."""
    slug = settings.CATALOG_ASK_IT_SLUG
    if not slug:
        return None
    return visible.filter(slug=slug, orderable=True).first()


def service_listing(*, user, params, category: CategoryPage | None = None) -> dict:
    """The filtered, searched, sorted and paginated list of services for a person."""
    visible = _listed(user=user)
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
        ranked = ranked_service_ids(query)
        services = services.filter(pk__in=ranked)
        if not sort:
            relevance = Case(
                *(When(pk=pk, then=Value(i)) for i, pk in enumerate(ranked)),
                output_field=IntegerField(),
            )
            services = services.annotate(relevance=relevance).order_by("relevance")
        promoted = promoted_services(query, visible)
    if sort or not query:
        services = _sorted(services, sort or "popular")

    paginator = Paginator(services, settings.CATALOG_PAGE_SIZE)
    page_obj = paginator.get_page(params.get("page"))
    categories = _categories_by_path()
    _with_categories(page_obj.object_list, categories)
    _with_categories(promoted, categories)
    promoted_ids = {p.pk for p in promoted}
    nothing_found = not paginator.count and not promoted
    return {
        "ask_it": ask_it_service(visible) if nothing_found else None,
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


def catalog_home(*, user) -> dict:
    """The shop window: categories with counts, featured and popular services."""
    visible = _listed(user=user)
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
