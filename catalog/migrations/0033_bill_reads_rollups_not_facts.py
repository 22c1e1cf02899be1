"""A cost centre's bill reads its lines from ``ChargeRollup`` and
``HoldingRollup`` (0031, 0032), no longer from the facts: the covering indexes
that served those reads are dropped, so changing an item writes three index
entries fewer. The items behind a line are still found by the plain indexes on
(cost centre, delivered on) and (cost centre, held from)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0032_month_charges_rollup'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='itemfact',
            name='fact_bill_one_off',
        ),
        migrations.RemoveIndex(
            model_name='itemfact',
            name='fact_bill_held',
        ),
        migrations.RemoveIndex(
            model_name='itemfact',
            name='fact_bill_held_until',
        ),
    ]
