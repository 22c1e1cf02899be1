"""The queue's four sort indexes also carry the columns of its commonest filters
(service, status, who has it): a filtered queue is read from the index alone.
Only PostgreSQL stores the included columns; SQLite builds the same indexes
without them."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0028_delivery_time_bands"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="requestitem",
            name="queue_internal_due",
        ),
        migrations.RemoveIndex(
            model_name="requestitem",
            name="queue_customer_due",
        ),
        migrations.RemoveIndex(
            model_name="requestitem",
            name="queue_service",
        ),
        migrations.RemoveIndex(
            model_name="requestitem",
            name="queue_age",
        ),
        migrations.AddIndex(
            model_name="requestitem",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["approved", "in_progress", "on_hold", "submitted"])
                ),
                fields=[
                    "internal_resolution_due_at",
                    "created_at",
                    "id",
                    "fulfilment_group",
                ],
                include=("service_name", "status", "assigned_to"),
                name="queue_internal_due",
            ),
        ),
        migrations.AddIndex(
            model_name="requestitem",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["approved", "in_progress", "on_hold", "submitted"])
                ),
                fields=["resolution_due_at", "created_at", "id", "fulfilment_group"],
                include=("service_name", "status", "assigned_to"),
                name="queue_customer_due",
            ),
        ),
        migrations.AddIndex(
            model_name="requestitem",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["approved", "in_progress", "on_hold", "submitted"])
                ),
                fields=["service_name", "created_at", "id", "fulfilment_group"],
                include=("status", "assigned_to"),
                name="queue_service",
            ),
        ),
        migrations.AddIndex(
            model_name="requestitem",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["approved", "in_progress", "on_hold", "submitted"])
                ),
                fields=["created_at", "id", "fulfilment_group"],
                include=("service_name", "status", "assigned_to"),
                name="queue_age",
            ),
        ),
    ]
