"""Values every portal template needs: the currency, the catalog's address, the
header's figures (basket count, approvals waiting, the links only some people
get)."""

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
    from catalog.selectors.header import header_for, served_url

    user = getattr(request, "user", None)
    logged_in = user is not None and user.is_authenticated
    # Lazy, and one query for everything it holds, asked only when a template
    # shows the header (or a link to the catalog).
    header = SimpleLazyObject(lambda: header_for(user=user))
    return {
        "CURRENCY": settings.CATALOG_CURRENCY,
        "header": header,
        "catalog_url": SimpleLazyObject(
            lambda: (
                served_url(header.catalog_url_path)
                if logged_in
                else catalog_index_url(request)
            )
        ),
    }
