"""On PostgreSQL, refuse UPDATE and DELETE on the request log at the database.

TRUNCATE is left to privileges (revoke it from the application's role in
production, see docs/operations.md): test suites empty tables with it.

SQLite has no equivalent that survives a determined admin, so there the hash
chain (``manage.py verify_request_log``) is the guard.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION catalog_requestevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The request log is append-only: % on catalog_requestevent is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_requestevent_no_update_delete
    BEFORE UPDATE OR DELETE ON catalog_requestevent
    FOR EACH ROW EXECUTE FUNCTION catalog_requestevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS catalog_requestevent_no_update_delete ON catalog_requestevent;
DROP FUNCTION IF EXISTS catalog_requestevent_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_request_permissions")]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]
