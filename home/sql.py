"""Names for the few queries the portal writes as SQL (each says why it does):
tables and columns come from the models, quoted for the database in use."""

from django.db import connection


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def columns(model, alias: str) -> str:
    """Every column of ``model``, by name under ``alias``: never ``*``, because a
    prepared statement must keep the shape of its result when a column is
    added."""
    return ", ".join(
        f"{alias}.{connection.ops.quote_name(f.column)}"
        for f in model._meta.concrete_fields
    )
