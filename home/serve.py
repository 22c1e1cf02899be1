"""Serving the site's pages, with each process remembering what Wagtail would
otherwise look up again on every request: the site for a host name, the page a
path leads to, and the view restrictions on that page and its ancestors.

Why: on a page with no work of its own those look-ups were about half of the
request (a Site query, a tree walk with a query per level, two restriction
queries), more than the page's own content (bench/README.md, "The shell").

Why it is correct: everything remembered is kept under the catalog's version
(``CatalogVersion``), a token the database replaces in the same transaction as
any write to pages, sites or view restrictions (triggers, migrations 0017 and
0018). Each request reads the token (one query) before anything remembered; a
new token starts an empty memo, so a publish, move, unpublish, new site or new
restriction is seen by every process on its next request. Only what routing
returns is remembered; who may see a page (entitlements, view restrictions) is
still decided on every request, and previews are served by Wagtail's admin, not
here.
"""

import threading
from dataclasses import dataclass, field

from django.http.request import split_domain_port
from wagtail.models import Page, Site
from wagtail.models.sites import get_site_for_hostname

# Bounds, so a process's memory does not grow with odd URLs between two
# versions: the demo catalog has about 50 pages.
MAX_ROUTES = 5000
MAX_SITES = 50


@dataclass
class Memo:
    version: str
    sites: dict = field(default_factory=dict)
    routes: dict = field(default_factory=dict)
    restrictions: dict = field(default_factory=dict)


_memo: Memo | None = None
_local = threading.local()


def served_version() -> str | None:
    """The catalog version the page being served was read under (None outside
    a served page): one reading for the whole request."""
    memo = getattr(_local, "memo", None)
    return memo.version if memo is not None else None


def _memo_for(version: str | None) -> Memo | None:
    global _memo
    if version is None:
        return None
    memo = _memo
    if memo is None or memo.version != version:
        memo = _memo = Memo(version=version)
    return memo


def _site(memo: Memo, request):
    hostname = split_domain_port(request._get_raw_host())[0]
    key = (hostname, request.get_port())
    if key not in memo.sites:
        try:
            site = get_site_for_hostname(*key)
        except Site.DoesNotExist:
            site = None
        if len(memo.sites) < MAX_SITES:
            memo.sites[key] = site
        return site
    return memo.sites[key]


def _route(memo: Memo, request, site, path: str):
    key = (site.pk, path)
    route = memo.routes.get(key)
    if route is None:
        route = Page.route_for_request(request, path)
        page, args, kwargs = route if route is not None else (None, (), {})
        # Only a plain page route is remembered (no arguments from a routable
        # page), and a path that leads nowhere is not.
        plain = page is not None and not args and not kwargs
        if plain and len(memo.routes) < MAX_ROUTES:
            memo.routes[key] = route
    request._wagtail_route_for_request = route
    return route


def view_restrictions(page):
    """The view restrictions on ``page`` and its ancestors, remembered for the
    version being served; Wagtail's own query outside a served request."""
    memo = getattr(_local, "memo", None)
    if memo is None:
        return None
    if page.pk not in memo.restrictions:
        memo.restrictions[page.pk] = list(Page.get_view_restrictions(page))
    return memo.restrictions[page.pk]


class RememberedRestrictionsMixin:
    """For page models: ``get_view_restrictions`` answered from the memo while a
    request is being served (Wagtail's privacy check asks it on every view)."""

    def get_view_restrictions(self):
        remembered = view_restrictions(self)
        if remembered is None:
            return super().get_view_restrictions()
        return remembered


def serve(request, path):
    """Wagtail's own ``serve`` view (its hooks, its privacy check), with the site
    and the route it would look up taken from the memo: Wagtail reads both from
    the request when they are there."""
    # Not at the top: wagtail.views loads the page model, and page models import
    # this module.
    from wagtail.views import serve as wagtail_serve

    from catalog.selectors.caching import catalog_version

    memo = _memo_for(catalog_version())
    if memo is None:
        return wagtail_serve(request, path)
    _local.memo = memo
    try:
        request._wagtail_site = site = _site(memo, request)
        if site is not None:
            _route(memo, request, site, path)
        return wagtail_serve(request, path)
    finally:
        _local.memo = None
