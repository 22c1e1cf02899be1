"""Where a page's time goes: CPU per request, split by component, and its queries.

The companion of ``bench/rps.py``: same throwaway database, same settings (DEBUG
off), the same portal pages each as its person, but the requests go through Django's
test client in this process, so CPU time can be attributed to the code that spent
it. CPU time (not wall time) keeps the numbers steady on a busy machine.

    .venv/bin/python bench/profile_pages.py [--database-url postgres://...]

Prints, for each page: CPU ms per request (median of interleaved rounds, no
instrumentation), then the same requests instrumented with timers around the
expensive parts, then each SQL query with the code that issued it. With
PostgreSQL the database server's own CPU is not in these numbers.
"""

import argparse
import collections
import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.rps import (  # noqa: E402
    PORTAL,
    TARGETS,
    PostgresDatabase,
    bench_env,
    log,
    prepare_database,
    prepare_fixture,
)

TIMERS: dict[str, float] = collections.defaultdict(float)
LABELS: list[str] = []  # display order


def timed(owner, name: str, label: str, static: bool = False) -> None:
    """Accumulate the CPU time spent in ``owner.name`` under ``label``."""
    original = getattr(owner, name)
    LABELS.append(label)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            TIMERS[label] += time.process_time() - start

    setattr(owner, name, staticmethod(wrapper) if static else wrapper)


def instrument() -> None:
    """Wrap the parts worth watching (nested parts are indented)."""
    from django.contrib import auth
    from django.core.handlers.base import BaseHandler
    from django.template import loader_tags
    from django.template.response import SimpleTemplateResponse
    from wagtail.admin.templatetags import wagtailuserbar
    from wagtail.models import Page

    from catalog.models import ServicePage
    from catalog.selectors import caching, entitlements, header

    timed(BaseHandler, "get_response", "whole request (Django handler)")
    timed(auth, "get_user", "  session + user (auth middleware)")
    timed(
        Page,
        "route_for_request",
        "  Wagtail routing: Site + page tree walk (on a memo miss)",
        static=True,
    )
    timed(Page, "get_view_restrictions", "  Wagtail view restrictions check")
    timed(entitlements, "service_is_visible", "  service_is_visible (entitlements)")
    # Wrapped where the page's listing looks it up.
    timed(caching, "service_listing", "  service_listing (selector)")
    timed(entitlements.Audience, "of", "    Audience.of (profile + groups)")
    timed(ServicePage, "get_context", "  ServicePage.get_context")
    timed(SimpleTemplateResponse, "render", "  template rendering")
    timed(wagtailuserbar, "wagtailuserbar", "    {% wagtailuserbar %}")
    timed(header, "header_for", "    header figures (context processor)")

    original = loader_tags.IncludeNode.render

    def include_render(self, context):
        start = time.process_time()
        try:
            return original(self, context)
        finally:
            name = getattr(self.template, "var", self.template)
            TIMERS[f"    {{% include {name} %}}"] += time.process_time() - start

    loader_tags.IncludeNode.render = include_render


def query_origin() -> str:
    """The innermost frame of project code (else Wagtail/Django) behind a query."""
    frames = traceback.extract_stack()[:-3]
    for frame in reversed(frames):
        path = Path(frame.filename)
        if str(REPO) in str(path.resolve()) and ".venv" not in path.parts:
            rel = path.resolve().relative_to(REPO)
            if rel.parts[0] != "bench":
                return f"{rel}:{frame.lineno} {frame.name}"
    for frame in reversed(frames):
        if "/django/db/" not in frame.filename and "site-packages" in frame.filename:
            short = frame.filename.split("site-packages/")[-1]
            return f"{short}:{frame.lineno} {frame.name}"
    return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL (default: SQLite)")
    parser.add_argument("--requests", type=int, default=150, help="per page per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--history", type=int, default=0, metavar="N", help="demo requests to add"
    )
    args = parser.parse_args()

    postgres = PostgresDatabase(args.database_url) if args.database_url else None
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    try:
        if postgres:
            postgres.create()
            database_url = postgres.url
        else:
            database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        env = bench_env(workdir, database_url)
        prepare_database(env, args.history)
        fixture = prepare_fixture(env)
        os.environ.update(env)
        return profile(args, fixture)
    finally:
        from django.db import connections

        connections.close_all()
        if postgres:
            postgres.drop()
        shutil.rmtree(workdir, ignore_errors=True)


def profile(args, fixture: dict) -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    # Every page of the portal that bench/rps.py measures, each as its person.
    targets = [t for t in TARGETS if t.server == PORTAL]
    paths = [fixture["paths"][t.path] for t in targets]
    clients = {}
    for username in {t.user for t in targets}:
        clients[username] = Client(HTTP_HOST="127.0.0.1")
        clients[username].force_login(get_user_model().objects.get(username=username))
    client_for = {fixture["paths"][t.path]: clients[t.user] for t in targets}
    for path in paths:
        for _ in range(10):  # warm caches and templates
            response = client_for[path].get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")

    log(f"clean CPU: {args.rounds} rounds x {args.requests} requests per page")
    samples = {p: [] for p in paths}
    for _ in range(args.rounds):
        for path in paths:
            start = time.process_time()
            for _ in range(args.requests):
                client_for[path].get(path)
            samples[path].append((time.process_time() - start) / args.requests)
    clean = {p: statistics.median(v) * 1000 for p, v in samples.items()}

    log("instrumented pass")
    instrument()
    breakdown = {}
    for path in paths:
        TIMERS.clear()
        for _ in range(args.requests):
            client_for[path].get(path)
        breakdown[path] = {k: v / args.requests * 1000 for k, v in TIMERS.items()}

    queries = {}
    for path in paths:
        seen = []

        def wrapper(execute, sql, params, many, context, seen=seen):
            seen.append((query_origin(), sql))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            client_for[path].get(path)
        queries[path] = seen

    base = clean[paths[0]]
    width, col = 52, 33
    print(f"\n{'CPU ms per request':<{width}}" + "".join(f"{p:>{col}}" for p in paths))
    print(
        f"{'clean run (% = bare page / this page)':<{width}}"
        + "".join(f"{f'{clean[p]:.2f} ({base / clean[p]:.0%})':>{col}}" for p in paths)
    )
    print("instrumented run:")
    includes = sorted(
        {label for b in breakdown.values() for label in b if "{% include" in label},
        key=lambda label: -max(breakdown[p].get(label, 0) for p in paths),
    )
    for label in LABELS + includes[:8]:
        values = [breakdown[p].get(label, 0.0) for p in paths]
        if any(values):
            print(
                f"{label[:width]:<{width}}" + "".join(f"{v:>{col}.2f}" for v in values)
            )

    for path in paths:
        print(f"\n{path}: {len(queries[path])} queries")
        counts = collections.Counter(origin for origin, _ in queries[path])
        for origin, n in counts.items():
            print(f"  {n:>2} x {origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
