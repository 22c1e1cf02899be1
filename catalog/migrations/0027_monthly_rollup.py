"""The daily sums per calendar month too (``MonthlyRollup``), filled here from
the daily rows, which hold the same sums."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import DateField, Sum
from django.db.models.functions import TruncMonth

KEY = ["department_id", "cost_centre_id", "service_name", "category_name"]


def fill_from_daily(apps, schema_editor):
    daily = apps.get_model("catalog", "DailyRollup")
    monthly = apps.get_model("catalog", "MonthlyRollup")
    sums = [
        field.attname
        for field in monthly._meta.concrete_fields
        if field.attname not in {"id", "month", *KEY}
    ]
    rows = (
        daily.objects.using(schema_editor.connection.alias)
        .annotate(month=TruncMonth("day", output_field=DateField()))
        .values("month", *KEY)
        .annotate(**{f"total_{name}": Sum(name) for name in sums})
        .order_by()
        .iterator(chunk_size=5000)
    )
    batch = []
    for row in rows:
        values = {name: row[f"total_{name}"] for name in sums}
        batch.append(monthly(month=row["month"], **{k: row[k] for k in KEY}, **values))
        if len(batch) == 5000:
            monthly.objects.using(schema_editor.connection.alias).bulk_create(batch)
            batch = []
    monthly.objects.using(schema_editor.connection.alias).bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0026_item_requester_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="MonthlyRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("service_name", models.CharField(max_length=255)),
                ("category_name", models.CharField(blank=True, max_length=255)),
                ("submitted", models.IntegerField(default=0)),
                ("delivered", models.IntegerField(default=0)),
                ("units", models.IntegerField(default=0)),
                (
                    "one_off_amount",
                    models.DecimalField(decimal_places=2, default=0, max_digits=14),
                ),
                ("response_measured", models.IntegerField(default=0)),
                ("response_met", models.IntegerField(default=0)),
                ("internal_response_measured", models.IntegerField(default=0)),
                ("internal_response_met", models.IntegerField(default=0)),
                ("resolution_measured", models.IntegerField(default=0)),
                ("resolution_met", models.IntegerField(default=0)),
                ("internal_resolution_measured", models.IntegerField(default=0)),
                ("internal_resolution_met", models.IntegerField(default=0)),
                ("resolution_seconds_sum", models.BigIntegerField(default=0)),
                ("resolution_seconds_count", models.IntegerField(default=0)),
                ("rated", models.IntegerField(default=0)),
                ("rating_sum", models.IntegerField(default=0)),
                ("approved", models.IntegerField(default=0)),
                ("approval_seconds_sum", models.BigIntegerField(default=0)),
                ("month", models.DateField(help_text="The first day of the month.")),
                (
                    "cost_centre",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="catalog.costcentre",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="catalog.department",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["department", "month"],
                        name="catalog_mon_departm_d9a9b3_idx",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "month",
                            "department",
                            "cost_centre",
                            "service_name",
                            "category_name",
                        ),
                        name="monthlyrollup_unique_key",
                    )
                ],
            },
        ),
        migrations.RunPython(fill_from_daily, migrations.RunPython.noop),
    ]
