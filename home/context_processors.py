"""Values every portal template needs: the currency, the catalog's address, the
basket count, the approvals waiting for the person and whether they see IT
costs."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject


def catalog_index_url(request) -> str:
    """Where the catalog index page is served (``/services/`` by default): its
    slug and place in the tree are the editors' to change, so links ask the page
    rather than spell its path. The home page if there is no live catalog."""
    from catalog.models import CatalogIndexPage

    index = CatalogIndexPage.objects.live().first()
    url = index.get_url(request) if index is not None else None
    return url or "/"


def portal(request):
    from catalog import permissions
    from catalog.selectors.approvals import approvals_nav
    from catalog.selectors.basket import basket_line_count

    user = getattr(request, "user", None)
    return {
        "CURRENCY": settings.CATALOG_CURRENCY,
        # Lazy: one query, only when a template links to the catalog.
        "catalog_url": SimpleLazyObject(lambda: catalog_index_url(request)),
        # Lazy: pages that don't show the header pay nothing.
        "basket_count": SimpleLazyObject(lambda: basket_line_count(user=user)),
        # One query, and only for someone logged in (the header asks for it).
        "approvals_nav": SimpleLazyObject(lambda: approvals_nav(user=user)),
        # The "IT costs" link: asked only when the header shows, never for
        # someone logged out (no query for them).
        "reports_nav": SimpleLazyObject(
            lambda: bool(
                user is not None
                and user.is_authenticated
                and permissions.can_view_reports(user)
            )
        ),
    }
