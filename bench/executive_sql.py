"""The floor for the executive benchmark: the same figures as the dashboard and
the IT bill, written by hand in SQL straight over the request items (no facts,
no rollups). PostgreSQL only. Table and column names come from the models'
``_meta``, so a renamed table can't silently make this measure something else.
"""

from datetime import date

from django.db import connection

from catalog.models import (
    ItemStatus,
    RequestItem,
    ServiceRequest,
)

DELIVERED = [ItemStatus.FULFILLED.value, ItemStatus.CLOSED.value]
OPEN = [
    s.value
    for s in (
        ItemStatus.SUBMITTED,
        ItemStatus.AWAITING_APPROVAL,
        ItemStatus.APPROVED,
        ItemStatus.IN_PROGRESS,
        ItemStatus.ON_HOLD,
    )
]


def _names() -> dict:
    item, request = RequestItem._meta, ServiceRequest._meta
    return {
        "items": item.db_table,
        "requests": request.db_table,
        "request_fk": item.get_field("request").column,
        "removes_fk": item.get_field("removes_item").column,
        "department": request.get_field("department").column,
        "cost_centre": request.get_field("cost_centre").column,
        "tz": "Europe/London",
    }


# Each query takes %(start)s and %(end)s (local dates, end exclusive) and an
# optional department filter, and returns the rows of one dashboard figure.
DASHBOARD = {
    "one-off spend by month": """
        SELECT date_trunc('month', i.fulfilled_at AT TIME ZONE %(tz)s) AS month,
               SUM(i.one_off_price * i.quantity)
        FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
        WHERE i.status = ANY(%(delivered)s)
          AND i.fulfilled_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND i.fulfilled_at < (%(end)s::date)::timestamp AT TIME ZONE %(tz)s
          {department_filter}
        GROUP BY 1""",
    "one-off spend by service and cost centre": """
        SELECT i.service_name, r.{cost_centre}, SUM(i.one_off_price * i.quantity),
               COUNT(*), SUM(i.quantity)
        FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
        WHERE i.status = ANY(%(delivered)s)
          AND i.fulfilled_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND i.fulfilled_at < (%(end)s::date)::timestamp AT TIME ZONE %(tz)s
          {department_filter}
        GROUP BY 1, 2""",
    "recurring spend by month": """
        WITH held AS (
            SELECT i.monthly_price * i.quantity AS monthly,
                   (i.fulfilled_at AT TIME ZONE %(tz)s)::date AS held_from,
                   (SELECT MIN((x.fulfilled_at AT TIME ZONE %(tz)s)::date)
                      FROM {items} x
                     WHERE x.{removes_fk} = i.id AND x.status = ANY(%(delivered)s)
                   ) AS held_until
            FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
            WHERE i.status = ANY(%(delivered)s) AND i.monthly_price > 0
              AND i.{removes_fk} IS NULL
              AND i.fulfilled_at < (%(end)s::date)::timestamp AT TIME ZONE %(tz)s
              {department_filter}
        ), months AS (
            SELECT generate_series(%(start)s::date, %(end)s::date - 1,
                                   interval '1 month')::date AS month
        )
        SELECT m.month,
               SUM(ROUND(h.monthly * (
                   LEAST(COALESCE(h.held_until, '9999-01-01'::date),
                         (m.month + interval '1 month')::date)
                   - GREATEST(h.held_from, m.month)
               ) / EXTRACT(DAY FROM (m.month + interval '1 month - 1 day')), 2))
        FROM months m JOIN held h
          ON h.held_from < (m.month + interval '1 month')::date
         AND COALESCE(h.held_until, '9999-01-01'::date) > m.month
        GROUP BY 1""",
    "attainment, breaches, ratings and time to deliver by service": """
        SELECT i.service_name,
               COUNT(*) FILTER (WHERE i.resolution_target_hours IS NOT NULL),
               COUNT(*) FILTER (WHERE i.resolution_target_hours IS NOT NULL
                                  AND i.resolution_breached_at IS NULL),
               COUNT(*) FILTER (WHERE i.internal_resolution_target_hours IS NOT NULL
                                  AND i.internal_resolution_breached_at IS NULL),
               COUNT(*) FILTER (WHERE i.response_breached_at IS NULL),
               COUNT(*) FILTER (WHERE i.internal_response_breached_at IS NULL),
               AVG(i.rating), COUNT(i.rating),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY i.resolution_seconds),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY i.resolution_seconds)
        FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
        WHERE i.status = ANY(%(delivered)s)
          AND i.fulfilled_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND i.fulfilled_at < (%(end)s::date)::timestamp AT TIME ZONE %(tz)s
          {department_filter}
        GROUP BY 1""",
    "time to deliver overall": """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY i.resolution_seconds),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY i.resolution_seconds)
        FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
        WHERE i.status = ANY(%(delivered)s)
          AND i.fulfilled_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND i.fulfilled_at < (%(end)s::date)::timestamp AT TIME ZONE %(tz)s
          {department_filter}""",
    "approval lead time": """
        SELECT AVG(EXTRACT(EPOCH FROM i.clock_started_at - i.created_at))
        FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
        WHERE i.clock_started_at > i.created_at
          AND i.clock_started_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND i.clock_started_at < (%(end)s::date)::timestamp AT TIME ZONE %(tz)s
          {department_filter}""",
    "volume by month": """
        SELECT date_trunc('month', i.created_at AT TIME ZONE %(tz)s), COUNT(*)
        FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
        WHERE i.created_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND i.created_at < (%(end)s::date)::timestamp AT TIME ZONE %(tz)s
          {department_filter}
        GROUP BY 1""",
    "open backlog by age": """
        SELECT CASE WHEN i.created_at > now() - interval '1 day' THEN 0
                    WHEN i.created_at > now() - interval '3 days' THEN 1
                    WHEN i.created_at > now() - interval '7 days' THEN 2
                    WHEN i.created_at > now() - interval '30 days' THEN 3
                    ELSE 4 END, COUNT(*),
               COUNT(*) FILTER (WHERE i.at_risk_at IS NOT NULL
                                  AND i.resolution_breached_at IS NULL)
        FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
        WHERE i.status = ANY(%(open)s) {department_filter}
        GROUP BY 1""",
}

BILL = {
    "one-off lines": """
        SELECT i.service_name, i.one_off_price, SUM(i.quantity),
               SUM(i.one_off_price * i.quantity)
        FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
        WHERE r.{cost_centre} = %(cost_centre)s AND i.status = ANY(%(delivered)s)
          AND i.one_off_price > 0
          AND i.fulfilled_at >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
          AND i.fulfilled_at < (%(end)s::date)::timestamp AT TIME ZONE %(tz)s
        GROUP BY 1, 2""",
    "recurring lines": """
        WITH held AS (
            SELECT i.service_name, i.monthly_price * i.quantity AS monthly,
                   (i.fulfilled_at AT TIME ZONE %(tz)s)::date AS held_from,
                   (SELECT MIN((x.fulfilled_at AT TIME ZONE %(tz)s)::date)
                      FROM {items} x
                     WHERE x.{removes_fk} = i.id AND x.status = ANY(%(delivered)s)
                   ) AS held_until
            FROM {items} i JOIN {requests} r ON r.id = i.{request_fk}
            WHERE r.{cost_centre} = %(cost_centre)s AND i.status = ANY(%(delivered)s)
              AND i.monthly_price > 0 AND i.{removes_fk} IS NULL
              AND i.fulfilled_at < (%(end)s::date)::timestamp AT TIME ZONE %(tz)s
        )
        SELECT service_name, monthly, COUNT(*),
               SUM(ROUND(monthly * (
                   LEAST(COALESCE(held_until, '9999-01-01'::date), %(end)s::date)
                   - GREATEST(held_from, %(start)s::date)
               ) / (%(end)s::date - %(start)s::date), 2))
        FROM held
        WHERE COALESCE(held_until, '9999-01-01'::date) > %(start)s::date
        GROUP BY 1, 2""",
}


def _run(queries: dict, params: dict, department_filter: str) -> dict[str, list]:
    names = _names()
    results = {}
    with connection.cursor() as cursor:
        for label, sql in queries.items():
            cursor.execute(
                sql.format(department_filter=department_filter, **names),
                {
                    **params,
                    "tz": names["tz"],
                    "delivered": DELIVERED,
                    "open": OPEN,
                },
            )
            results[label] = cursor.fetchall()
    return results


def dashboard_floor(*, start: date, end: date, department_id=None) -> dict:
    """Every dashboard figure from the raw items for [start, end) (and the same
    period a year earlier), one hand-written query each."""
    names = _names()
    department_filter = (
        f"AND r.{names['department']} = %(department)s" if department_id else ""
    )
    params = {"start": start, "end": end, "department": department_id}
    results = _run(DASHBOARD, params, department_filter)
    last_year = {
        "start": start.replace(year=start.year - 1),
        "end": end.replace(year=end.year - 1),
        "department": department_id,
    }
    previous = _run(
        {"one-off spend by month": DASHBOARD["one-off spend by month"]},
        last_year,
        department_filter,
    )
    results["last year"] = previous["one-off spend by month"]
    return results


def bill_floor(*, cost_centre_id: int, month: date, next_month: date) -> dict:
    """The bill's one-off and recurring lines from the raw items."""
    return _run(
        BILL,
        {"cost_centre": cost_centre_id, "start": month, "end": next_month},
        "",
    )
