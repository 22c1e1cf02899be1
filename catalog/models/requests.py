"""The request log, the system of record: requests, their items, and the
append-only, hash-chained events that record everything that happened to them.

Items copy what was ordered (name, prices, service-level targets, answers with
their labels) so the record survives later edits and deletions in the catalog.
"""

from types import MappingProxyType

from django.conf import settings
from django.db import models
from django.db.models import Q


class ItemStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Not approved"
    IN_PROGRESS = "in_progress", "Being worked on"
    ON_HOLD = "on_hold", "On hold"
    FULFILLED = "fulfilled", "Delivered"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


# Read from one table: the model's get_status_display() builds its table again
# on every call (4.7 µs against 0.5; a tenth of My requests' rows in the
# profile, bench/README.md "A list's rows").
_STATUS_WORDS = dict(ItemStatus.choices)


def status_words(state):
    """An item's status in words (``in_progress`` → ``Being worked on``);
    anything else as it is."""
    return _STATUS_WORDS.get(state, state)


# The one table of allowed moves. Who may make each move is decided in
# catalog.permissions; this table only says which moves exist. An item that needs
# approval starts in AWAITING_APPROVAL; others start in SUBMITTED.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    ItemStatus.SUBMITTED: frozenset({ItemStatus.IN_PROGRESS, ItemStatus.CANCELLED}),
    ItemStatus.AWAITING_APPROVAL: frozenset(
        {ItemStatus.APPROVED, ItemStatus.REJECTED, ItemStatus.CANCELLED}
    ),
    ItemStatus.APPROVED: frozenset({ItemStatus.IN_PROGRESS, ItemStatus.CANCELLED}),
    ItemStatus.REJECTED: frozenset({ItemStatus.CLOSED}),
    ItemStatus.IN_PROGRESS: frozenset(
        {ItemStatus.ON_HOLD, ItemStatus.FULFILLED, ItemStatus.CANCELLED}
    ),
    ItemStatus.ON_HOLD: frozenset({ItemStatus.IN_PROGRESS, ItemStatus.CANCELLED}),
    ItemStatus.FULFILLED: frozenset({ItemStatus.CLOSED, ItemStatus.IN_PROGRESS}),
    ItemStatus.CLOSED: frozenset(),
    ItemStatus.CANCELLED: frozenset(),
}
# States in which nobody has started work, so the requester may still cancel.
NOT_STARTED = frozenset(
    {ItemStatus.SUBMITTED, ItemStatus.AWAITING_APPROVAL, ItemStatus.APPROVED}
)
OPEN_STATES = frozenset(
    {
        ItemStatus.SUBMITTED,
        ItemStatus.AWAITING_APPROVAL,
        ItemStatus.APPROVED,
        ItemStatus.IN_PROGRESS,
        ItemStatus.ON_HOLD,
    }
)
# Open and past approval: in the fulfilment queue, with a running clock.
QUEUE_STATES = frozenset(
    {
        ItemStatus.SUBMITTED,
        ItemStatus.APPROVED,
        ItemStatus.IN_PROGRESS,
        ItemStatus.ON_HOLD,
    }
)
# When the scheduled check recorded each target's breach
# (catalog.services.sweep): an item with any of them is breached for good.
BREACH_RECORDS = (
    "response_breached_at",
    "internal_response_breached_at",
    "resolution_breached_at",
    "internal_resolution_breached_at",
)
# None of them recorded yet, as lookups (the index ``queue_at_risk`` and the
# queue's at-risk filter): ``Q(**NO_BREACH_RECORDED)``.
NO_BREACH_RECORDED = MappingProxyType(
    {f"{name}__isnull": True for name in BREACH_RECORDS}
)


class ServiceRequest(models.Model):
    """One checkout: who ordered, for whom, on which cost centre, and why."""

    # Shown read-only in the admin; Wagtail's "usage" index would cost two queries
    # on every save of the system of record and tell editors nothing.
    wagtail_reference_index_ignore = True

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    cost_centre = models.ForeignKey(
        "catalog.CostCentre", on_delete=models.PROTECT, related_name="requests"
    )
    # The department of the person it is for, at order time: the unit billed.
    department = models.ForeignKey(
        "catalog.Department",
        null=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    business_reason = models.TextField()
    currency = models.CharField(max_length=3)
    basket = models.OneToOneField(
        "catalog.Basket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_request",
    )
    submitted_at = models.DateTimeField(db_index=True)
    # The last event of this request's log, written by ``event_append`` in the
    # transaction that appends it: removing events from the end of the log, or
    # the whole log, no longer matches (see catalog.services.request_log).
    log_sequence = models.PositiveIntegerField(default=0)
    log_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        # My requests: each person's requests, newest first, in two ranges
        # (for them; by them for others) merged a page at a time.
        indexes = [
            models.Index(
                fields=["requested_for", "-submitted_at", "-id"],
                name="request_for_newest",
            ),
            # With whom it is for, so "ordered for someone else" reads the
            # index alone.
            models.Index(
                fields=["requested_by", "-submitted_at", "-id", "requested_for"],
                name="request_by_newest",
            ),
        ]
        permissions = [
            (
                "order_on_behalf",
                "Can order on behalf of the people who report to them",
            ),
            ("order_for_anyone", "Can order on behalf of anyone"),
            ("work_requests", "Can work on requests in the fulfilment queue"),
            (
                "approve_any_request",
                "Can decide approvals that nobody else could be asked for",
            ),
            ("view_reports", "Can see IT costs and service levels of their department"),
            (
                "view_all_departments",
                "Can see IT costs and service levels of every department",
            ),
            ("close_bills", "Can close a month's IT bills"),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"REQ-{self.pk:06d}"


class RequestItemQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        RequestItem.copy_from_requests(objs)
        return super().bulk_create(objs, *args, **kwargs)


class RequestItem(models.Model):
    wagtail_reference_index_ignore = True  # see ServiceRequest

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.PROTECT, related_name="items"
    )
    # Copies of the request's people and time, which never change after
    # checkout; filled from the request on save and bulk_create
    # (``copy_from_requests``). With them a person's items are one index's range,
    # read in date order without visiting each request: My requests by status
    # and My services (bench/README.md, "A person's items").
    requested_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    submitted_at = models.DateTimeField()
    line_number = models.PositiveSmallIntegerField()
    service = models.ForeignKey(
        "catalog.ServicePage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="request_items",
    )
    # Snapshot of what was ordered.
    service_name = models.CharField(max_length=255)
    category_name = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveSmallIntegerField(default=1)
    one_off_price = models.DecimalField(max_digits=10, decimal_places=2)
    monthly_price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    requires_approval = models.BooleanField(default=False)
    answers = models.JSONField(default=list, blank=True)
    # The service level as ordered: targets in hours on the calendar's clock.
    service_level_name = models.CharField(max_length=80, blank=True)
    calendar_name = models.CharField(max_length=80, blank=True)
    response_target_hours = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    resolution_target_hours = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    internal_response_target_hours = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    internal_resolution_target_hours = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    at_risk_percent = models.PositiveSmallIntegerField(default=75)
    fulfilment_group = models.ForeignKey(
        "catalog.FulfilmentGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
    )
    fulfilment_group_name = models.CharField(max_length=120, blank=True)
    # Where it stands.
    status = models.CharField(
        max_length=20, choices=ItemStatus, default=ItemStatus.SUBMITTED
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_items",
    )
    created_at = models.DateTimeField(db_index=True)
    status_changed_at = models.DateTimeField()
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    # A removal request points at the item the person holds.
    removes_item = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # While on hold: why (for the requester's "paused while …").
    hold_reason = models.ForeignKey(
        "catalog.HoldReason",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The requester's verdict after delivery.
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    # --- Service-level figures -----------------------------------------------
    # Derived from the item's log and its calendar by catalog.clock; written only
    # by catalog.services.service_levels.item_clock_refresh, and re-derivable with
    # `manage.py rebuild_service_levels`. "internal_" figures are the team's OLA.
    calendar_version = models.ForeignKey(
        "catalog.CalendarVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    clock_started_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    response_due_at = models.DateTimeField(null=True, blank=True)
    response_breached_at = models.DateTimeField(null=True, blank=True)
    internal_response_due_at = models.DateTimeField(null=True, blank=True)
    internal_response_breached_at = models.DateTimeField(null=True, blank=True)
    # Resolution due times are empty while that clock is paused.
    # "at_risk_from" is when it will be (or was) at risk; "at_risk_at" is set
    # once the log shows it got there.
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    at_risk_from = models.DateTimeField(null=True, blank=True)
    at_risk_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    internal_resolution_due_at = models.DateTimeField(null=True, blank=True)
    internal_at_risk_from = models.DateTimeField(null=True, blank=True)
    internal_at_risk_at = models.DateTimeField(null=True, blank=True)
    internal_resolution_breached_at = models.DateTimeField(null=True, blank=True)
    # Business seconds each clock stood still (holds, and delivered-then-reopened).
    customer_paused_seconds = models.PositiveIntegerField(default=0)
    internal_paused_seconds = models.PositiveIntegerField(default=0)
    # Since when the customer clock has been paused, if it is now.
    paused_since = models.DateTimeField(null=True, blank=True)
    # Business seconds from the clock's start to delivery, less customer pauses.
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)

    objects = RequestItemQuerySet.as_manager()

    class Meta:
        ordering = ["request_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "line_number"], name="requestitem_unique_line"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="requestitem_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="requestitem_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["service", "created_at"]),
            models.Index(fields=["fulfilment_group", "status"]),
            models.Index(fields=["status", "resolution_due_at"]),
            models.Index(fields=["status", "internal_resolution_due_at"]),
            # The executive backlog lists open items oldest first; with what
            # the dashboard's "open now" counts by (service, at risk, age), so
            # it counts from the index alone instead of visiting every open
            # item's row (bench/README.md, "A filtered queue from its index").
            models.Index(
                fields=["created_at", "id"],
                include=[
                    "service_name",
                    "status",
                    "at_risk_at",
                    "resolution_breached_at",
                ],
                condition=Q(status__in=sorted(OPEN_STATES)),
                name="item_open_by_age",
            ),
            # My requests filtered by status: the person's items in a status,
            # newest request first, in two ranges as the requests' own indexes
            # (for them; by them for someone else), read from the index alone.
            models.Index(
                fields=["requested_for", "status", "-submitted_at", "-request"],
                name="item_for_status_newest",
            ),
            models.Index(
                fields=[
                    "requested_by",
                    "status",
                    "-submitted_at",
                    "-request",
                    "requested_for",
                ],
                name="item_by_status_newest",
            ),
            # My services: what a person may hold, in the list's order
            # (catalog.selectors.requests.held_items).
            models.Index(
                fields=["requested_for", "service_name", "fulfilled_at", "id"],
                condition=Q(
                    status__in=["closed", "fulfilled"],
                    monthly_price__gt=0,
                    removes_item__isnull=True,
                ),
                name="item_held_by_person",
            ),
            # The fulfilment queue's sort orders (catalog/filters.py), over open
            # items only: a page is read in order and stops at its 25 rows,
            # however long the queue (bench/README.md, "Every page at a million
            # items").
            *(
                models.Index(
                    # With the team, so counting a team's queue and skipping to
                    # a late page read the index alone; and with the columns
                    # of the commonest filters (service, status, who has it),
                    # so a filtered queue is read from the index too instead of
                    # visiting every open item's row (bench/README.md, "A
                    # filtered queue from its index").
                    fields=[*first, "created_at", "id", "fulfilment_group"],
                    include=[
                        name
                        for name in ("service_name", "status", "assigned_to")
                        if name not in first
                    ],
                    condition=Q(status__in=sorted(QUEUE_STATES)),
                    name=f"queue_{sort}",
                )
                for sort, first in (
                    ("internal_due", ["internal_resolution_due_at"]),
                    ("customer_due", ["resolution_due_at"]),
                    ("service", ["service_name"]),
                    ("age", []),
                )
            ),
            # The queue's "at risk" filter (catalog.selectors.due): the open
            # items with no breach recorded, by the moment they fall at risk,
            # with what the rest of the filter and the sort read, so that a
            # few hundred at risk are found in the index alone among all the
            # open items not yet due (bench/README.md, "Approvals, My
            # requests and the queue's at-risk filter").
            models.Index(
                fields=["internal_at_risk_from"],
                include=[
                    "internal_resolution_due_at",
                    "resolution_due_at",
                    "created_at",
                    "id",
                    "fulfilment_group",
                ],
                condition=Q(status__in=sorted(QUEUE_STATES), **NO_BREACH_RECORDED),
                name="queue_at_risk",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.service_name}"

    def save(self, *args, **kwargs):
        self.copy_from_requests([self])
        super().save(*args, **kwargs)

    @classmethod
    def copy_from_requests(cls, items) -> None:
        """Fill each new item's copies of its request's people and time where
        they are empty: from the request set on the item, or read in one query.
        Items already written are left alone (they may be partly loaded)."""
        empty = [
            item for item in items if item._state.adding and item.submitted_at is None
        ]
        cached = cls.request.is_cached
        unread = {item.request_id for item in empty if not cached(item)}
        requests = ServiceRequest.objects.order_by().in_bulk(unread) if unread else {}
        for item in empty:
            request = item.request if cached(item) else requests[item.request_id]
            item.requested_for_id = request.requested_for_id
            item.requested_by_id = request.requested_by_id
            item.submitted_at = request.submitted_at

    SERVICE_LEVEL_FIELDS = (
        "service_level_name",
        "calendar_name",
        "calendar_version_id",
        "response_target_hours",
        "resolution_target_hours",
        "internal_response_target_hours",
        "internal_resolution_target_hours",
        "at_risk_percent",
    )

    @staticmethod
    def service_level_snapshot(level, group, calendar_version) -> dict:
        """What an item keeps of its service level, so later edits to the level
        don't change how the item is measured: the customer targets, the
        fulfilment group's internal targets and the calendar version in force.
        ``calendar_version`` is the level's calendar's current version."""
        if level is None:
            return {
                "service_level_name": "",
                "calendar_name": "",
                "calendar_version_id": None,
                "response_target_hours": None,
                "resolution_target_hours": None,
                "internal_response_target_hours": None,
                "internal_resolution_target_hours": None,
                "at_risk_percent": 75,
            }
        internal_response, internal_resolution = level.internal_targets_for(group)
        return {
            "service_level_name": level.name,
            "calendar_name": level.calendar.name,
            "calendar_version_id": calendar_version.pk if calendar_version else None,
            "response_target_hours": level.response_target_hours,
            "resolution_target_hours": level.resolution_target_hours,
            "internal_response_target_hours": internal_response,
            "internal_resolution_target_hours": internal_resolution,
            "at_risk_percent": level.at_risk_percent,
        }

    @property
    def number(self) -> str:
        return f"REQ-{self.request_id:06d}-{self.line_number}"

    @property
    def one_off_total(self):
        return self.one_off_price * self.quantity

    @property
    def monthly_total(self):
        return self.monthly_price * self.quantity

    @property
    def can_be_cancelled(self) -> bool:
        return self.status in NOT_STARTED

    @property
    def is_paused(self) -> bool:
        return self.status == ItemStatus.ON_HOLD


class RequestEvent(models.Model):
    """One immutable line of the request log.

    ``hash`` covers this event's content and the previous event's hash for the same
    request, so an edited or deleted row breaks the chain (see
    ``catalog.services.request_log``). On PostgreSQL a trigger refuses UPDATE and
    DELETE outright.
    """

    wagtail_reference_index_ignore = True  # see ServiceRequest

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.PROTECT, related_name="events"
    )
    item = models.ForeignKey(
        RequestItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    sequence = models.PositiveIntegerField()
    name = models.CharField(max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)
    # How ``hash`` was computed: "sha256", or "hmac-sha256" with REQUEST_LOG_KEY.
    scheme = models.CharField(max_length=16, default="sha256")

    class Meta:
        ordering = ["request_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "sequence"], name="requestevent_unique_sequence"
            )
        ]
        indexes = [models.Index(fields=["item", "sequence"])]

    def __str__(self):
        return f"{self.name} on {self.request_id} #{self.sequence}"
