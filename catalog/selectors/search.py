"""Searching the catalog: the cleaned query, the search backend's ranking and the
editors' promoted results. Who may see a result is decided by the list it
narrows (``catalog.selectors.listing``)."""

import re

from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.search.utils import normalise_query_string

from catalog.models import ServicePage

MAX_QUERY_LENGTH = 100
MAX_RANKED_RESULTS = 200


def clean_query(raw: str | None) -> str:
    """A search string safe for any backend: words only, bounded in length."""
    if not raw:
        return ""
    text = re.sub(r"[^\w\s'-]", " ", raw[: MAX_QUERY_LENGTH * 4])
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_QUERY_LENGTH].strip()


def ranked_service_ids(query: str) -> list[int]:
    """Ids of the live services matching any word of ``query``, best first."""
    results = ServicePage.objects.live().search(query, operator="or")
    return [page.pk for page in results[:MAX_RANKED_RESULTS]]


def promoted_services(query: str, visible) -> list[ServicePage]:
    """The services editors promoted for ``query``, in their order, among
    ``visible`` (the person's own services): a promotion never shows a service
    the person may not see."""
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
