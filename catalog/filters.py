"""FilterSets for the storefront. They are applied inside
``catalog.selectors.catalog`` on a queryset that is already limited to what the
person may see, so a filter can never widen visibility."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q

from catalog.models import (
    CategoryPage,
    ItemStatus,
    RequestItem,
    ServicePage,
    ServiceRequest,
)

PRICE_BANDS = {
    "free": ("No charge", Q(one_off_price=0, monthly_price=0)),
    "under-100": ("Up to 100", Q(one_off_price__lte=Decimal("100"))),
    "100-500": (
        "100 to 500",
        Q(one_off_price__gt=Decimal("100"), one_off_price__lte=Decimal("500")),
    ),
    "over-500": ("Over 500", Q(one_off_price__gt=Decimal("500"))),
}
DELIVERY_BANDS = {
    "same-day": ("The same working day", 0),
    "3": ("Within 3 working days", 3),
    "5": ("Within a week", 5),
    "10": ("Within two weeks", 10),
}
SORTS = {
    "relevance": "Best match",  # offered only with a search
    "popular": "Most popular",
    "name": "Name (A to Z)",
    "price": "Price (low to high)",
    "-price": "Price (high to low)",
    "delivery": "Fastest delivery",
}


class ServiceFilter(django_filters.FilterSet):
    category = django_filters.ModelChoiceFilter(
        queryset=CategoryPage.objects.live().order_by("title"),
        method="filter_category",
        empty_label="All categories",
        label="Category",
    )
    price = django_filters.ChoiceFilter(
        choices=[(k, v[0]) for k, v in PRICE_BANDS.items()],
        method="filter_price",
        empty_label="Any price",
        label="One-off price",
    )
    delivery = django_filters.ChoiceFilter(
        choices=[(k, v[0]) for k, v in DELIVERY_BANDS.items()],
        method="filter_delivery",
        empty_label="Any time",
        label="Ready",
    )
    no_approval = django_filters.BooleanFilter(
        method="filter_no_approval",
        widget=forms.CheckboxInput,
        label="No approval needed",
    )
    sort = django_filters.ChoiceFilter(
        choices=list(SORTS.items()),
        method="filter_nothing",
        empty_label=None,
        label="Sort by",
    )

    class Meta:
        model = ServicePage
        fields = []

    def __init__(self, *args, category=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not (self.data or {}).get("q"):
            self.filters["sort"].extra["choices"] = [
                (key, label) for key, label in SORTS.items() if key != "relevance"
            ]
        if category is not None:
            # On a category page the category is fixed by the page itself.
            del self.filters["category"]

    def filter_category(self, queryset, name, value):
        return queryset.child_of(value) if value else queryset

    def filter_price(self, queryset, name, value):
        return queryset.filter(PRICE_BANDS[value][1]) if value else queryset

    def filter_delivery(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(delivery_days__lte=DELIVERY_BANDS[value][1])

    def filter_no_approval(self, queryset, name, value):
        return queryset.filter(requires_approval=False) if value else queryset

    def filter_nothing(self, queryset, name, value):
        # Sorting needs popularity and search relevance, so the selector does it.
        return queryset


class RequestFilter(django_filters.FilterSet):
    """My requests: by the status of any item, and by date submitted."""

    status = django_filters.ChoiceFilter(
        choices=ItemStatus.choices,
        method="filter_status",
        empty_label="Any status",
        label="Status",
    )
    submitted_from = django_filters.DateFilter(
        field_name="submitted_at",
        lookup_expr="date__gte",
        label="Submitted from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    submitted_to = django_filters.DateFilter(
        field_name="submitted_at",
        lookup_expr="date__lte",
        label="to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = ServiceRequest
        fields = []

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            Exists(RequestItem.objects.filter(request=OuterRef("pk"), status=value))
        )
