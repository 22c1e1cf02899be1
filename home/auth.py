"""Django's model backend, loading a person and their permissions with plain
queries.

Every page asks for permissions (Wagtail's user bar, the header's links), and the
stock backend loads them in two ORM queries, one for the person's own and one
for their groups'; compiling those two cost more than running them
(bench/README.md, "The shell"), as did loading the person. Here the person
comes back from one plain SELECT, and the permissions from one raw UNION, with
tables and columns named from the models. The rules are Django's: nothing for an
inactive or anonymous user or for object permissions, everything for a
superuser (the stock path).
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from home.sql import column, table


@cache
def held_permission_ids_sql() -> str:
    """The ids of the permissions a person holds, their own and their groups'
    (the person's key is the parameter, twice): Django's rule as SQL, shared
    with the header's query (catalog.selectors.header)."""
    user_perms = get_user_model().user_permissions.through
    memberships = get_user_model().groups.through
    group_perms = Group.permissions.through
    return (
        f"SELECT {column(user_perms, 'permission')} FROM {table(user_perms)}"
        f" WHERE {column(user_perms, 'user')} = %s"
        f" UNION SELECT gp.{column(group_perms, 'permission')}"
        f" FROM {table(group_perms)} gp JOIN {table(memberships)} m"
        f" ON m.{column(memberships, 'group')} = gp.{column(group_perms, 'group')}"
        f" WHERE m.{column(memberships, 'user')} = %s"
    )


@cache
def _permissions_sql() -> str:
    return (
        f"SELECT ct.{column(ContentType, 'app_label')},"
        f" p.{column(Permission, 'codename')}"
        f" FROM {table(Permission)} p JOIN {table(ContentType)} ct"
        f" ON ct.{column(ContentType, 'id')} = p.{column(Permission, 'content_type')}"
        f" WHERE p.{column(Permission, 'id')} IN ({held_permission_ids_sql()})"
    )


@cache
def _user_sql() -> str:
    model = get_user_model()
    return (
        f"SELECT * FROM {table(model)} WHERE {column(model, model._meta.pk.name)} = %s"
    )


class PortalModelBackend(ModelBackend):
    def get_user(self, user_id):
        """The logged-in person, on every request: Django's rule (active people
        only), read with a plain query."""
        found = list(get_user_model()._default_manager.raw(_user_sql(), [user_id]))
        if not found:
            return None
        return found[0] if self.user_can_authenticate(found[0]) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj=obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(_permissions_sql(), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app}.{code}" for app, code in cursor}
        return user_obj._perm_cache
