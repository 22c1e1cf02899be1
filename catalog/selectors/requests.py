"""Reading requests with their rules: people see the requests they placed or that
were placed for them; fulfillers see the queue (a later issue)."""

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from catalog import permissions
from catalog.exceptions import NotFoundForUser
from catalog.filters import RequestFilter
from catalog.models import (
    CostCentre,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceRequest,
    UserProfile,
)

REQUESTS_PER_PAGE = 20
MONEY = DecimalField(max_digits=14, decimal_places=2)


def default_cost_centre(person) -> CostCentre | None:
    """The cost centre of the person's department: who pays by default."""
    profile = (
        UserProfile.objects.select_related("department__cost_centre")
        .filter(user=person)
        .first()
    )
    if profile and profile.department:
        return profile.department.cost_centre
    return None


def people_to_order_for(*, user):
    """Whom this person may choose as "the request is for"."""
    people = get_user_model().objects.filter(is_active=True)
    if not permissions.can_order_on_behalf(user):
        return people.filter(pk=user.pk)
    return people.order_by("first_name", "last_name", "username")


def _mine(user):
    return ServiceRequest.objects.filter(Q(requested_by=user) | Q(requested_for=user))


def my_requests(*, user, params) -> dict:
    requests = _mine(user).annotate(
        item_count=Count("items"),
        one_off_total=Coalesce(
            Sum(F("items__one_off_price") * F("items__quantity"), output_field=MONEY),
            Value(0, output_field=MONEY),
        ),
        monthly_total=Coalesce(
            Sum(F("items__monthly_price") * F("items__quantity"), output_field=MONEY),
            Value(0, output_field=MONEY),
        ),
    )
    filterset = RequestFilter(params or None, queryset=requests)
    requests = (
        filterset.qs.select_related("requested_for", "requested_by")
        .prefetch_related(
            Prefetch("items", queryset=RequestItem.objects.order_by("line_number"))
        )
        .order_by("-submitted_at", "-pk")
    )
    page_obj = Paginator(requests, REQUESTS_PER_PAGE).get_page(params.get("page"))
    return {"filter": filterset, "page_obj": page_obj, "requests": page_obj.object_list}


def request_detail(*, user, request_id) -> ServiceRequest:
    service_request = (
        ServiceRequest.objects.select_related(
            "requested_by", "requested_for", "cost_centre", "department"
        )
        .prefetch_related(
            Prefetch("items", queryset=RequestItem.objects.order_by("line_number")),
            Prefetch(
                "events",
                queryset=RequestEvent.objects.select_related("item").order_by(
                    "sequence"
                ),
            ),
        )
        .filter(pk=request_id)
        .first()
    )
    if service_request is None or not permissions.can_view_request(
        user, service_request
    ):
        raise NotFoundForUser("No such request.")
    return service_request


def held_services(*, user):
    """Services the person holds: delivered items with a monthly price that have
    not been removed. ``removal_pending`` marks those with a removal under way."""
    removals = RequestItem.objects.filter(removes_item=OuterRef("pk"))
    return (
        RequestItem.objects.filter(
            request__requested_for=user,
            status__in=[ItemStatus.FULFILLED, ItemStatus.CLOSED],
            monthly_price__gt=0,
            removes_item__isnull=True,
        )
        .exclude(
            Exists(
                removals.filter(status__in=[ItemStatus.FULFILLED, ItemStatus.CLOSED])
            )
        )
        .annotate(
            removal_pending=Exists(
                removals.exclude(
                    status__in=[
                        ItemStatus.FULFILLED,
                        ItemStatus.CLOSED,
                        ItemStatus.REJECTED,
                        ItemStatus.CANCELLED,
                    ]
                )
            ),
        )
        .select_related("request")
        .order_by("service_name", "fulfilled_at")
    )
