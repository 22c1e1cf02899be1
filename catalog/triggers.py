"""The catalog version's triggers survive SQLite table rebuilds.

To add most columns, Django's SQLite schema editor copies a table into a new one,
and the copy has none of the old table's triggers: a later migration that adds a
column to a page table would silently stop the catalog's version from moving, and
cached pages would stop following edits. So after every ``migrate`` the triggers
of migrations 0017 and 0018 are made again where they are missing. PostgreSQL
alters tables in place and keeps its triggers.
"""

import importlib

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

TRIGGER_MIGRATIONS = (
    "0017_catalog_version",
    "0018_catalog_version_covers_routing",
)


def restore_sqlite_version_triggers(*, using, apps, **kwargs) -> None:
    """``post_migrate``: recreate, where missing, the triggers of each trigger
    migration that is applied."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    applied = MigrationRecorder(connection).applied_migrations()
    with connection.cursor() as cursor:
        for name in TRIGGER_MIGRATIONS:
            if ("catalog", name) not in applied:
                continue
            module = importlib.import_module(f"catalog.migrations.{name}")
            for sql in module._statements(apps, "sqlite", create=True):
                cursor.execute(
                    sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
                )
