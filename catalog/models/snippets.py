"""Reference data that IT maintains in the admin: service levels, departments and
their cost centres, locations and fulfilment groups."""

from django.conf import settings
from django.db import models
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel


class ServiceLevel(models.Model):
    """What IT promises for a service (the SLA, customer-facing) and the stricter
    internal targets the fulfilling team works to (the OLA)."""

    class SupportHours(models.TextChoices):
        ALWAYS = "24x7", "Around the clock, every day (24x7)"
        BUSINESS = "business", "Working days, 8:00 to 18:00"
        EXTENDED = "extended", "Working days, 7:00 to 22:00"

    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(
        max_length=255, blank=True, help_text="One line in plain words for customers."
    )
    support_hours = models.CharField(
        max_length=20, choices=SupportHours.choices, default=SupportHours.BUSINESS
    )
    response_target_hours = models.DecimalField(
        "response target (hours)", max_digits=6, decimal_places=2
    )
    resolution_target_hours = models.DecimalField(
        "resolution target (hours)", max_digits=6, decimal_places=2
    )
    internal_response_target_hours = models.DecimalField(
        "internal response target (hours)",
        max_digits=6,
        decimal_places=2,
        help_text="Operational level agreement: stricter than the customer target.",
    )
    internal_resolution_target_hours = models.DecimalField(
        "internal resolution target (hours)", max_digits=6, decimal_places=2
    )
    availability_target = models.DecimalField(
        "availability target (%)", max_digits=5, decimal_places=2, default=99.5
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("description"),
        FieldPanel("support_hours"),
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
            heading="Internal targets (OLA)",
        ),
        FieldPanel("availability_target"),
    ]

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    internal_resolution_target_hours__lte=models.F(
                        "resolution_target_hours"
                    ),
                    internal_response_target_hours__lte=models.F(
                        "response_target_hours"
                    ),
                ),
                name="servicelevel_internal_targets_not_looser",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if (
            self.internal_resolution_target_hours is not None
            and self.resolution_target_hours is not None
            and self.internal_resolution_target_hours > self.resolution_target_hours
        ):
            errors["internal_resolution_target_hours"] = (
                "The internal target must not be looser than the customer target."
            )
        if (
            self.internal_response_target_hours is not None
            and self.response_target_hours is not None
            and self.internal_response_target_hours > self.response_target_hours
        ):
            errors["internal_response_target_hours"] = (
                "The internal target must not be looser than the customer target."
            )
        if errors:
            raise ValidationError(errors)


class CostCentre(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)

    panels = [FieldPanel("code"), FieldPanel("name"), FieldPanel("active")]

    class Meta:
        ordering = ["code"]

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


class FulfilmentGroup(models.Model):
    """A team that delivers services, such as "Workplace hardware"."""

    name = models.CharField(max_length=120, unique=True)
    email = models.EmailField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="fulfilment_groups"
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("email"),
        MultiFieldPanel([FieldPanel("members")], heading="Team"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
