"""Service-desk rules an administrator sets once for the whole portal, in the
admin under Settings: when approvals remind and escalate, and how long people have
to rate a delivered item."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting


@register_setting(icon="time")
class ServiceDeskSettings(BaseGenericSetting):
    approval_calendar = models.ForeignKey(
        "catalog.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Reminders and escalations count working hours on this calendar, "
        "so they never go out at night or at the weekend. Empty: around the clock.",
    )
    approval_reminder_hours = models.PositiveSmallIntegerField(
        "remind the approver after (working hours)",
        default=16,
        validators=[MinValueValidator(1), MaxValueValidator(2000)],
    )
    approval_escalation_hours = models.PositiveSmallIntegerField(
        "escalate to their manager after (working hours)",
        default=40,
        validators=[MinValueValidator(1), MaxValueValidator(2000)],
    )
    rating_window_days = models.PositiveSmallIntegerField(
        "close delivered items after (days)",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="People can rate a delivered item until then; it closes on its "
        "own after this many days if they don't.",
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("approval_calendar"),
                FieldPanel("approval_reminder_hours"),
                FieldPanel("approval_escalation_hours"),
            ],
            heading="Approvals that wait too long",
        ),
        FieldPanel("rating_window_days"),
    ]

    class Meta:
        verbose_name = "service desk settings"

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if (
            self.approval_reminder_hours
            and self.approval_escalation_hours
            and self.approval_escalation_hours <= self.approval_reminder_hours
        ):
            raise ValidationError(
                {
                    "approval_escalation_hours": "Escalate later than the reminder, "
                    f"so the approver is reminded first (after "
                    f"{self.approval_reminder_hours} hours)."
                }
            )
