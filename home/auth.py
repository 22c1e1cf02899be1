"""Django's model backend and authentication middleware, loading a person and
their permissions with plain queries.

Every page asks who is logged in and what they may do (Wagtail's user bar, the
header's links, the page's own checks). The stock backend loads the person with
one ORM query and their permissions with two more; compiling those cost more
than running them (bench/README.md, "The shell"). On a request, the person and
their permissions come with the session's own query (home/sessions.py) and are
handed to Django's ``auth.get_user``; elsewhere, each is one plain query. Tables
and columns are named from the models. The rules are Django's: active people
only, nothing for an anonymous user or for object permissions, everything for a
superuser (the stock path).
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils.functional import SimpleLazyObject

from home.sql import column, columns, table


@cache
def held_permission_ids_sql(person: str = "%s") -> str:
    """The ids of the permissions a person holds, their own and their groups':
    Django's rule as SQL, for the person whose key is ``person`` (an SQL
    expression; by default a parameter, given twice). Shared with the header's
    query (catalog.selectors.header) and the session's (home/sessions.py)."""
    user_perms = get_user_model().user_permissions.through
    memberships = get_user_model().groups.through
    group_perms = Group.permissions.through
    return (
        f"SELECT {column(user_perms, 'permission')} FROM {table(user_perms)}"
        f" WHERE {column(user_perms, 'user')} = {person}"
        f" UNION SELECT gp.{column(group_perms, 'permission')}"
        f" FROM {table(group_perms)} gp JOIN {table(memberships)} m"
        f" ON m.{column(memberships, 'group')} = gp.{column(group_perms, 'group')}"
        f" WHERE m.{column(memberships, 'user')} = {person}"
    )


@cache
def held_permission_names_sql(person: str) -> str:
    """The names ("app.codename") of the permissions ``person`` (an SQL
    expression) holds, as one value separated by spaces, NULL for none."""
    joined = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    name = (
        f"ct.{column(ContentType, 'app_label')} || '.' ||"
        f" p.{column(Permission, 'codename')}"
    )
    return (
        f"SELECT {joined}({name}, ' ')"
        f" FROM {table(Permission)} p JOIN {table(ContentType)} ct"
        f" ON ct.{column(ContentType, 'id')} = p.{column(Permission, 'content_type')}"
        f" WHERE p.{column(Permission, 'id')} IN ({held_permission_ids_sql(person)})"
    )


def permissions_known(person, names: str | None) -> None:
    """``person``'s permissions, from the value ``held_permission_names_sql``
    read (with the session, or on its own): no query of their own afterwards.
    Not for a superuser, who holds every permission (Django's stock path)."""
    if not person.is_superuser:
        person._perm_cache = set(names.split()) if names else set()


@cache
def _user_sql() -> str:
    model = get_user_model()
    return (
        f"SELECT {columns(model, table(model))} FROM {table(model)}"
        f" WHERE {column(model, model._meta.pk.name)} = %s"
    )


# The request's session while Django's ``auth.get_user`` looks up who it logs
# in (only then), so the backend can take the person read with it.
_current_session = ContextVar("current_session", default=None)


@contextmanager
def _looking_up(session):
    token = _current_session.set(session)
    try:
        yield
    finally:
        _current_session.reset(token)


class PortalModelBackend(ModelBackend):
    def get_user(self, user_id):
        """The logged-in person, on every request: Django's rule (active people
        only), read with the session when it was, else with a plain query."""
        person = getattr(_current_session.get(), "loaded_user", None)
        if person is None or str(person.pk) != str(user_id):
            found = list(get_user_model()._default_manager.raw(_user_sql(), [user_id]))
            person = found[0] if found else None
        if person is None:
            return None
        return person if self.user_can_authenticate(person) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj=obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(held_permission_names_sql("%s"), [user_obj.pk] * 2)
                permissions_known(user_obj, cursor.fetchone()[0])
        return user_obj._perm_cache


def _session_user(request):
    """As Django's ``get_user`` in its middleware, with the person the session
    read handed to the backend; every check of Django's ``auth.get_user`` (the
    backend named in the session, the session's password hash) runs as always."""
    if not hasattr(request, "_cached_user"):
        with _looking_up(request.session):
            request._cached_user = auth.get_user(request)
    return request._cached_user


class PortalAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's, reading the person with the session (home/sessions.py)."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _session_user(request))
