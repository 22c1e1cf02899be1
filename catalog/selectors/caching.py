"""What the catalog's read path keeps in the cache, and the version it is keyed on.

Everything cached here (a service page's route, a rendered listing) is keyed by
the catalog's version, which the database replaces on every write that can change
what someone sees (``CatalogVersion``), so nothing cached is older than what is
live. Who may see a page is still checked on every request, after the cache.
"""

import hashlib
import time

from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.http import urlencode

from catalog.models import CatalogVersion, CategoryPage, ServicePage
from catalog.selectors.entitlements import Audience
from catalog.selectors.listing import (
    POPULARITY_CACHE_SECONDS,
    listing_params,
    service_listing,
)
from home.sql import column, table

ROUTE_CACHE_SECONDS = 3600
LISTING_TEMPLATE = "includes/service_listing.html"
LISTING_CACHE_SECONDS = 600


def catalog_version() -> str | None:
    """The catalog's version: a token the database replaces, in the same
    transaction, on every write to pages, service restrictions or delivery
    figures (``CatalogVersion``, kept by triggers). None if its row is missing,
    and then nothing may be cached.

    Read it before reading what is cached under it: a listing read the other way
    round could store the old list under the new version. A page being served
    has read it already, first thing (``home.serve``), and that reading is the
    one its whole request uses. Otherwise one plain query (it runs on most
    pages, and the ORM took longer to build it than to run it).
    """
    from home.serve import served_version

    version = served_version()
    if version is not None:
        return version
    sql = (
        f"SELECT {column(CatalogVersion, 'token')} FROM {table(CatalogVersion)}"
        f" WHERE {column(CatalogVersion, 'id')} = 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return row[0] if row else None


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


def _audience_cache_key(kind: str, *, user, parts: list[str]) -> str | None:
    """A cache key for what ``user``'s audience sees of the catalog, or None when
    there is no catalog version to key it on.

    Everything that decides what is shown is in the key: the person's audience
    (what they may see), the ``parts`` the caller adds, the catalog's version
    and the popularity window. The cache's key prefix adds the release.
    """
    version = catalog_version()
    if version is None:
        return None
    audience = Audience.of(user)
    parts = [
        version,
        str(int(time.time() // POPULARITY_CACHE_SECONDS)),
        str(audience.department_id),
        str(audience.location_id),
        ",".join(map(str, sorted(audience.group_ids))),
        *parts,
    ]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"catalog:{kind}:{digest}"


def listing_cache_key(*, user, params: QueryDict, category=None) -> str | None:
    """A cache key for a listing with ``listing_params`` (see
    ``_audience_cache_key``)."""
    return _audience_cache_key(
        "listing",
        user=user,
        parts=[
            str(category.pk if category is not None else 0),
            urlencode(sorted(params.items())),
        ],
    )


HOME_CACHE_SECONDS = 600


def home_cache_key(*, user) -> str | None:
    """A cache key for the home page's shop window (categories, featured and
    popular services) as ``user``'s audience sees it (see
    ``_audience_cache_key``)."""
    return _audience_cache_key("home", user=user, parts=[])


def listing_is_cacheable(listing: dict, params: QueryDict) -> bool:
    """Whether a listing rendered from ``listing_params`` may be stored: every
    filter accepted (an unknown category is only found out by the query) and
    the page asked for is the page shown (not a page past the end)."""
    filterset = listing["filter"]
    if filterset.is_bound and filterset.form.errors:
        return False
    return listing["page_obj"].number == int(params.get("page", 1))


def listing_context(*, request, catalog_url: str, category=None) -> dict:
    """The listing for a catalog or category page, as ``listing_html`` and, when
    it was rendered now, the listing's own context (``service_listing``).

    Rendered from the cache when the same audience asked for the same list of
    the same catalog version: rendering a dozen cards and the filter form costs
    more than everything else on the page (bench/README.md). A cacheable list is
    rendered from the parameters the listing understands, never from the raw
    query string, so what is stored is the same whoever asked first. Searches
    are never cached, so a search's context always has its ``result_count``.
    """
    params = listing_params(request.GET, category=category)
    key = None
    if params is not None:
        key = listing_cache_key(user=request.user, params=params, category=category)
    html = cache.get(key) if key else None
    if html is not None:
        return {"listing_html": html, "query": ""}
    if params is None:
        params = request.GET
    context = service_listing(user=request.user, params=params, category=category)
    context["show_category"] = category is None
    context["catalog_url"] = catalog_url
    context["request"] = request
    context["listing_params"] = params
    context["listing_html"] = render_to_string(LISTING_TEMPLATE, context)
    if key and listing_is_cacheable(context, params):
        cache.set(key, context["listing_html"], LISTING_CACHE_SECONDS)
    return context
