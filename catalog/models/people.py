"""What the portal knows about a person beyond their login."""

from django.conf import settings
from django.db import models
from wagtail.admin.panels import FieldPanel

from .snippets import Department, Location


class UserProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    job_title = models.CharField(max_length=120, blank=True)

    panels = [
        FieldPanel("user"),
        FieldPanel("department"),
        FieldPanel("location"),
        FieldPanel("manager"),
        FieldPanel("job_title"),
    ]

    class Meta:
        ordering = ["user__username"]
        permissions = [
            ("view_catalog_as_user", "Can see the catalog as another person sees it")
        ]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()
