"""On PostgreSQL, refuse UPDATE and DELETE on closed bills at the database, as for
the request log (migration 0003). Elsewhere the hash chain is the guard."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Closed bills are append-only: % on {table} is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {table}_no_update_delete
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};
DROP FUNCTION IF EXISTS {table}_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            table = apps.get_model("catalog", "BillClosing")._meta.db_table
            schema_editor.execute(sql.format(table=table), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0013_bills_and_service_stats")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
