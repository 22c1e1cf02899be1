"""The request basket: services a person intends to order, with their answers.

Prices and names are captured when a line is added and re-checked at checkout, so
the requester is told if anything changed in between.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Basket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SUBMITTED = "submitted", "Submitted"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="baskets"
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner"],
                condition=Q(status="open"),
                name="basket_one_open_per_owner",
            )
        ]

    def __str__(self):
        return f"Basket {self.pk} of {self.owner} ({self.status})"


class BasketLine(models.Model):
    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="lines")
    service = models.ForeignKey(
        "catalog.ServicePage", on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)]
    )
    answers = models.JSONField(default=list, blank=True)
    # Captured when added; compared with the live service at checkout.
    service_name = models.CharField(max_length=255)
    one_off_price = models.DecimalField(max_digits=10, decimal_places=2)
    monthly_price = models.DecimalField(max_digits=10, decimal_places=2)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="basketline_quantity_positive"
            )
        ]

    def __str__(self):
        return f"{self.quantity} × {self.service_name}"
