"""Approvals: the steps an item must pass before work starts, and the substitutes
approvers name while they are away.

Which steps an item needs is decided at checkout from the policy declared in the
admin (``catalog.services.approvals``): the recipient's manager when the service
asks for it, then the cost-centre owner when the request is above the cost
centre's threshold or charged to another department's cost centre. Steps run in
order; each decision is also written to the request log.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class ApprovalStep(models.Model):
    class Kind(models.TextChoices):
        MANAGER = "manager", "Manager"
        COST_CENTRE = "cost_centre", "Cost-centre owner"

    class Status(models.TextChoices):
        # Waiting for an earlier step; nobody is asked yet.
        QUEUED = "queued", "Not yet asked"
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Not approved"
        # The item was cancelled, or an earlier step said no.
        WITHDRAWN = "withdrawn", "No longer needed"

    wagtail_reference_index_ignore = True  # part of the request record

    request = models.ForeignKey(
        "catalog.ServiceRequest", on_delete=models.PROTECT, related_name="approvals"
    )
    item = models.ForeignKey(
        "catalog.RequestItem", on_delete=models.PROTECT, related_name="approval_steps"
    )
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=Kind)
    # Why this step exists, in words the approver reads.
    reason = models.CharField(max_length=255)
    status = models.CharField(max_length=20, choices=Status, default=Status.QUEUED)
    # Who is asked now: changes when the step is escalated. Empty when nobody in
    # the organisation could be found; holders of ``approve_any_request`` decide.
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_steps",
    )
    escalated_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set when a substitute decided for the approver.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["request_id", "item_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "position"], name="approvalstep_unique_position"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(note=""),
                name="approvalstep_rejection_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["approver", "status"]),
            models.Index(fields=["status", "remind_at"]),
            models.Index(fields=["status", "escalate_at"]),
            # "Recently decided by you", newest first, read in order.
            models.Index(
                fields=["decided_by", "-decided_at", "-id"],
                name="approval_decided_newest",
            ),
        ]

    def __str__(self):
        return f"{self.item_id} step {self.position} ({self.kind})"


class ApprovalDelegation(models.Model):
    """While the approver is away, the substitute decides in their name."""

    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations",
    )
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="substitutions",
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["approver_id", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="delegation_dates_in_order",
            ),
            models.CheckConstraint(
                condition=~Q(substitute=F("approver")),
                name="delegation_not_to_self",
            ),
        ]
        indexes = [models.Index(fields=["substitute", "starts_on", "ends_on"])]

    def __str__(self):
        return f"{self.substitute_id} for {self.approver_id}"
