"""Values every portal template needs: the currency, the basket count, the
approvals waiting for the person and whether they see IT costs."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject


def portal(request):
    from catalog import permissions
    from catalog.selectors.approvals import approvals_nav
    from catalog.selectors.basket import basket_line_count

    user = getattr(request, "user", None)
    return {
        "CURRENCY": settings.CATALOG_CURRENCY,
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
