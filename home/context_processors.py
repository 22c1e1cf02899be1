"""Values every portal template needs: the currency, the basket count and the
approvals waiting for the person."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject


def portal(request):
    from catalog.selectors.approvals import approvals_nav
    from catalog.selectors.basket import basket_line_count

    user = getattr(request, "user", None)
    return {
        "CURRENCY": settings.CATALOG_CURRENCY,
        # Lazy: pages that don't show the header pay nothing.
        "basket_count": SimpleLazyObject(lambda: basket_line_count(user=user)),
        # One query, and only for someone logged in (the header asks for it).
        "approvals_nav": SimpleLazyObject(lambda: approvals_nav(user=user)),
    }
