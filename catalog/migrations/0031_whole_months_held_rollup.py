"""Services held for whole months, by monthly price per unit, as running
totals a row per key and month (``HoldingRollup``), filled here from the facts:
a cost centre's bill reads its whole-month lines from them instead of every
item held. An index on the facts by the day holdings stop finds the month's
part-month holdings."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

CENT = Decimal("0.01")
KEY = ["department_id", "cost_centre_id", "service_name", "category_name"]


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def fill_from_facts(apps, schema_editor):
    """A holding counts from its first whole month (the month it starts, if on
    its first day; otherwise the next) until the month its removal is
    delivered (``catalog.services.reporting.whole_months``)."""
    alias = schema_editor.connection.alias
    facts = apps.get_model("catalog", "ItemFact").objects.using(alias)
    held = facts.filter(held_from__isnull=False).values_list(
        *KEY, "held_from", "held_until", "units", "monthly_amount"
    )
    rows = defaultdict(lambda: [0, Decimal(0)])
    for *key, held_from, held_until, units, amount in held.iterator(10000):
        first = held_from
        if held_from.day != 1:
            first = _next_month(held_from.replace(day=1))
        end = held_until.replace(day=1) if held_until is not None else None
        if end is not None and end <= first:
            continue
        price = (amount / units).quantize(CENT)
        for month, sign in ((first, 1), (end, -1)):
            if month is not None:
                row = rows[(month, *key, price)]
                row[0] += sign * units
                row[1] += sign * amount
    model = apps.get_model("catalog", "HoldingRollup")
    model.objects.using(alias).bulk_create(
        (
            model(
                month=month,
                **dict(zip(KEY, key, strict=True)),
                unit_price=price,
                units_change=units,
                amount_change=amount,
            )
            for (month, *key, price), (units, amount) in rows.items()
        ),
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0030_open_items_index_covers_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="HoldingRollup",
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
                ("month", models.DateField(help_text="The first day of the month.")),
                (
                    "unit_price",
                    models.DecimalField(decimal_places=2, default=0, max_digits=14),
                ),
                ("units_change", models.IntegerField(default=0)),
                (
                    "amount_change",
                    models.DecimalField(decimal_places=2, default=0, max_digits=14),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="itemfact",
            index=models.Index(
                fields=["cost_centre", "held_until"],
                include=(
                    "held_from",
                    "department",
                    "service_name",
                    "units",
                    "monthly_amount",
                ),
                name="fact_bill_held_until",
            ),
        ),
        migrations.AddField(
            model_name="holdingrollup",
            name="cost_centre",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalog.costcentre",
            ),
        ),
        migrations.AddField(
            model_name="holdingrollup",
            name="department",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalog.department",
            ),
        ),
        migrations.AddIndex(
            model_name="holdingrollup",
            index=models.Index(
                fields=["cost_centre", "month"],
                include=(
                    "department",
                    "service_name",
                    "unit_price",
                    "units_change",
                    "amount_change",
                ),
                name="holding_bill",
            ),
        ),
        migrations.AddConstraint(
            model_name="holdingrollup",
            constraint=models.UniqueConstraint(
                fields=(
                    "month",
                    "department",
                    "cost_centre",
                    "service_name",
                    "category_name",
                    "unit_price",
                ),
                name="holdingrollup_unique_key",
            ),
        ),
        migrations.RunPython(fill_from_facts, migrations.RunPython.noop),
    ]
