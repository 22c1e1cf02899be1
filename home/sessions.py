"""Django's database sessions, read with one plain query.

Every request from someone logged in loads their session; the stock store builds
that query with the ORM each time, which took several times longer than the
database took to answer it (bench/README.md, "The shell"). Saving, expiry,
rotation and deletion are Django's own.
"""

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from home.sql import column, table


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        if not self.session_key:
            self._session_key = None
            return None
        model = self.model
        connection = connections[router.db_for_read(model)]
        sql = (
            f"SELECT {column(model, 'session_data')} FROM {table(model)}"
            f" WHERE {column(model, 'session_key')} = %s"
            f" AND {column(model, 'expire_date')} > %s"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            # As Django's: an unknown or expired key starts a new session.
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
