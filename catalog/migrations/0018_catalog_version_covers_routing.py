"""The catalog's version also moves when a site or a page's privacy changes: the
portal keeps each process's sites, routes and view restrictions under it
(``home.serve``), so a change to any of them must give it a new token.

Same triggers as 0017, on Wagtail's site, view-restriction and
view-restriction-groups tables.
"""

import importlib

from django.db import migrations

_0017 = importlib.import_module("catalog.migrations.0017_catalog_version")

VERSIONED = [
    ("wagtailcore", "Site", None),
    ("wagtailcore", "PageViewRestriction", None),
    ("wagtailcore", "PageViewRestriction", "groups"),
]


def _tables(apps):
    for app_label, model_name, field in VERSIONED:
        model = apps.get_model(app_label, model_name)
        if field is not None:
            model = model._meta.get_field(field).remote_field.through
        yield model._meta.db_table


def _statements(apps, vendor, *, create):
    version = apps.get_model("catalog", "CatalogVersion")._meta.db_table
    statements = []
    for table in _tables(apps):
        name = f"{table}_catalog_version"[:61]
        if vendor == "postgresql":
            sql = _0017.POSTGRESQL_CREATE if create else _0017.POSTGRESQL_DROP
            statements.append(sql.format(name=name, table=table, version=version))
        elif vendor == "sqlite":
            for event in ("INSERT", "UPDATE", "DELETE"):
                sql = _0017.SQLITE_CREATE if create else _0017.SQLITE_DROP
                statements.append(
                    sql.format(name=name, event=event, table=table, version=version)
                )
    return statements


def create_triggers(apps, schema_editor):
    for sql in _statements(apps, schema_editor.connection.vendor, create=True):
        schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    for sql in _statements(apps, schema_editor.connection.vendor, create=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0017_catalog_version")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
