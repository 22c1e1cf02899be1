"""The catalog's version (``CatalogVersion``): one row, and triggers that give it a
new random token, in the writing transaction, on every insert, update or delete
of the tables behind what a person sees in the catalog: pages, the service
restriction tables and the delivery figures on cards.

On PostgreSQL the triggers run once per statement (a tree move that rewrites a
thousand paths bumps once) and also on TRUNCATE; SQLite only has row triggers.
Both upsert, so a missing row is made again rather than left missing.

Depends on 0016 (not 0015) because 0016 was already committed when this was
written; a migration graph with two leaves refuses to migrate.
"""

import uuid

from django.db import migrations, models

# (app label, model, many-to-many field or None): the model's own table, or the
# through table of that field.
VERSIONED = [
    ("wagtailcore", "Page", None),
    ("catalog", "CatalogIndexPage", None),
    ("catalog", "CategoryPage", None),
    ("catalog", "ServicePage", None),
    ("catalog", "ServicePage", "restricted_to_departments"),
    ("catalog", "ServicePage", "restricted_to_locations"),
    ("catalog", "ServicePage", "restricted_to_groups"),
    ("catalog", "ServiceDeliveryStats", None),
]

SQLITE_CREATE = """
CREATE TRIGGER {name}_{event} AFTER {event} ON {table}
BEGIN
    INSERT INTO {version} (id, token) VALUES (1, lower(hex(randomblob(16))))
        ON CONFLICT (id) DO UPDATE SET token = excluded.token;
END
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS {name}_{event}"

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION {version}_bump() RETURNS trigger AS $$
BEGIN
    INSERT INTO {version} (id, token)
        VALUES (1, md5(random()::text || clock_timestamp()::text))
        ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
POSTGRESQL_CREATE = """
CREATE TRIGGER {name}
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {version}_bump()
"""
POSTGRESQL_DROP = "DROP TRIGGER IF EXISTS {name} ON {table}"
POSTGRESQL_DROP_FUNCTION = "DROP FUNCTION IF EXISTS {version}_bump()"


def _tables(apps):
    for app_label, model_name, field in VERSIONED:
        model = apps.get_model(app_label, model_name)
        if field is not None:
            model = model._meta.get_field(field).remote_field.through
        yield model._meta.db_table


def _statements(apps, vendor, *, create):
    version = apps.get_model("catalog", "CatalogVersion")._meta.db_table
    statements = []
    if vendor == "postgresql" and create:
        statements.append(POSTGRESQL_FUNCTION.format(version=version))
    for table in _tables(apps):
        # At most 61 characters: PostgreSQL cuts names at 63.
        name = f"{table}_catalog_version"
        if vendor == "postgresql":
            sql = POSTGRESQL_CREATE if create else POSTGRESQL_DROP
            statements.append(sql.format(name=name, table=table, version=version))
        elif vendor == "sqlite":
            for event in ("INSERT", "UPDATE", "DELETE"):
                sql = SQLITE_CREATE if create else SQLITE_DROP
                statements.append(
                    sql.format(name=name, event=event, table=table, version=version)
                )
    if vendor == "postgresql" and not create:
        statements.append(POSTGRESQL_DROP_FUNCTION.format(version=version))
    return statements


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in _statements(apps, vendor, create=True):
        schema_editor.execute(sql, params=None)
    apps.get_model("catalog", "CatalogVersion").objects.update_or_create(
        pk=1, defaults={"token": uuid.uuid4().hex}
    )


def drop_triggers(apps, schema_editor):
    for sql in _statements(apps, schema_editor.connection.vendor, create=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0016_request_log_heads_and_keys")]

    operations = [
        migrations.CreateModel(
            name="CatalogVersion",
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
                ("token", models.CharField(max_length=32)),
            ],
            options={"default_permissions": ()},
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
