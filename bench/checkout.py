"""Checkout throughput on PostgreSQL: sequential, then 8 concurrent clients.

Each simulated person has a basket of two services (one with a request form). The
sequential run submits baskets one after another; the concurrent run has 8 threads
(8 database connections) submit the rest, each basket twice, as a double click or
a retry would. Afterwards every basket must have exactly one request, no request
may be missing or duplicated, and the request log must verify.

This measures the checkout service (locking, validation, inserts, log events and
the confirmation e-mail rendered by the inline task backend), not HTTP.

    .venv/bin/python bench/checkout.py [--people 400] [--clients 8]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_checkout]
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/bench_checkout",
        help="a PostgreSQL database that will be dropped and created",
    )
    return parser.parse_args()


def recreate_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        CONN_MAX_AGE="0",
    )
    import django

    django.setup()


def prepare(people_count: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from catalog.demo.loader import load_demo
    from catalog.models import Department, Location, ServicePage, UserProfile
    from catalog.selectors.basket import basket_review
    from catalog.services.basket import basket_line_add

    call_command("migrate", verbosity=0)
    load_demo()
    User = get_user_model()
    password = make_password(None)
    users = User.objects.bulk_create(
        [
            User(
                username=f"bench{i:05d}",
                email=f"bench{i}@example.com",
                password=password,
                first_name="Bench",
                last_name=str(i),
            )
            for i in range(people_count)
        ]
    )
    sales = Department.objects.get(name="Sales")
    london = Location.objects.get(name="London HQ")
    UserProfile.objects.bulk_create(
        [UserProfile(user=u, department=sales, location=london) for u in users]
    )
    folder = ServicePage.objects.get(title="Access to a shared folder")
    password_reset = ServicePage.objects.get(title="Reset a forgotten password")
    folder_answers = {
        f"q_{key}": value
        for (key, _), value in zip(
            folder.request_questions,
            [r"\\files\sales", "Read files", "Quarterly figures"],
            strict=True,
        )
    }
    reset_answers = {f"q_{password_reset.request_questions[0][0]}": "Windows / email"}
    baskets = []
    for user in users:
        basket_line_add(user=user, service_id=folder.pk, data=folder_answers)
        basket_line_add(user=user, service_id=password_reset.pk, data=reset_answers)
        review = basket_review(user=user)
        baskets.append((user, review.basket.pk, review.fingerprint))
    return baskets


def submit(user, basket_id, fingerprint):
    from catalog.services.checkout import request_submit

    return request_submit(
        user=user,
        basket_id=basket_id,
        expected_fingerprint=fingerprint,
        business_reason="Benchmark order.",
    )


def run_sequential(baskets):
    timings = []
    started = time.perf_counter()
    for user, basket_id, fingerprint in baskets:
        t0 = time.perf_counter()
        result = submit(user, basket_id, fingerprint)
        timings.append(time.perf_counter() - t0)
        assert result.created
    return time.perf_counter() - started, timings


def run_concurrent(baskets, clients: int):
    from django.db import connection

    created, repeated, errors, timings = [], [], [], []
    lock = threading.Lock()
    queue = list(baskets)

    def client():
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    user, basket_id, fingerprint = queue.pop()
                for _attempt in range(2):  # a double click
                    t0 = time.perf_counter()
                    result = submit(user, basket_id, fingerprint)
                    elapsed = time.perf_counter() - t0
                    with lock:
                        timings.append(elapsed)
                        (created if result.created else repeated).append(
                            (basket_id, result.service_request.pk)
                        )
        except Exception as exc:  # reported, and fails the run
            with lock:
                errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, timings, created, repeated, errors


def main():
    args = parse_args()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.db.models import Count

    from catalog.models import Basket, RequestItem, ServiceRequest
    from catalog.services.request_log import request_log_verify

    t0 = time.perf_counter()
    baskets = prepare(args.people)
    print(f"prepared {len(baskets)} baskets in {time.perf_counter() - t0:.1f} s")
    half = len(baskets) // 2
    seq_time, seq_timings = run_sequential(baskets[:half])
    con_time, con_timings, created, repeated, errors = run_concurrent(
        baskets[half:], args.clients
    )

    concurrent_baskets = {b for _, b, _ in baskets[half:]}
    requests_per_basket = dict(
        ServiceRequest.objects.values("basket_id")
        .annotate(n=Count("id"))
        .values_list("basket_id", "n")
    )
    duplicated = [b for b, n in requests_per_basket.items() if n > 1]
    missing = [b for _, b, _ in baskets if b not in requests_per_basket]
    same_answer = all(dict(created)[basket] == request for basket, request in repeated)
    broken = list(request_log_verify())
    still_open = Basket.objects.filter(status=Basket.Status.OPEN).count()

    def ms(values, q):
        return statistics.quantiles(values, n=100)[q - 1] * 1000

    print()
    print(
        f"{'run':<26}{'checkouts':>10}{'seconds':>10}{'per second':>12}"
        f"{'p50 ms':>9}{'p99 ms':>9}"
    )
    print(
        f"{'sequential, 1 client':<26}{half:>10}{seq_time:>10.2f}"
        f"{half / seq_time:>12.1f}{ms(seq_timings, 50):>9.1f}"
        f"{ms(seq_timings, 99):>9.1f}"
    )
    label = f"concurrent, {args.clients} clients"
    print(
        f"{label:<26}{len(created):>10}{con_time:>10.2f}"
        f"{len(created) / con_time:>12.1f}{ms(con_timings, 50):>9.1f}"
        f"{ms(con_timings, 99):>9.1f}"
    )
    print()
    print(
        f"concurrent submits: {len(created) + len(repeated)} "
        f"({len(created)} created, {len(repeated)} repeats answered with the "
        f"existing request: {'yes' if same_answer else 'NO'})"
    )
    print(
        f"baskets: {len(baskets)}; requests: {ServiceRequest.objects.count()}; "
        f"items: {RequestItem.objects.count()}; baskets still open: {still_open}"
    )
    print(
        f"duplicated: {len(duplicated)}; missing: {len(missing)}; "
        f"errors: {len(errors)}; broken log links: {len(broken)}"
    )
    ok = (
        not duplicated
        and not missing
        and not errors
        and not broken
        and same_answer
        and len(created) == len(concurrent_baskets)
        and still_open == 0
        and RequestItem.objects.count() == 2 * len(baskets)
    )
    print("RESULT:", "every request accounted for, none duplicated" if ok else "FAILED")
    if errors:
        print("\n".join(errors[:5]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
