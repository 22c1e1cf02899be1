"""Values every portal template needs: the currency and the basket count."""

from django.conf import settings


def portal(request):
    return {"CURRENCY": settings.CATALOG_CURRENCY}
