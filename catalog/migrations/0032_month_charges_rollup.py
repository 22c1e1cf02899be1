"""A month's one-off charges and part months, by price per unit
(``ChargeRollup``), filled here from the facts: a cost centre's bill reads its
one-off and part-month lines from them instead of every item delivered, started
or stopped in the month."""

import calendar
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import django.db.models.deletion
from django.db import migrations, models

CENT = Decimal("0.01")
KEY = ["department_id", "cost_centre_id", "service_name", "category_name"]


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _part_month(monthly: Decimal, days: int, month: date) -> Decimal:
    whole = calendar.monthrange(month.year, month.month)[1]
    return (monthly * days / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def fill_from_facts(apps, schema_editor):
    """One-off charges fall in the month of delivery. A holding is charged by
    the day in the month it starts, unless on its first day, and in the month
    its removal is delivered, if it started before that month and the removal
    is not on its first day (``catalog.services.reporting.part_months_charged``)."""
    alias = schema_editor.connection.alias
    facts = apps.get_model("catalog", "ItemFact").objects.using(alias)
    rows = defaultdict(lambda: [0, Decimal(0)])
    delivered = facts.filter(delivered_on__isnull=False).exclude(one_off_amount=0)
    for *key, delivered_on, units, amount in delivered.values_list(
        *KEY, "delivered_on", "units", "one_off_amount"
    ).iterator(10000):
        price = (amount / units).quantize(CENT)
        row = rows[(delivered_on.replace(day=1), *key, "one_off", price)]
        row[0] += units
        row[1] += amount
    held = facts.filter(held_from__isnull=False).values_list(
        *KEY, "held_from", "held_until", "units", "monthly_amount"
    )
    for *key, held_from, held_until, units, monthly in held.iterator(10000):
        price = (monthly / units).quantize(CENT)
        parts = []
        if held_from.day != 1:
            start = held_from.replace(day=1)
            end = _next_month(start)
            if held_until is not None and held_until < end:
                end = held_until
            if end > held_from:
                parts.append((start, (end - held_from).days))
        if held_until is not None and held_until.day != 1:
            last = held_until.replace(day=1)
            if held_from <= last:
                parts.append((last, (held_until - last).days))
        for month, days in parts:
            row = rows[(month, *key, "part_month", price)]
            row[0] += units * days
            row[1] += _part_month(monthly, days, month)
    model = apps.get_model("catalog", "ChargeRollup")
    model.objects.using(alias).bulk_create(
        (
            model(
                month=month,
                **dict(zip(KEY, key, strict=True)),
                kind=kind,
                unit_price=price,
                quantity=quantity,
                amount=amount,
            )
            for (month, *key, kind, price), (quantity, amount) in rows.items()
        ),
        batch_size=5000,
    )



class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0031_whole_months_held_rollup'),
    ]

    operations = [
        migrations.CreateModel(
            name='ChargeRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('service_name', models.CharField(max_length=255)),
                ('category_name', models.CharField(blank=True, max_length=255)),
                ('month', models.DateField(help_text='The first day of the month.')),
                ('kind', models.CharField(choices=[('one_off', 'One-off'), ('part_month', 'Part of the month')], max_length=12)),
                ('unit_price', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('quantity', models.IntegerField(default=0)),
                ('amount', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('cost_centre', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.costcentre')),
                ('department', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.department')),
            ],
            options={
                'indexes': [models.Index(fields=['cost_centre', 'month'], include=('department', 'service_name', 'kind', 'unit_price', 'quantity', 'amount'), name='charge_bill')],
                'constraints': [models.UniqueConstraint(fields=('month', 'department', 'cost_centre', 'service_name', 'category_name', 'kind', 'unit_price'), name='chargerollup_unique_key')],
            },
        ),
        migrations.RunPython(fill_from_facts, migrations.RunPython.noop),
    ]
