"""Names for the few queries the portal writes as SQL (each says why it does):
tables and columns come from the models, quoted for the database in use."""

from django.db import connection


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)
