"""The open items' index (oldest first) also carries what the dashboard's "open
now" counts by: service, status, at-risk and breached times. Only PostgreSQL
stores the included columns; SQLite builds the same index without them."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0029_queue_indexes_cover_filters"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="requestitem",
            name="item_open_by_age",
        ),
        migrations.AddIndex(
            model_name="requestitem",
            index=models.Index(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "approved",
                            "awaiting_approval",
                            "in_progress",
                            "on_hold",
                            "submitted",
                        ],
                    )
                ),
                fields=["created_at", "id"],
                include=(
                    "service_name",
                    "status",
                    "at_risk_at",
                    "resolution_breached_at",
                ),
                name="item_open_by_age",
            ),
        ),
    ]
