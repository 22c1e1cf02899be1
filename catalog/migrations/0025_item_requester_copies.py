"""Each item keeps a copy of its request's people and submission time (see
RequestItem.requested_for): added empty, then filled from the requests. The
next migration makes them required and indexes them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_from_requests(apps, schema_editor):
    ServiceRequest = apps.get_model("catalog", "ServiceRequest")
    RequestItem = apps.get_model("catalog", "RequestItem")
    if schema_editor.connection.vendor == "postgresql":
        # One pass joining the two tables, instead of three lookups per item.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE catalog_requestitem AS i"
                " SET requested_for_id = r.requested_for_id,"
                " requested_by_id = r.requested_by_id,"
                " submitted_at = r.submitted_at"
                " FROM catalog_servicerequest AS r WHERE r.id = i.request_id"
            )
        return
    request = ServiceRequest.objects.filter(pk=OuterRef("request_id"))
    RequestItem.objects.update(
        requested_for_id=Subquery(request.values("requested_for_id")[:1]),
        requested_by_id=Subquery(request.values("requested_by_id")[:1]),
        submitted_at=Subquery(request.values("submitted_at")[:1]),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0024_item_status_and_held_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="requestitem",
            name="requested_for",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="requestitem",
            name="requested_by",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="requestitem",
            name="submitted_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(copy_from_requests, migrations.RunPython.noop),
    ]
