"""Recording what people search for, so editors can see what found nothing."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from wagtail.contrib.search_promotions.models import Query
from wagtail.search.utils import normalise_query_string

from catalog.models import SearchMiss


def search_record(*, query: str, result_count: int) -> None:
    """Count a search for Wagtail's popular-searches report, and a miss if it found
    nothing. Called only for cleaned, bounded query strings."""
    if not query:
        return
    normalised = normalise_query_string(query)[:255]
    with transaction.atomic():
        Query.get(normalised).add_hit()
        if result_count == 0:
            miss, created = SearchMiss.objects.get_or_create(
                query_string=normalised, defaults={"count": 1}
            )
            if not created:
                SearchMiss.objects.filter(pk=miss.pk).update(
                    count=F("count") + 1, last_seen=timezone.now()
                )
