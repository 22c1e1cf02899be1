"""Values every portal template needs: the currency and the basket count."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject


def portal(request):
    from catalog.selectors.basket import basket_line_count

    user = getattr(request, "user", None)
    return {
        "CURRENCY": settings.CATALOG_CURRENCY,
        # Lazy: pages that don't show the header pay nothing.
        "basket_count": SimpleLazyObject(lambda: basket_line_count(user=user)),
    }
