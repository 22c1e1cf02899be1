"""Django's database sessions, read with one plain query that also reads the
person the session logs in and the permissions they hold.

Every request from someone logged in loads their session and then the person;
the stock store builds its query with the ORM each time, which took several
times longer than the database took to answer it (bench/README.md, "The
shell"), and the person and their permissions cost two more round trips. The
session row keeps the person's key (``PortalSession.user``, set whenever the
session is saved), so one query with a join reads all three; Django's own checks
then run as always (home/auth.py). Saving, expiry, rotation and deletion are
Django's own.
"""

from functools import cache

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from home.auth import held_permission_names_sql, permissions_known
from home.sql import column, columns, table


@cache
def _session_sql() -> str:
    """The session's data with the person's row (all NULL when it names nobody),
    as a raw query on the person's model, so Django converts their values."""
    from home.models import PortalSession as session

    person = get_user_model()
    permissions = held_permission_names_sql(f"s.{column(session, 'user')}")
    return (
        f"SELECT {columns(person, 'u')},"
        f" s.{column(session, 'session_data')} AS session_data,"
        f" ({permissions}) AS permission_names"
        f" FROM {table(session)} s LEFT JOIN {table(person)} u"
        f" ON u.{column(person, person._meta.pk.name)} = s.{column(session, 'user')}"
        f" WHERE s.{column(session, 'session_key')} = %s"
        f" AND s.{column(session, 'expire_date')} > %s"
    )


class SessionStore(db.SessionStore):
    # The person the session row names, read with it; None when it names nobody.
    # Only a hint: home.auth uses it when it is the person the session's data
    # says is logged in, and Django's checks run on it as on any other.
    loaded_user = None

    @classmethod
    def get_model_class(cls):
        from home.models import PortalSession

        return PortalSession

    def create_model_instance(self, data):
        obj = super().create_model_instance(data)
        key = data.get(SESSION_KEY)
        obj.user_id = get_user_model()._meta.pk.to_python(key) if key else None
        return obj

    def _get_session_from_db(self):
        self.loaded_user = None
        if not self.session_key:
            self._session_key = None
            return None
        model = self.model
        using = router.db_for_read(model)
        now = connections[using].ops.adapt_datetimefield_value(timezone.now())
        found = list(
            get_user_model()
            ._default_manager.db_manager(using)
            .raw(_session_sql(), [self.session_key, now])
        )
        if not found:
            # As Django's: an unknown or expired key starts a new session.
            self._session_key = None
            return None
        row = found[0]
        if row.pk is not None:
            permissions_known(row, row.permission_names)
            self.loaded_user = row
        return model(session_key=self.session_key, session_data=row.session_data)
