"""Every page a person opens, timed on a large database and on a demo-size one,
side by side: does a page stay as fast, with as many queries, when the history
grows from a few thousand requests to a million items?

    # Build the databases on first use (or migrate and reuse them), then time:
    .venv/bin/python bench/scale.py --large bench_1m --small bench_demo
    # A few pages only, e.g. the fulfilment queue:
    .venv/bin/python bench/scale.py --only queue

Each page is requested in-process through Django's test client, DEBUG off,
as the heaviest person of its role in that database (chosen by query: most
requests, most services held, most approvals waiting, largest queue); one
warm-up, then --rounds timed requests. Django binds one database per process,
so each database is served by a subprocess of this script (--measure NAME),
and the parent asks the two in turn, page by page and round by round: both
sides of a page are timed within the same seconds.

Exit status 1 when a page misses a target on the large database: median under
150 ms; at most 1.5x its demo-size median, a target also met when the medians
are within 5 ms of each other (a 2 ms page that takes 4 ms is not a problem);
and the same number of queries on both (a count that grows with the data means
a query per row). Counts that differ only by queries each made once, on one side
alone, are the data's shape and not a miss: a filter that matches nothing on the
demo skips reading the page's rows (the queue "due this week" on a Friday
evening). A page that does not answer 200 misses too.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.executive import _client_for, _median_ms, _setup, _time_page  # noqa: E402

SERVER = "postgres://postgres@127.0.0.1:5432"
LIMIT_MS = 150
MAX_RATIO = 1.5
SLACK_MS = 5
# The statuses My requests is timed filtered by.
FILTERED_STATUSES = ("in_progress", "fulfilled", "closed", "rejected")


# --- The databases --------------------------------------------------------------------


def _database_url(server: str, name: str) -> str:
    return f"{server}/{name}"


def _exists(server: str, name: str) -> bool:
    import psycopg

    # Asked of the maintenance database: the one named is never opened here.
    with psycopg.connect(_database_url(server, "postgres")) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def _create(server: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    # CREATE DATABASE refuses to run in a transaction, as VACUUM does.
    with psycopg.connect(_database_url(server, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _vacuum_analyze(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_database_url(server, name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _manage(server: str, name: str, *command: str) -> None:
    env = {**os.environ, "DATABASE_URL": _database_url(server, name)}
    env.setdefault("ALLOW_INSECURE_SECRET_KEY", "1")
    print(f"  {name}: manage.py {' '.join(command)}", flush=True)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *command], env=env, check=True
    )


def prepare(server: str, name: str, *, demo: list[str], history: list[str]) -> None:
    """Migrate the database ``name`` if it exists (new indexes apply), or make
    it: an empty database, the demo (``load_demo`` with ``demo``), then, when
    ``history`` is given, ``generate_history`` with it, analysed for the
    planner. A build cut short is reused as it is: drop it to build it again."""
    if _exists(server, name):
        _manage(server, name, "migrate", "--verbosity", "0")
        return
    print(f"  {name}: CREATE DATABASE", flush=True)
    _create(server, name)
    _manage(server, name, "migrate", "--verbosity", "0")
    _manage(server, name, "load_demo", "--force", *demo)
    if history:
        _manage(server, name, "generate_history", *history, "--force")
    print(f"  {name}: VACUUM ANALYZE", flush=True)
    _vacuum_analyze(server, name)


# --- Who opens the pages --------------------------------------------------------------


@dataclass
class Person:
    username: str
    load: str  # what made them the heaviest, in words


def _heaviest(counts: dict, among) -> tuple[int, int]:
    """(id, count) of the largest count among the ids ``among``; a tie goes to
    the lowest id, so a rerun picks the same person."""
    pk = max(among, key=lambda pk: (counts.get(pk, 0), -pk))
    return pk, counts.get(pk, 0)


def people() -> dict[str, Person]:
    """The heaviest person of each role, by query in this database."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, F

    from catalog.models import (
        QUEUE_STATES,
        ApprovalStep,
        FulfilmentGroup,
        ItemStatus,
        RequestItem,
        ServiceRequest,
    )

    User = get_user_model()
    names = dict(User.objects.values_list("pk", "username"))

    def in_group(name: str) -> list[int]:
        return list(User.objects.filter(groups__name=name).values_list("pk", flat=True))

    # Requests they ordered or that are for them, a request for oneself once.
    requests: dict[int, int] = {}
    for field, rows in (
        ("requested_for", ServiceRequest.objects.all()),
        (
            "requested_by",
            ServiceRequest.objects.exclude(requested_by=F("requested_for")),
        ),
    ):
        for pk, n in rows.values_list(field).annotate(n=Count("pk")).order_by():
            requests[pk] = requests.get(pk, 0) + n
    # Employees who are not executives: an executive's service page carries
    # the executive panel (three more queries), so the same address would be
    # another page on whichever database picked an executive.
    plain = (set(in_group("Employee")) - set(in_group("Executive"))) or set(
        in_group("Employee")
    )
    # Among those with a request in each status the list's filters are timed
    # with, so that no filtered page is empty on one database only (an empty
    # page makes fewer queries, which is the data's shape, not a per-row cost).
    employees = set(plain)
    for status in FILTERED_STATUSES:
        having = set()
        for field in ("request__requested_for", "request__requested_by"):
            having |= set(
                RequestItem.objects.filter(status=status)
                .values_list(field, flat=True)
                .distinct()
            )
        employees = (employees & having) or employees
    employee, n_requests = _heaviest(requests, employees)

    # Services held: delivered, charged monthly, not a removal (a removal
    # carried out still counts here; the page leaves it out).
    held = dict(
        RequestItem.objects.filter(
            status__in=[ItemStatus.FULFILLED, ItemStatus.CLOSED],
            monthly_price__gt=0,
            removes_item__isnull=True,
        )
        .values_list("requested_for")
        .annotate(n=Count("pk"))
        .order_by()
    )
    holder, n_held = _heaviest(held, plain)

    # Steps waiting for their own decision.
    waiting = dict(
        ApprovalStep.objects.filter(status=ApprovalStep.Status.PENDING)
        .values_list("approver")
        .annotate(n=Count("pk"))
        .order_by()
    )
    approver, n_waiting = _heaviest(waiting, in_group("Approver"))

    # The open items of their teams, plus those of no team (everyone's).
    open_items = dict(
        RequestItem.objects.filter(status__in=QUEUE_STATES)
        .values_list("fulfilment_group")
        .annotate(n=Count("pk"))
        .order_by()
    )
    queue: dict[int, int] = {}
    memberships = FulfilmentGroup.members.through.objects.values_list(
        "user_id", "fulfilmentgroup_id"
    )
    for user_id, group_id in memberships:
        queue.setdefault(user_id, open_items.get(None, 0))
        queue[user_id] += open_items.get(group_id, 0)
    fulfiller, n_queue = _heaviest(queue, queue)

    return {
        "employee": Person(names[employee], f"{n_requests:,} requests"),
        "holder": Person(names[holder], f"{n_held:,} services held"),
        "approver": Person(names[approver], f"{n_waiting:,} approvals waiting"),
        "fulfiller": Person(names[fulfiller], f"{n_queue:,} items in queue"),
        "executive": Person("executive", "the demo's executive"),
        "admin": Person("admin", "superuser"),
    }


# --- The pages ------------------------------------------------------------------------


@dataclass
class Subjects:
    """What the pages' addresses are made of, looked up in this database."""

    users: dict  # role -> User
    home: object
    catalog: object
    laptop: object
    longest_request: object  # the employee's request with the longest log
    heaviest_request: object  # the longest log of all, for the admin
    request_pages: int
    queue_pages: int
    team: object  # the fulfiller's first team
    sales: object
    year: str  # the last 12 months, as the dashboard's query


def subjects(chosen: dict[str, Person]) -> Subjects:
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef, Q
    from django.http import QueryDict
    from wagtail.models import Site

    from catalog.models import (
        ApprovalStep,
        CatalogIndexPage,
        CostCentre,
        ServicePage,
        ServiceRequest,
    )
    from catalog.permissions import fulfilment_groups
    from catalog.selectors.queue import fulfilment_queue
    from catalog.selectors.requests import my_requests

    User = get_user_model()
    users = {role: User.objects.get(username=p.username) for role, p in chosen.items()}
    employee, fulfiller = users["employee"], users["fulfiller"]
    nothing = QueryDict()
    today = date.today()
    return Subjects(
        users=users,
        home=Site.objects.get(is_default_site=True).root_page,
        catalog=CatalogIndexPage.objects.live().first(),
        laptop=ServicePage.objects.get(title="New laptop"),
        # One that went through approval on both databases (its page then
        # reads the approval steps too), else the longest of all.
        longest_request=ServiceRequest.objects.filter(
            Q(requested_by=employee) | Q(requested_for=employee)
        )
        .order_by(
            Exists(ApprovalStep.objects.filter(request=OuterRef("pk"))).desc(),
            "-log_sequence",
            "pk",
        )
        .first(),
        heaviest_request=ServiceRequest.objects.order_by("-log_sequence", "pk").first(),
        request_pages=my_requests(user=employee, params=nothing)[
            "page_obj"
        ].paginator.num_pages,
        queue_pages=fulfilment_queue(user=fulfiller, params=nothing)[
            "page_obj"
        ].paginator.num_pages,
        team=fulfilment_groups(fulfiller)[0],
        sales=CostCentre.objects.get(code="CC-2100"),
        year=f"period=custom&date_from={today - timedelta(days=364)}&date_to={today}",
    )


def pages() -> list[tuple]:
    """Every page timed: (label, role, address made from the Subjects)."""
    from django.urls import reverse

    from catalog.filters import (
        AGE_CHOICES,
        DUE_CHOICES,
        QUEUE_SORTS,
        QUEUE_STATUS_CHOICES,
    )
    from catalog.models import ItemStatus

    today = date.today()
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    requests, queue = reverse("catalog:request_list"), reverse("catalog:queue")
    admin_requests = reverse("service_requests:index")
    return [
        ("Home", "employee", lambda s: s.home.url),
        ("Catalog", "employee", lambda s: s.catalog.url),
        ("Category", "employee", lambda s: s.laptop.get_parent().url),
        ("Service: New laptop", "employee", lambda s: s.laptop.url),
        ("Basket, one line", "employee", lambda s: reverse("catalog:basket")),
        ("Checkout", "employee", lambda s: reverse("catalog:checkout")),
        ("My requests", "employee", lambda s: requests),
        (
            "My requests, middle page",
            "employee",
            lambda s: f"{requests}?page={(s.request_pages + 1) // 2}",
        ),
        (
            "My requests, last page",
            "employee",
            lambda s: f"{requests}?page={s.request_pages}",
        ),
        *[
            (f"My requests, {label.lower()}", "employee", _query(requests, status=v))
            for v, label in ItemStatus.choices
            if v in FILTERED_STATUSES
        ],
        (
            "My requests, last 30 days",
            "employee",
            _query(
                requests,
                submitted_from=today - timedelta(days=30),
                submitted_to=today,
            ),
        ),
        (
            "Request, longest log",
            "employee",
            lambda s: reverse("catalog:request_detail", args=[s.longest_request.pk]),
        ),
        ("My services", "holder", lambda s: reverse("catalog:my_services")),
        ("Approvals", "approver", lambda s: reverse("catalog:approvals")),
        ("Queue", "fulfiller", lambda s: queue),
        ("Queue, last page", "fulfiller", lambda s: f"{queue}?page={s.queue_pages}"),
        *[
            (f"Queue, {label.lower()}", "fulfiller", _query(queue, status=v))
            for v, label in QUEUE_STATUS_CHOICES
        ],
        ("Queue, one team", "fulfiller", lambda s: f"{queue}?group={s.team.pk}"),
        ("Queue, service 'laptop'", "fulfiller", _query(queue, service="laptop")),
        ("Queue, assigned to me", "fulfiller", _query(queue, assignee="me")),
        ("Queue, nobody assigned", "fulfiller", _query(queue, assignee="none")),
        *[
            (f"Queue, {label.lower()}", "fulfiller", _query(queue, due=v))
            for v, label in DUE_CHOICES
        ],
        ("Queue, at risk", "fulfiller", _query(queue, at_risk="on")),
        ("Queue, breached", "fulfiller", _query(queue, breached="on")),
        *[
            (f"Queue, age {label.lower()}", "fulfiller", _query(queue, age=v))
            for v, label in AGE_CHOICES
        ],
        *[
            (f"Queue, sort: {label.lower()}", "fulfiller", _query(queue, sort=v))
            for v, label in QUEUE_SORTS.items()
        ],
        (
            "Dashboard, company, 12 months",
            "executive",
            lambda s: f"{reverse('catalog:executive')}?{s.year}",
        ),
        *[
            (
                f"Dashboard items: {metric}",
                "executive",
                lambda s, metric=metric: (
                    f"{reverse('catalog:executive_items')}?{s.year}&metric={metric}"
                ),
            )
            for metric in ("delivered", "backlog")
        ],
        (
            f"IT bill, CC-2100, {month:%b %Y}",
            "executive",
            lambda s: (
                f"{reverse('catalog:bill')}?cost_centre={s.sales.pk}"
                f"&month={month:%Y-%m}"
            ),
        ),
        ("Service review", "executive", lambda s: reverse("catalog:service_review")),
        # The admin's request list offers no search (no search_fields, and
        # requests are not in the search index): ?q= is ignored, so not timed.
        ("Admin: requests", "admin", lambda s: admin_requests),
        (
            "Admin: requests, CC-2100",
            "admin",
            lambda s: f"{admin_requests}?cost_centre={s.sales.pk}",
        ),
        (
            "Admin: request, longest log",
            "admin",
            lambda s: reverse("service_requests:inspect", args=[s.heaviest_request.pk]),
        ),
        ("Admin: request log", "admin", lambda s: reverse("request_log:index")),
        (
            "Admin: request log, by name",
            "admin",
            _query(reverse("request_log:index"), name="item.status_changed"),
        ),
    ]


def _query(path: str, **params):
    """An address builder for a fixed query string."""
    from django.utils.http import urlencode

    return lambda s: f"{path}?{urlencode(params)}"


# --- Timing in one database (the subprocess) ------------------------------------------


def _basket_with_one_line(user) -> None:
    """The employee's open basket, holding one line (added once; the bench
    databases keep it between runs)."""
    from catalog.models import ServicePage
    from catalog.services.basket import basket_get_or_create, basket_line_add

    if basket_get_or_create(user=user).lines.exists():
        return
    reset = ServicePage.objects.get(title="Reset a forgotten password")
    answers = {f"q_{reset.request_questions[0][0]}": "Windows / email"}
    basket_line_add(user=user, service_id=reset.pk, data=answers)


def _p95_ms(samples: list[float]) -> float:
    if len(samples) < 20:
        return max(samples) * 1000
    return statistics.quantiles(samples, n=20)[18] * 1000


def _statements(client, url: str) -> list[str]:
    """The page's queries, from one more request (untimed), to show where two
    databases' counts differ."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return [query["sql"] for query in captured.captured_queries]


def _page_rows(args, chosen: dict, found: Subjects) -> list[dict]:
    rows = []
    for label, role, address in pages():
        if args.only and args.only.lower() not in label.lower():
            continue
        user = chosen[role].username
        rows.append({"page": label, "role": role, "user": user, "url": address(found)})
    return rows


def serve(args) -> None:
    """The subprocess: set up, say what it will time (one line of JSON on
    stdout), then answer the parent's requests one line each: ``warm LABEL``
    (a warm-up request, then the page's queries), ``time LABEL`` (one timed
    request), ``quit``. The parent asks both databases in turn, so the two
    sides of a page are timed seconds apart, not minutes."""
    from catalog.models import RequestEvent, RequestItem, ServiceRequest

    chosen = people()
    found = subjects(chosen)
    _basket_with_one_line(found.users["employee"])
    clients = {role: _client_for(p.username) for role, p in chosen.items()}
    rows = {row["page"]: row for row in _page_rows(args, chosen, found)}
    hello = {
        "database": args.measure,
        "people": {role: vars(p) for role, p in chosen.items()},
        "sizes": {
            "requests": ServiceRequest.objects.count(),
            "items": RequestItem.objects.count(),
            "events": RequestEvent.objects.count(),
        },
        "pages": list(rows.values()),
    }
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        command, _, label = line.rstrip("\n").partition(" ")
        if command == "quit":
            return
        row = rows[label]
        client = clients[row["role"]]
        try:
            samples, queries = _time_page(client, row["url"], 1)
        except AssertionError as exc:
            # _time_page's assertion: (url, status, start of the body).
            answer = {"error": f"status {exc.args[0][1]}" if exc.args else "failed"}
        except Exception as exc:  # the test client re-raises a view's error
            answer = {"error": f"{type(exc).__name__}: {str(exc)[:80]}"}
        else:
            answer = {"seconds": samples[0], "queries": queries}
            if command == "warm":
                answer["sql"] = _statements(client, row["url"])
        print(json.dumps(answer), flush=True)


class _Side:
    """One database's subprocess (``serve``), asked one page at a time."""

    def __init__(self, args, name: str):
        command = [
            sys.executable,
            __file__,
            "--measure",
            name,
            "--server",
            args.server,
        ]
        if args.only:
            command += ["--only", args.only]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.hello = self._answer()

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the subprocess for a database stopped ({line!r})")
        return json.loads(line)

    def ask(self, command: str, label: str) -> dict:
        self.process.stdin.write(f"{command} {label}\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait()


def measure_side_by_side(args) -> tuple[dict, dict]:
    """Both databases, page by page: a warm-up of the page on each, then
    ``--rounds`` rounds, each timing the page once on each database, the one
    that goes first alternating. A page's two medians are then taken over the
    same minute of a machine whose speed drifts."""
    small, large = _Side(args, args.small), _Side(args, args.large)
    results = {}
    try:
        for side in (small, large):
            results[side] = {**side.hello, "rounds": args.rounds, "pages": []}
        for row in small.hello["pages"]:
            label = row["page"]
            timed = {}
            for side in (small, large):
                page = next(p for p in side.hello["pages"] if p["page"] == label)
                answer = side.ask("warm", label)
                timed[side] = {**page, **answer, "samples": []}
            for n in range(args.rounds):
                for side in (small, large) if n % 2 == 0 else (large, small):
                    if "error" in timed[side]:
                        continue
                    answer = side.ask("time", label)
                    if "error" in answer:
                        timed[side] |= answer
                    else:
                        timed[side]["samples"].append(answer["seconds"])
            cells = []
            for side in (small, large):
                row = timed[side]
                samples = row.pop("samples")
                row.pop("seconds", None)
                if "error" not in row:
                    row["median_ms"] = _median_ms(samples)
                    row["p95_ms"] = _p95_ms(samples)
                    cells.append(f"{row['median_ms']:>7.1f} ms")
                else:
                    cells.append(row["error"])
                results[side]["pages"].append(row)
            print(f"  {label:<36} " + "  /  ".join(cells), flush=True)
    finally:
        small.close()
        large.close()
    return results[small], results[large]


# --- Side by side ---------------------------------------------------------------------


def _size(items: int) -> str:
    """1000000 -> "1M", 20000 -> "20k": the large database's column heading."""
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if items >= scale:
            return f"{items / scale:.{0 if items % scale == 0 else 1}f}{unit}"
    return str(items)


def verdict(small: dict, large: dict) -> str:
    """'ok', or every target the large database's page misses."""
    if "error" in large or "error" in small:
        return "FAILED: " + (large.get("error") or f"demo {small['error']}")
    missed = []
    if large["median_ms"] >= LIMIT_MS:
        missed.append(f">= {LIMIT_MS} ms")
    slower = large["median_ms"] - small["median_ms"]
    if large["median_ms"] > MAX_RATIO * small["median_ms"] and slower > SLACK_MS:
        missed.append(f"> {MAX_RATIO}x and +{slower:.0f} ms")
    shape = ""
    if large["queries"] != small["queries"]:
        if _a_loop(small.get("sql"), large.get("sql")):
            missed.append("query count differs")
        else:
            shape = " (queries differ by the data's shape)"
    return "MISSED: " + ", ".join(missed) if missed else "ok" + shape


def _shape(statement: str) -> str:
    """A query without its values, so the same query for another row matches."""
    statement = re.sub(r"'[^']*'", "?", statement)
    return re.sub(r"\b\d+(\.\d+)?\b", "?", statement)


def _difference(small: list[str], large: list[str]) -> Counter:
    """How many more times the large side makes each query (by its shape) than
    the demo side; negative where the demo makes it more."""
    extra = Counter(map(_shape, large))
    extra.subtract(Counter(map(_shape, small)))
    return extra


def _a_loop(small: list[str] | None, large: list[str] | None) -> bool:
    """Whether the pages' queries differ as a loop would make them: a query made
    more often on one side than on the other where both make it, or made more
    than once on one side alone. A query made once, on one side only, is the
    data's shape (an empty page skips reading its rows; a request that never
    needed approval skips its steps). Without the queries, any difference
    counts."""
    if small is None or large is None:
        return True
    on_both = set(map(_shape, small)) & set(map(_shape, large))
    return any(
        n and (statement in on_both or abs(n) > 1)
        for statement, n in _difference(small, large).items()
    )


def _print_difference(page: str, small: list[str], large: list[str]) -> None:
    """The queries one database's page makes and the other's doesn't: the same
    query once per row points at a loop; a different query, at the data's
    shape (an empty page, a request that never needed approval)."""
    extra = _difference(small, large)
    print(f"\n{page}: {len(small)} queries on the demo, {len(large)} on the large one")
    for statement, n in sorted(extra.items(), key=lambda pair: pair[1]):
        if n:
            side = "large" if n > 0 else "demo"
            # The table and condition tell the query apart; the columns don't.
            short = re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", statement)
            print(f"  {abs(n)} more on the {side}: {short[:110]}")


def report(small: dict, large: dict) -> int:
    big = _size(large["sizes"]["items"])
    for side in (small, large):
        print(f"\n{side['database']}:")
        for role, person in side["people"].items():
            print(f"  {role:<10} {person['username']:<20} {person['load']}")
    demo_rows = {row["page"]: row for row in small["pages"]}
    headings = [
        "page",
        "user",
        "demo ms (median)",
        f"{big} ms median",
        f"{big} p95",
        "ratio",
        "queries demo",
        f"queries {big}",
        "verdict",
    ]
    lines = []
    failed = False
    for row in large["pages"]:
        demo = demo_rows.get(row["page"], {"error": "not timed"})
        ok = verdict(demo, row)
        failed |= not ok.startswith("ok")
        user = row["user"]
        if demo.get("user", user) != user:
            user = f"{demo['user']} / {user}"

        def cell(side, key, fmt):
            return format(side[key], fmt) if key in side else "-"

        ratio = (
            f"{row['median_ms'] / demo['median_ms']:.2f}"
            if "median_ms" in row and "median_ms" in demo
            else "-"
        )
        lines.append(
            [
                row["page"],
                user,
                cell(demo, "median_ms", ".1f"),
                cell(row, "median_ms", ".1f"),
                cell(row, "p95_ms", ".1f"),
                ratio,
                cell(demo, "queries", "d"),
                cell(row, "queries", "d"),
                ok,
            ]
        )
    columns = zip(headings, *lines, strict=True)
    widths = [max(len(str(x)) for x in column) for column in columns]
    print()
    for line in [headings, ["-" * w for w in widths], *lines]:
        cells = zip(line, widths, strict=True)
        print(" | ".join(str(x).ljust(w) for x, w in cells).rstrip())
    for row in large["pages"]:
        demo = demo_rows.get(row["page"], {})
        if "sql" in row and "sql" in demo and row["queries"] != demo["queries"]:
            _print_difference(row["page"], demo["sql"], row["sql"])
    p95 = "max" if large["rounds"] < 20 else "p95"
    print(
        f"\nMedians of {large['rounds']} requests after one warm-up ({big} p95 is the "
        f"{p95}). Targets: {big} median under {LIMIT_MS} ms, at most {MAX_RATIO}x "
        f"the demo's or within {SLACK_MS} ms of it, the same number of queries."
    )
    for side in (small, large):
        sizes = side["sizes"]
        print(
            f"{side['database']}: {sizes['requests']:,} requests, "
            f"{sizes['items']:,} items, {sizes['events']:,} events."
        )
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large", default="bench_1m", help="the large database")
    parser.add_argument("--small", default="bench_demo", help="the demo-size one")
    parser.add_argument(
        "--items", type=int, default=1_000_000, help="items when building --large"
    )
    parser.add_argument("--server", default=SERVER, help="PostgreSQL, without a name")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", help="time only pages whose label has this")
    parser.add_argument("--json", help="save the results to this file")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the subprocess
    args = parser.parse_args()
    names = [args.measure] if args.measure else [args.large, args.small]
    if any("bench" not in name for name in names):
        parser.error("each database's name must have 'bench' in it")
    if args.measure:
        _setup(_database_url(args.server, args.measure))
        serve(args)
        return 0
    print("Preparing the databases:")
    prepare(args.server, args.small, demo=["--history", "3000"], history=[])
    prepare(
        args.server,
        args.large,
        demo=[],
        history=["--items", str(args.items), "--seed", "42"],
    )
    small, large = measure_side_by_side(args)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"demo": small, "large": large}, indent=1)
        )
    return report(small, large)


if __name__ == "__main__":
    sys.exit(main())
