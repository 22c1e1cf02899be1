"""FilterSets for the storefront. They are applied inside
``catalog.selectors.listing`` on a queryset that is already limited to what the
person may see, so a filter can never widen visibility."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone

from catalog.exceptions import NotFoundForUser
from catalog.forms import InlineSelect, PlainTextMixin
from catalog.ids import parse_id
from catalog.models import (
    CategoryPage,
    CostCentre,
    DailyRollup,
    Department,
    ItemFact,
    ItemStatus,
    RequestItem,
    ServicePage,
    ServiceRequest,
)
from catalog.selectors.due import at_risk_condition, breached_condition
from catalog.selectors.reporting.period import KINDS

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


class FilterForm(PlainTextMixin, forms.Form):
    """The form of every FilterSet here: text refused the house's way."""


# Every drop-down of these filters is drawn in Python (``InlineSelect``): the
# same HTML as Django's widget templates, without two template includes per
# option. A list page's filters hold a few dozen options, the executive ones
# near a hundred.


class ChoiceField(django_filters.fields.ChoiceField):
    widget = InlineSelect


class ChoiceFilter(django_filters.ChoiceFilter):
    field_class = ChoiceField


class IdModelChoiceField(django_filters.fields.ModelChoiceField):
    """A choice by id: anything that isn't an id (junk, or a number too large
    for the database's integers) is "choose from the list", never a query."""

    widget = InlineSelect

    def to_python(self, value):
        if value not in self.empty_values and parse_id(value) is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class IdModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = IdModelChoiceField


class ServiceFilter(django_filters.FilterSet):
    category = IdModelChoiceFilter(
        queryset=CategoryPage.objects.live().order_by("title"),
        method="filter_category",
        empty_label="All categories",
        label="Category",
    )
    price = ChoiceFilter(
        choices=[(k, v[0]) for k, v in PRICE_BANDS.items()],
        method="filter_price",
        empty_label="Any price",
        label="One-off price",
    )
    delivery = ChoiceFilter(
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
    sort = ChoiceFilter(
        choices=list(SORTS.items()),
        method="applied_elsewhere",
        empty_label=None,
        label="Sort by",
    )

    class Meta:
        model = ServicePage
        fields = []
        form = FilterForm

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

    def applied_elsewhere(self, queryset, name, value):
        # Sorting needs popularity and search relevance, so the selector does it.
        return queryset


def _start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in the portal's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


class RequestFilter(django_filters.FilterSet):
    """My requests: by the status of any item, and by date submitted. A status
    is filtered on the person's items (``my_requests`` hands items over then),
    the dates on either, since items copy their request's date."""

    status = ChoiceFilter(
        choices=ItemStatus.choices,
        method="filter_status",
        empty_label="Any status",
        label="Status",
    )
    # Days in the portal's time zone, compared as a range of times rather than
    # the date of each request's time, so the person's index serves the range.
    submitted_from = django_filters.DateFilter(
        method="filter_from",
        label="Submitted from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    submitted_to = django_filters.DateFilter(
        method="filter_to",
        label="to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = ServiceRequest
        fields = []
        form = FilterForm

    def filter_status(self, queryset, name, value):
        return queryset.filter(status=value) if value else queryset

    def filter_from(self, queryset, name, value):
        return queryset.filter(submitted_at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(submitted_at__lt=_start_of(value + timedelta(days=1)))


# --- The fulfilment queue (Wagtail admin) ---------------------------------------------

QUEUE_STATUS_CHOICES = [
    (status.value, status.label)
    for status in (
        ItemStatus.SUBMITTED,
        ItemStatus.APPROVED,
        ItemStatus.IN_PROGRESS,
        ItemStatus.ON_HOLD,
    )
]
DUE_CHOICES = [
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("week", "Due this week"),
]
AGE_CHOICES = [
    ("day", "Under a day"),
    ("1-3", "1 to 3 days"),
    ("3-7", "3 to 7 days"),
    ("week", "Over a week"),
]
QUEUE_SORTS = {
    "internal_due": "Internal due, soonest",
    "customer_due": "Customer due, soonest",
    "age": "Oldest first",
    "service": "Service, A to Z",
}


def _queue_order(sort: str) -> list:
    return {
        "internal_due": [F("internal_resolution_due_at").asc(nulls_last=True)],
        "customer_due": [F("resolution_due_at").asc(nulls_last=True)],
        "age": [F("created_at").asc()],
        "service": [F("service_name").asc()],
    }[sort] + ["created_at", "pk"]


class QueueFilter(django_filters.FilterSet):
    """The fulfilment queue's filters and sort orders. It works on the queryset
    ``catalog.selectors.queue.fulfilment_queue`` builds: already limited to the
    person's teams.

    Times are compared with ``now`` (given, so a page is consistent with itself
    and tests can fix it); "today" and "this week" are in the portal's time zone,
    and the due filters look at the internal due time, which is the one the team
    works to."""

    status = django_filters.MultipleChoiceFilter(
        choices=QUEUE_STATUS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Status",
        # A column of the item itself: no join, so no duplicate rows to remove
        # (DISTINCT would make the count sort the whole queue).
        distinct=False,
    )
    # Choices from the person's teams, read once for the page.
    group = ChoiceFilter(
        choices=[],
        method="filter_group",
        empty_label="All my teams",
        label="Team",
    )
    service = django_filters.CharFilter(
        field_name="service_name",
        lookup_expr="icontains",
        label="Service",
        # Service names are at most 255 characters; SQLite refuses a LIKE
        # pattern over 50,000 bytes.
        max_length=255,
        error_messages={"max_length": "Type at most 255 characters of its name."},
    )
    assignee = ChoiceFilter(
        choices=[],
        method="filter_assignee",
        empty_label="Anyone",
        label="Assigned to",
    )
    due = ChoiceFilter(
        choices=DUE_CHOICES,
        method="filter_due",
        empty_label="Any time",
        label="Internal due",
    )
    at_risk = django_filters.BooleanFilter(
        method="filter_at_risk", widget=forms.CheckboxInput, label="At risk"
    )
    breached = django_filters.BooleanFilter(
        method="filter_breached", widget=forms.CheckboxInput, label="Breached"
    )
    age = ChoiceFilter(
        choices=AGE_CHOICES,
        method="filter_age",
        empty_label="Any age",
        label="Age",
    )
    sort = ChoiceFilter(
        choices=list(QUEUE_SORTS.items()),
        method="applied_elsewhere",
        empty_label=None,
        label="Sort by",
    )

    class Meta:
        model = RequestItem
        fields = []
        form = FilterForm

    def __init__(self, *args, user, groups, people, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.now = now
        self.filters["group"].extra["choices"] = [
            (str(group.pk), group.name) for group in groups
        ]
        self.filters["assignee"].extra["choices"] = [
            ("me", "Me"),
            ("none", "Nobody yet"),
            *[
                (str(person.pk), person.get_full_name() or person.get_username())
                for person in people
                if person.pk != user.pk
            ],
        ]

    @property
    def qs(self):
        if not hasattr(self, "_qs"):
            sort = "internal_due"
            if self.is_bound and self.form.is_valid():
                sort = self.form.cleaned_data.get("sort") or sort
            self._qs = super().qs.order_by(*_queue_order(sort))
        return self._qs

    def filter_group(self, queryset, name, value):
        return queryset.filter(fulfilment_group_id=int(value)) if value else queryset

    def filter_assignee(self, queryset, name, value):
        if not value:
            return queryset
        if value == "me":
            return queryset.filter(assigned_to=self.user)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        return queryset.filter(assigned_to_id=int(value))

    def _today_ends(self):
        today = timezone.localtime(self.now).date()
        zone = timezone.get_current_timezone()
        tomorrow = datetime.combine(today + timedelta(days=1), time(0), zone)
        next_monday = datetime.combine(
            today + timedelta(days=7 - today.weekday()), time(0), zone
        )
        return tomorrow, next_monday

    def filter_due(self, queryset, name, value):
        if not value:
            return queryset
        due = "internal_resolution_due_at"
        if value == "overdue":
            return queryset.filter(**{f"{due}__lte": self.now})
        tomorrow, next_monday = self._today_ends()
        end = tomorrow if value == "today" else next_monday
        return queryset.filter(**{f"{due}__gt": self.now, f"{due}__lt": end})

    def filter_at_risk(self, queryset, name, value):
        return queryset.filter(at_risk_condition(self.now)) if value else queryset

    def filter_breached(self, queryset, name, value):
        return queryset.filter(breached_condition(self.now)) if value else queryset

    def filter_age(self, queryset, name, value):
        if not value:
            return queryset
        day = timedelta(days=1)
        # (created after, created at or before)
        newer, older = {
            "day": (self.now - day, None),
            "1-3": (self.now - 3 * day, self.now - day),
            "3-7": (self.now - 7 * day, self.now - 3 * day),
            "week": (None, self.now - 7 * day),
        }[value]
        if newer is not None:
            queryset = queryset.filter(created_at__gt=newer)
        if older is not None:
            queryset = queryset.filter(created_at__lte=older)
        return queryset

    def applied_elsewhere(self, queryset, name, value):
        # The sort is applied after every filter, in ``qs``, so it has a default.
        return queryset


# --- The executive figures ------------------------------------------------------------

REPORT_METRICS = {
    "delivered": "Delivered",
    "submitted": "Requested",
    "spend": "Spend (one-off and recurring)",
    "recurring": "Recurring charges",
    "approved": "Approved",
    "response": "First response, customer target (SLA)",
    "internal_response": "First response, internal target (OLA)",
    "resolution": "Delivery, customer target (SLA)",
    "internal_resolution": "Delivery, internal target (OLA)",
    "breached": "Delivered late (customer target missed)",
    "delivery_time": "Time to deliver",
    "rated": "Rated",
    "backlog": "Open now",
    "at_risk": "At risk now",
}
BACKLOG_AGES = {
    "0-1": ("Under 1 day", 0, 1),
    "1-3": ("1 to 3 days", 1, 3),
    "3-7": ("3 to 7 days", 3, 7),
    "7-30": ("7 to 30 days", 7, 30),
    "30+": ("Over 30 days", 30, None),
}
MONTH_CHOICES = [(str(n), date(2000, n, 1).strftime("%B")) for n in range(1, 13)]
QUARTER_CHOICES = [
    ("1", "Q1 (January to March)"),
    ("2", "Q2 (April to June)"),
    ("3", "Q3 (July to September)"),
    ("4", "Q4 (October to December)"),
]


def _report_field(queryset, dimension: str) -> str:
    """Where a dimension lives: the facts and rollups carry it; a live request
    item has it on its request (cost centre) or copied onto itself (names)."""
    if queryset.model is RequestItem and dimension == "cost_centre":
        return "request__cost_centre"
    return dimension


class WholeNumberFilter(django_filters.Filter):
    field_class = forms.IntegerField


class ScopedModelChoiceField(django_filters.fields.ModelChoiceField):
    """A choice by id among what the viewer may see. Junk is a field error; a
    well-formed id the viewer may not see (another department's, or none at all)
    is "not found", so other departments' ids reveal nothing."""

    widget = InlineSelect

    def __init__(self, *args, not_found: str = "Not found.", **kwargs):
        self.not_found = not_found
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not str(value).isdigit():
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise NotFoundForUser(self.not_found) from None


class ScopedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = ScopedModelChoiceField


class NamedChoiceField(ChoiceField):
    """A choice by name among ``choices``, also accepting a name that
    ``also_known(name)`` recognises (a service since renamed or removed from the
    catalog, whose items still count under the name they were ordered by)."""

    def __init__(self, *args, also_known=None, **kwargs):
        self.also_known = also_known
        super().__init__(*args, **kwargs)

    def valid_value(self, value):
        if super().valid_value(value):
            return True
        if (
            self.also_known is not None
            and len(value) <= 255
            and "\x00" not in value
            and self.also_known(value)
        ):
            self.choices = [*self.choices, (value, value)]
            return True
        return False


class NamedChoiceFilter(ChoiceFilter):
    field_class = NamedChoiceField


class ReportFilter(django_filters.FilterSet):
    """What the executive figures are for: a period, and optionally a department
    (for whole-company viewers), a cost centre, a category and a service.

    The period fields only say which days count; each figure applies them to its
    own date (delivered, submitted, approved or held), so the selectors read the
    resolved period rather than filtering here. The other filters narrow any
    reporting queryset (facts, rollups or live request items) that the selector
    has already limited to the viewer's scope. The department narrows the scope
    itself (``reporting_scope``), which is where an unknown or another
    department's id becomes a 404.
    """

    period = ChoiceFilter(
        choices=KINDS,
        empty_label=None,
        method="applied_elsewhere",
        label="Period",
        error_messages={"invalid_choice": "Choose a month, quarter, year or dates."},
    )
    year = WholeNumberFilter(
        method="applied_elsewhere",
        label="Year",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "Enter a year as four digits, like 2025."},
    )
    month = ChoiceFilter(
        choices=MONTH_CHOICES,
        empty_label=None,
        method="applied_elsewhere",
        label="Month",
        error_messages={"invalid_choice": "Choose a month from the list."},
    )
    quarter = ChoiceFilter(
        choices=QUARTER_CHOICES,
        empty_label=None,
        method="applied_elsewhere",
        label="Quarter",
        error_messages={"invalid_choice": "Choose a quarter from the list."},
    )
    date_from = django_filters.DateFilter(
        method="applied_elsewhere",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a real date, like 2025-01-31."},
    )
    date_to = django_filters.DateFilter(
        method="applied_elsewhere",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a real date, like 2025-12-31."},
    )
    department = ChoiceFilter(
        choices=[],
        empty_label="Whole company",
        method="applied_elsewhere",
        label="Department",
        error_messages={"invalid_choice": "Choose a department from the list."},
    )
    cost_centre = ScopedModelChoiceFilter(
        queryset=CostCentre.objects.none(),
        method="filter_cost_centre",
        empty_label="All cost centres",
        label="Cost centre",
        not_found="No such cost centre.",
        error_messages={"invalid_choice": "Choose a cost centre from the list."},
    )
    category = ChoiceFilter(
        choices=[],
        empty_label="All categories",
        method="filter_category",
        label="Category",
        error_messages={"invalid_choice": "Choose a category from the list."},
    )
    service = NamedChoiceFilter(
        choices=[],
        empty_label="All services",
        method="filter_service",
        label="Service",
        error_messages={"invalid_choice": "Choose a service from the list."},
    )

    class Meta:
        model = ItemFact
        fields = []
        form = FilterForm

    def __init__(self, data=None, *, scope, whole_company_viewer: bool, **kwargs):
        super().__init__(data, **kwargs)
        self.scope = scope
        if whole_company_viewer:
            self.filters["department"].extra["choices"] = lambda: [
                (str(pk), name)
                for pk, name in Department.objects.order_by("name").values_list(
                    "pk", "name"
                )
            ]
        else:
            # Department executives see their own department only; the scope
            # already answered 404 for anything else in the URL.
            del self.filters["department"]
        self.filters["cost_centre"].queryset = self._cost_centres()
        self.filters["category"].extra["choices"] = lambda: [
            (title, title)
            for title in CategoryPage.objects.live()
            .order_by("title")
            .values_list("title", flat=True)
            .distinct()
        ]
        self.filters["service"].extra["choices"] = lambda: [
            (title, title)
            for title in ServicePage.objects.live()
            .order_by("title")
            .values_list("title", flat=True)
            .distinct()
        ]
        self.filters["service"].extra["also_known"] = lambda name: (
            ItemFact.objects.filter(service_name=name).exists()
        )

    def _cost_centres(self):
        """Every cost centre for the whole company; for a department, its own
        and any its requests were charged to."""
        centres = CostCentre.objects.order_by("code")
        if self.scope.whole_company:
            return centres
        ids = self.scope.department_ids
        return centres.filter(
            Q(departments__in=ids)
            | Q(
                pk__in=DailyRollup.objects.filter(department_id__in=ids).values(
                    "cost_centre_id"
                )
            )
        ).distinct()

    def applied_elsewhere(self, queryset, name, value):
        # The period, department, figure and age are checked by the form here and
        # applied by the reporting selectors (period and scope, not a filter).
        return queryset

    def filter_cost_centre(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(**{_report_field(queryset, "cost_centre"): value})

    def filter_category(self, queryset, name, value):
        return queryset.filter(category_name=value) if value else queryset

    def filter_service(self, queryset, name, value):
        return queryset.filter(service_name=value) if value else queryset


class ReportItemsFilter(ReportFilter):
    """The items behind one figure: the dashboard's filters, plus which figure
    (and for the open backlog, which age)."""

    metric = ChoiceFilter(
        choices=list(REPORT_METRICS.items()),
        empty_label=None,
        method="applied_elsewhere",
        label="Figure",
        error_messages={"invalid_choice": "Choose a figure from the list."},
    )
    age = ChoiceFilter(
        choices=[(key, value[0]) for key, value in BACKLOG_AGES.items()],
        empty_label="Any age",
        method="applied_elsewhere",
        label="Open for",
        error_messages={"invalid_choice": "Choose an age from the list."},
    )
