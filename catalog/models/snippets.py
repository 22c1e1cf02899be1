"""Reference data that IT maintains in the admin: service levels, departments and
their cost centres, locations, fulfilment groups with their internal targets, and
the reasons an item can be put on hold."""

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
)
from wagtail.models import Orderable

STRICTER = "The internal target must be stricter (shorter) than the customer target."


def _hours(value) -> str:
    """4.00 -> "4", 2.50 -> "2.5"."""
    return f"{value.normalize():f}"


class ServiceLevel(models.Model):
    """What IT promises for a service (the SLA, customer-facing) and the stricter
    internal targets the fulfilling team works to by default (the OLA; a
    fulfilment group may set its own, see ``InternalTarget``). Hours are counted on
    the level's business calendar."""

    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(
        max_length=255, blank=True, help_text="One line in plain words for customers."
    )
    calendar = models.ForeignKey(
        "catalog.BusinessCalendar",
        on_delete=models.PROTECT,
        related_name="service_levels",
        help_text="The hours in which the targets' clock runs.",
    )
    response_target_hours = models.DecimalField(
        "response target (hours)",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0.01)],
    )
    resolution_target_hours = models.DecimalField(
        "resolution target (hours)",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0.01)],
    )
    internal_response_target_hours = models.DecimalField(
        "internal response target (hours)",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0.01)],
        help_text="Operational level agreement: stricter than the customer target.",
    )
    internal_resolution_target_hours = models.DecimalField(
        "internal resolution target (hours)",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0.01)],
    )
    at_risk_percent = models.PositiveSmallIntegerField(
        "at risk at (% of the time)",
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="An item is flagged as at risk once it has used this share of "
        "its time, and the team is reminded.",
    )
    availability_target = models.DecimalField(
        "availability target (%)", max_digits=5, decimal_places=2, default=99.5
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("description"),
        FieldPanel("calendar"),
        FieldRowPanel(
            [
                FieldPanel("response_target_hours"),
                FieldPanel("resolution_target_hours"),
            ],
            heading="Customer targets (SLA)",
        ),
        FieldRowPanel(
            [
                FieldPanel("internal_response_target_hours"),
                FieldPanel("internal_resolution_target_hours"),
            ],
            heading="Internal targets (OLA), unless a fulfilment group sets its own",
        ),
        FieldPanel("at_risk_percent"),
        FieldPanel("availability_target"),
    ]

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    internal_resolution_target_hours__lt=F("resolution_target_hours"),
                    internal_response_target_hours__lt=F("response_target_hours"),
                ),
                name="servicelevel_internal_targets_stricter",
            ),
            models.CheckConstraint(
                condition=Q(response_target_hours__gt=0)
                & Q(resolution_target_hours__gt=0)
                & Q(internal_response_target_hours__gt=0)
                & Q(internal_resolution_target_hours__gt=0),
                name="servicelevel_targets_positive",
            ),
            models.CheckConstraint(
                condition=Q(at_risk_percent__gte=1, at_risk_percent__lte=99),
                name="servicelevel_at_risk_percent_range",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        pairs = [
            ("internal_response_target_hours", "response_target_hours"),
            ("internal_resolution_target_hours", "resolution_target_hours"),
        ]
        for internal, customer in pairs:
            mine, theirs = getattr(self, internal), getattr(self, customer)
            if mine is not None and theirs is not None and mine >= theirs:
                errors[internal] = STRICTER
        if self.pk and not errors:
            # Groups' own targets must stay stricter than a tightened customer one.
            looser = InternalTarget.objects.filter(service_level=self).filter(
                Q(response_target_hours__gte=self.response_target_hours)
                | Q(resolution_target_hours__gte=self.resolution_target_hours)
            )
            names = sorted(looser.values_list("fulfilment_group__name", flat=True))
            if names:
                errors["resolution_target_hours"] = (
                    "These teams' internal targets would no longer be stricter: "
                    f"{', '.join(names)}. Tighten theirs first."
                )
        if self.pk and not errors:
            # The usual delivery time on a service's card never exceeds what
            # its service level promises.
            longer = self._services_promised_longer()
            if longer:
                days = self.resolution_working_days()
                errors["resolution_target_hours"] = (
                    f"That is {days} working day{'s' if days != 1 else ''}, "
                    "shorter than the usual delivery time of "
                    f"{', '.join(longer)}. Shorten theirs first, or keep a "
                    "longer target."
                )
        if errors:
            raise ValidationError(errors)

    def resolution_working_days(self) -> int | None:
        """The customer resolution target in working days of its calendar,
        rounded up (what customers are promised, in their unit); None while the
        calendar has no open hours."""
        day = self.calendar.working_day_hours if self.calendar_id else 0
        if not day or self.resolution_target_hours is None:
            return None
        return math.ceil(self.resolution_target_hours / day)

    @property
    def resolution_promise_text(self) -> str:
        """The resolution target in the customer's unit: working days, or hours
        when it is shorter than a working day ("4 hours", "3 working days")."""
        hours = self.resolution_target_hours
        day = self.calendar.working_day_hours
        always = self.calendar.always_open
        if not day or hours < day:
            shown = f"{hours.normalize():f}"
            unit = "hour" if hours == 1 else "hours"
            return f"{shown} {unit}" if always else f"{shown} working {unit}"
        days = self.resolution_working_days()
        return f"{days} working day{'s' if days != 1 else ''}"

    def _services_promised_longer(self) -> list[str]:
        """Live services on this level whose usual delivery time would be longer
        than its resolution target."""
        from catalog.models.pages import ServicePage

        days = self.resolution_working_days()
        if days is None:
            return []
        return sorted(
            ServicePage.objects.live()
            .filter(service_level_id=self.pk, delivery_days__gt=days)
            .values_list("title", flat=True)
        )

    def internal_targets_for(self, group) -> tuple:
        """(response, resolution) internal hours for ``group``: its own, or ours."""
        if group is not None:
            for target in group.internal_targets.all():
                if target.service_level_id == self.pk:
                    return target.response_target_hours, target.resolution_target_hours
        return (
            self.internal_response_target_hours,
            self.internal_resolution_target_hours,
        )


class CostCentre(models.Model):
    """Who pays. Its owner approves requests above the threshold and anything
    charged here for people of other departments."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_cost_centres",
        help_text="Approves requests above the threshold and requests for people "
        "of other departments charged here.",
    )
    approval_threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="A request whose one-off total, or whose monthly charges over "
        "12 months, is above this also needs the owner's approval. Empty: no limit.",
    )

    panels = [
        FieldPanel("code"),
        FieldPanel("name"),
        FieldPanel("active"),
        MultiFieldPanel(
            [FieldPanel("owner"), FieldPanel("approval_threshold")],
            heading="Approval",
        ),
    ]

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approval_threshold__isnull=True)
                | Q(approval_threshold__gte=0),
                name="costcentre_threshold_not_negative",
            )
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Department(models.Model):
    name = models.CharField(max_length=120, unique=True)
    cost_centre = models.ForeignKey(
        CostCentre, on_delete=models.PROTECT, related_name="departments"
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    panels = [FieldPanel("name"), FieldPanel("cost_centre"), FieldPanel("head")]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Location(models.Model):
    name = models.CharField(max_length=120, unique=True)
    city = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=80, blank=True)

    panels = [FieldPanel("name"), FieldPanel("city"), FieldPanel("country")]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class FulfilmentGroup(ClusterableModel):
    """A team that delivers services, such as "Workplace hardware"."""

    name = models.CharField(max_length=120, unique=True)
    email = models.EmailField(
        blank=True, help_text="Where reminders about items at risk are sent."
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="fulfilment_groups"
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("email"),
        MultiFieldPanel([FieldPanel("members")], heading="Team"),
        MultiFieldPanel(
            [
                HelpPanel(
                    "The team's own targets per service level (OLA). Each must be "
                    "stricter than the level's customer target. Levels without a "
                    "row here use the level's internal targets."
                ),
                InlinePanel("internal_targets", label="Internal target"),
            ],
            heading="Internal targets",
        ),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class InternalTarget(Orderable):
    """A fulfilment group's internal targets for one service level. Kept stricter
    than the customer targets by ``clean`` and, at the database, by triggers on
    both tables (migration 0006)."""

    fulfilment_group = ParentalKey(
        FulfilmentGroup, on_delete=models.CASCADE, related_name="internal_targets"
    )
    service_level = models.ForeignKey(
        ServiceLevel, on_delete=models.CASCADE, related_name="group_targets"
    )
    response_target_hours = models.DecimalField(
        "internal response target (hours)",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0.01)],
    )
    resolution_target_hours = models.DecimalField(
        "internal resolution target (hours)",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0.01)],
    )

    panels = [
        FieldPanel("service_level"),
        FieldRowPanel(
            [FieldPanel("response_target_hours"), FieldPanel("resolution_target_hours")]
        ),
    ]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["fulfilment_group", "service_level"],
                name="internaltarget_one_per_level",
            ),
            models.CheckConstraint(
                condition=Q(response_target_hours__gt=0)
                & Q(resolution_target_hours__gt=0),
                name="internaltarget_positive",
            ),
        ]

    def __str__(self):
        return f"{self.fulfilment_group_id}: {self.service_level_id}"

    def clean(self):
        super().clean()
        level = self.service_level if self.service_level_id else None
        if level is None:
            return
        errors = {}
        if (
            self.response_target_hours is not None
            and self.response_target_hours >= level.response_target_hours
        ):
            errors["response_target_hours"] = (
                f"{STRICTER} {level.name} promises a response within "
                f"{_hours(level.response_target_hours)} hours."
            )
        if (
            self.resolution_target_hours is not None
            and self.resolution_target_hours >= level.resolution_target_hours
        ):
            errors["resolution_target_hours"] = (
                f"{STRICTER} {level.name} promises delivery within "
                f"{_hours(level.resolution_target_hours)} hours."
            )
        if errors:
            raise ValidationError(errors)


class HoldReason(models.Model):
    """Why an item is paused, and which clocks stop while it is."""

    name = models.CharField(
        max_length=80, unique=True, help_text='For IT, e.g. "Waiting for the supplier".'
    )
    customer_text = models.CharField(
        "what the requester reads",
        max_length=120,
        help_text='Completes "Paused …", e.g. "while we wait for you" or "while we '
        'wait for a delivery from our supplier".',
    )
    pauses_customer_clock = models.BooleanField(
        default=True, help_text="The customer target (SLA) stops while on hold."
    )
    pauses_internal_clock = models.BooleanField(
        default=False, help_text="The team's internal target (OLA) stops too."
    )
    requester_must_act = models.BooleanField(
        default=False,
        help_text="We need something from the requester: they get an e-mail.",
    )
    active = models.BooleanField(default=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("customer_text"),
        MultiFieldPanel(
            [
                FieldPanel("pauses_customer_clock"),
                FieldPanel("pauses_internal_clock"),
            ],
            heading="Clocks",
        ),
        FieldPanel("requester_must_act"),
        FieldPanel("active"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def policy(self) -> dict:
        """What the log records about the reason when an item is put on hold, so
        later edits to the reason don't change how past holds are counted."""
        return {
            "hold_reason": self.name,
            "customer_text": self.customer_text,
            "pauses_customer": self.pauses_customer_clock,
            "pauses_internal": self.pauses_internal_clock,
            "requester_must_act": self.requester_must_act,
        }
