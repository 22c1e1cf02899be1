"""The portal's few SQL queries name their columns, and on PostgreSQL the
queries every page runs become prepared statements."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from home.sql import columns


def test_columns_names_every_column_of_the_model():
    assert columns(get_user_model(), "u") == (
        'u."id", u."password", u."last_login", u."is_superuser", u."username",'
        ' u."first_name", u."last_name", u."email", u."is_staff", u."is_active",'
        ' u."date_joined"'
    )


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
def test_a_page_s_queries_are_prepared_after_five_requests(client, employee):
    client.force_login(employee)
    for _ in range(6):
        assert client.get("/requests/").status_code == 200
    prepared = _prepared_statements()
    # The session with the person, and the header's counts: on every page.
    assert any("session_data" in statement for statement in prepared)
    assert any("COUNT(*)" in statement for statement in prepared)
