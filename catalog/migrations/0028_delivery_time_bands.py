"""Times to deliver counted by band in the daily and monthly rollups, which the
percentiles read to find the one band each percentile lies in; filled here from
the facts. Two indexes read one band's deliveries in order (a service's, and
everyone's). The covering index of migration 0015 served the full sort the
percentiles no longer make, so it goes."""

from collections import defaultdict

from django.db import migrations, models
from django.db.models import Count, Q

# The bands as this migration counts them (``TIME_BAND_STARTS``): other bands
# need a migration of their own that counts again.
BAND_STARTS = (0, *(round(60 * 1.3**k) for k in range(47)))
FIELDS = [f"time_band_{band:02}" for band in range(len(BAND_STARTS))]
KEY = ["department_id", "cost_centre_id", "service_name", "category_name"]
COVERING_INDEX = "{table}_delivery_times"


def _band(band: int) -> Q:
    condition = Q(resolution_seconds__gte=BAND_STARTS[band])
    if band + 1 < len(BAND_STARTS):
        condition &= Q(resolution_seconds__lt=BAND_STARTS[band + 1])
    return condition


def _write(model, alias: str, date_field: str, counts: dict) -> None:
    """Write each row's counts by writing the rows again, a few thousand rows
    a statement: an update takes a statement per row, or (bulk_update) more
    parameters than PostgreSQL takes in one."""
    rows = list(model.objects.using(alias).order_by("pk"))
    for row in rows:
        found = counts.get((getattr(row, date_field), *(getattr(row, k) for k in KEY)))
        for name, count in zip(FIELDS, found or [0] * len(FIELDS), strict=True):
            setattr(row, name, count)
    model.objects.using(alias).all().delete()
    model.objects.using(alias).bulk_create(rows, batch_size=5000)


def count_bands(apps, schema_editor):
    alias = schema_editor.connection.alias
    fact = apps.get_model("catalog", "ItemFact")
    days: dict = {}
    for row in (
        fact.objects.using(alias)
        .filter(resolution_seconds__isnull=False, delivered_on__isnull=False)
        .values("delivered_on", *KEY)
        .annotate(
            **{name: Count("pk", filter=_band(b)) for b, name in enumerate(FIELDS)}
        )
        .order_by()
        .iterator(chunk_size=5000)
    ):
        days[(row["delivered_on"], *(row[k] for k in KEY))] = [row[n] for n in FIELDS]
    months: dict = defaultdict(lambda: [0] * len(FIELDS))
    for (day, *key), counts in days.items():
        month = months[(day.replace(day=1), *key)]
        for band, count in enumerate(counts):
            month[band] += count
    _write(apps.get_model("catalog", "DailyRollup"), alias, "day", days)
    _write(apps.get_model("catalog", "MonthlyRollup"), alias, "month", months)


def _covering_index(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            table = apps.get_model("catalog", "ItemFact")._meta.db_table
            name = COVERING_INDEX.format(table=table)
            schema_editor.execute(sql.format(name=name, table=table), params=None)

    return run


DROP = "DROP INDEX IF EXISTS {name}"
CREATE = """
CREATE INDEX IF NOT EXISTS {name} ON {table} (service_name, delivered_on)
    INCLUDE (resolution_seconds, department_id, cost_centre_id, category_name)
"""


class Migration(migrations.Migration):
    dependencies = [("catalog", "0027_monthly_rollup")]

    operations = [
        *[
            migrations.AddField(
                model_name=model, name=name, field=models.IntegerField(default=0)
            )
            for model in ("dailyrollup", "monthlyrollup")
            for name in FIELDS
        ],
        migrations.RunPython(count_bands, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="itemfact",
            index=models.Index(
                fields=["service_name", "resolution_seconds"],
                include=("delivered_on", "department", "cost_centre", "category_name"),
                name="fact_time_by_service",
            ),
        ),
        migrations.AddIndex(
            model_name="itemfact",
            index=models.Index(
                fields=["resolution_seconds"],
                include=(
                    "delivered_on",
                    "service_name",
                    "department",
                    "cost_centre",
                    "category_name",
                ),
                name="fact_time",
            ),
        ),
        migrations.RunPython(_covering_index(DROP), _covering_index(CREATE)),
    ]
