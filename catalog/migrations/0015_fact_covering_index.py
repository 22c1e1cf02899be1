"""On PostgreSQL, a covering index for the time-to-deliver percentiles: they read
every delivery of a period per service, and with the values in the index that is
an index-only scan, already ordered by service. (SQLite has no covering indexes;
there the ordinary index on service and delivery date serves.)"""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS {table}_delivery_times
    ON {table} (service_name, delivered_on)
    INCLUDE (resolution_seconds, department_id, cost_centre_id, category_name)
"""
DROP = "DROP INDEX IF EXISTS {table}_delivery_times"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            table = apps.get_model("catalog", "ItemFact")._meta.db_table
            schema_editor.execute(sql.format(table=table), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0014_bill_closings_append_only")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
