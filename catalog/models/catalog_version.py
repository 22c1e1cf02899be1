"""The catalog's version: one row whose token the database itself changes, by
triggers (migration 0017), in the same transaction as any write that can change
what someone sees in the catalog. Cached listings and routes are keyed on it.

Triggers rather than signals because pages, restrictions and delivery figures are
also written by ``QuerySet.update``, ``bulk_create``, treebeard's moves and raw
SQL, none of which send signals. The token is random rather than a counter, so it
never repeats, even if the row is deleted and made again.
"""

from django.db import models


class CatalogVersion(models.Model):
    """The single row (``id`` 1) holding the current version's token."""

    token = models.CharField(max_length=32)

    class Meta:
        # Written only by the database's triggers.
        default_permissions = ()

    def __str__(self):
        return self.token
