"""Heads of the request log on the request row, and how each event was hashed.

Existing requests get the head of the log they have. Adding ``scheme`` with a
default does not update the event rows (PostgreSQL fills the default without
firing row triggers), so the append-only trigger is not involved.
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery


def heads_from_log(apps, schema_editor):
    ServiceRequest = apps.get_model("catalog", "ServiceRequest")
    RequestEvent = apps.get_model("catalog", "RequestEvent")
    last = RequestEvent.objects.filter(request_id=OuterRef("pk")).order_by("-sequence")
    ServiceRequest.objects.filter(Exists(last)).update(
        log_sequence=Subquery(last.values("sequence")[:1]),
        log_hash=Subquery(last.values("hash")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0015_fact_covering_index")]

    operations = [
        migrations.AddField(
            model_name="servicerequest",
            name="log_sequence",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="servicerequest",
            name="log_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="requestevent",
            name="scheme",
            field=models.CharField(default="sha256", max_length=16),
        ),
        migrations.RunPython(heads_from_log, migrations.RunPython.noop),
    ]
