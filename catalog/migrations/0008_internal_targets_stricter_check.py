"""A database check that a fulfilment group's internal targets stay strictly
stricter than its service level's customer targets.

The rule spans two tables, which a CHECK constraint can't, so it is a trigger on
each side: inserting or changing an internal target, and changing a service level.
"""

from django.db import migrations

SQLITE = [
    """
    CREATE TRIGGER {target}_stricter_{op} BEFORE {op} ON {target}
    WHEN EXISTS (
        SELECT 1 FROM {level} WHERE {level}.id = NEW.service_level_id
        AND (NEW.response_target_hours >= {level}.response_target_hours
             OR NEW.resolution_target_hours >= {level}.resolution_target_hours))
    BEGIN
        SELECT RAISE(ABORT, 'internal target must be stricter than the customer target');
    END
    """,
    """
    CREATE TRIGGER {level}_stricter_update BEFORE UPDATE ON {level}
    WHEN EXISTS (
        SELECT 1 FROM {target} WHERE {target}.service_level_id = NEW.id
        AND ({target}.response_target_hours >= NEW.response_target_hours
             OR {target}.resolution_target_hours >= NEW.resolution_target_hours))
    BEGIN
        SELECT RAISE(ABORT, 'internal target must be stricter than the customer target');
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS {target}_stricter_insert",
    "DROP TRIGGER IF EXISTS {target}_stricter_update",
    "DROP TRIGGER IF EXISTS {level}_stricter_update",
]
POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION {target}_stricter() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM {level} WHERE {level}.id = NEW.service_level_id
            AND (NEW.response_target_hours >= {level}.response_target_hours
                 OR NEW.resolution_target_hours >= {level}.resolution_target_hours)
        ) THEN
            RAISE EXCEPTION 'internal target must be stricter than the customer target'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER {target}_stricter BEFORE INSERT OR UPDATE ON {target}
        FOR EACH ROW EXECUTE FUNCTION {target}_stricter()
    """,
    """
    CREATE OR REPLACE FUNCTION {level}_stricter() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM {target} WHERE {target}.service_level_id = NEW.id
            AND ({target}.response_target_hours >= NEW.response_target_hours
                 OR {target}.resolution_target_hours >= NEW.resolution_target_hours)
        ) THEN
            RAISE EXCEPTION 'internal target must be stricter than the customer target'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER {level}_stricter BEFORE UPDATE ON {level}
        FOR EACH ROW EXECUTE FUNCTION {level}_stricter()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS {target}_stricter ON {target}",
    "DROP FUNCTION IF EXISTS {target}_stricter()",
    "DROP TRIGGER IF EXISTS {level}_stricter ON {level}",
    "DROP FUNCTION IF EXISTS {level}_stricter()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        names = {
            "target": apps.get_model("catalog", "InternalTarget")._meta.db_table,
            "level": apps.get_model("catalog", "ServiceLevel")._meta.db_table,
        }
        vendor = schema_editor.connection.vendor
        for statement in statements_by_vendor.get(vendor, []):
            if "{op}" in statement:
                for op in ("insert", "update"):
                    schema_editor.execute(
                        statement.format(op=op, **names).replace(
                            f"BEFORE {op} ON", f"BEFORE {op.upper()} ON"
                        ),
                        params=None,
                    )
            else:
                schema_editor.execute(statement.format(**names), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0007_service_level_calendar_required")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        )
    ]
