"""Executive figures at scale: the dashboard and the IT bill, timed as a person
asks for them (the whole page, in-process, server time only), side by side with
the same figures written by hand in SQL over the raw items (bench/executive_sql.py).

    # PostgreSQL, on a database already holding the history (see bench/README.md):
    .venv/bin/python bench/executive.py --database-url postgres://…/bench_1m
    # SQLite, on a fresh demo (3,000 requests of history), every executive page:
    .venv/bin/python bench/executive.py --demo

Exit status 1 when a target is missed: on PostgreSQL the whole-company dashboard
for a year under 1 s and a department's IT bill under 0.5 s, each within 3x of its
SQL floor; on the demo every executive page under 200 ms.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("ALLOW_INSECURE_SECRET_KEY", "1")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    # The test client speaks plain HTTP: no redirect to HTTPS.
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django
    from django.conf import settings
    from django.test.utils import override_settings

    django.setup()
    # DEBUG off as in production, but without running collectstatic: the pages'
    # static URLs don't matter to their server time.
    storages = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    override_settings(STORAGES=storages).enable()


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _time_page(client, url: str, rounds: int) -> tuple[list[float], int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    samples, queries = [], 0
    for _ in range(rounds):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            content = b"".join(response) if response.streaming else response.content
            samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code, content[:300])
        queries = len(captured.captured_queries)
    return samples, queries


def _time_call(function, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def _client_for(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def postgres(args) -> int:
    from bench.executive_sql import bill_floor, dashboard_floor
    from catalog.models import CostCentre, RequestItem

    today = date.today()
    start = today - timedelta(days=364)
    items = RequestItem.objects.count()
    print(f"{items:,} request items; period {start} to {today}.")
    coo, head = _client_for("executive"), _client_for("manager")
    sales = CostCentre.objects.get(code="CC-2100")
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = today.replace(day=1)
    dashboard_url = f"/executive/?period=custom&date_from={start}&date_to={today}"
    bill_url = f"/executive/bill/?cost_centre={sales.pk}&month={month:%Y-%m}"
    # Warm both sides once (connections, plans, Python imports).
    _time_page(coo, dashboard_url, 1)
    _time_page(head, bill_url, 1)
    dashboard_floor(start=start, end=today + timedelta(days=1))
    bill_floor(cost_centre_id=sales.pk, month=month, next_month=following)
    page, sql, bill, bill_sql = [], [], [], []
    dashboard_queries = bill_queries = 0
    for _ in range(args.rounds):  # interleaved, so both see the same machine
        samples, dashboard_queries = _time_page(coo, dashboard_url, 1)
        page += samples
        sql += _time_call(
            lambda: dashboard_floor(start=start, end=today + timedelta(days=1)), 1
        )
        samples, bill_queries = _time_page(head, bill_url, 1)
        bill += samples
        bill_sql += _time_call(
            lambda: bill_floor(
                cost_centre_id=sales.pk, month=month, next_month=following
            ),
            1,
        )
    rows = [
        ("Dashboard, whole company, 12 months", page, sql, 1000, dashboard_queries),
        (f"IT bill, CC-2100 Sales, {month:%B %Y}", bill, bill_sql, 500, bill_queries),
    ]
    failed = False
    print(f"\n{'page':<42} {'server ms':>10} {'SQL floor ms':>13} {'ratio':>6} queries")
    for label, portal, floor, limit, queries in rows:
        portal_ms, floor_ms = _median_ms(portal), _median_ms(floor)
        ratio = portal_ms / floor_ms if floor_ms else 0
        ok = portal_ms < limit and ratio <= 3
        failed |= not ok
        print(
            f"{label:<42} {portal_ms:>10.0f} {floor_ms:>13.0f} {ratio:>6.2f} "
            f"{queries:>7}  {'ok' if ok else f'MISSED (< {limit} ms, <= 3x)'}"
        )
    print(f"\nMedians of {args.rounds} interleaved rounds.")
    return 1 if failed else 0


def demo(args) -> int:
    from django.core.management import call_command

    from catalog.models import CostCentre, ServicePage

    call_command("migrate", verbosity=0)
    call_command("load_demo", force=True, history=3000, verbosity=0)
    today = date.today()
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    sales = CostCentre.objects.get(code="CC-2100")
    laptop = ServicePage.objects.get(title="New laptop").url
    year = f"period=custom&date_from={today - timedelta(days=364)}&date_to={today}"
    pages = [
        ("executive", "Dashboard, whole company, 12 months", f"/executive/?{year}"),
        ("manager", "Dashboard, Sales, 12 months", f"/executive/?{year}"),
        ("executive", "Items: delivered", f"/executive/items/?{year}&metric=delivered"),
        ("executive", "Items: backlog", f"/executive/items/?{year}&metric=backlog"),
        ("executive", "Dashboard CSV", f"/executive/export.csv?{year}"),
        ("executive", "Dashboard XLSX", f"/executive/export.xlsx?{year}"),
        (
            "manager",
            "IT bill, Sales",
            f"/executive/bill/?cost_centre={sales.pk}&month={month:%Y-%m}",
        ),
        (
            "manager",
            "IT bill XLSX, Sales",
            f"/executive/bill/export.xlsx?cost_centre={sales.pk}&month={month:%Y-%m}",
        ),
        ("executive", "Service review", "/executive/review/"),
        ("executive", "Service page with the panel", laptop),
    ]
    clients = {name: _client_for(name) for name in ("executive", "manager")}
    failed = False
    print(f"{'page':<36} {'median ms':>10} {'max ms':>8} queries")
    for who, label, url in pages:
        _time_page(clients[who], url, 1)
        samples, queries = _time_page(clients[who], url, args.rounds)
        median = _median_ms(samples)
        ok = median < 200
        failed |= not ok
        print(
            f"{label:<36} {median:>10.0f} {max(samples) * 1000:>8.0f} {queries:>7}"
            f"  {'ok' if ok else 'MISSED (< 200 ms)'}"
        )
    print(f"\nMedians of {args.rounds} requests each, after one warm-up.")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL database with history")
    parser.add_argument("--demo", action="store_true", help="SQLite demo instead")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.demo:
        folder = tempfile.mkdtemp(prefix="bench-executive-")
        _setup(f"sqlite:///{folder}/demo.sqlite3")
        return demo(args)
    if not args.database_url or "bench" not in args.database_url.rsplit("/", 1)[-1]:
        parser.error("--database-url must name a database whose name has 'bench'")
    _setup(args.database_url)
    return postgres(args)


if __name__ == "__main__":
    sys.exit(main())
