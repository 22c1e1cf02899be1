"""Two servers, one database, one cache: what a second server must not break.

Starts two gunicorn servers of the portal (2 sync workers each) on one throwaway
PostgreSQL database and one Redis database as the shared cache, with DEBUG off,
in the environment of bench/rps.py. Then:

1. Double checkout across servers. N people, each with a basket of two services
   (put there through the basket services, as bench/checkout.py does) and a
   session, open the checkout page and submit its form twice at the same moment,
   once to each server, as a browser would (session and CSRF cookies, the form's
   hidden basket and fingerprint fields). Every basket must give exactly one
   request, both answers must be a redirect to it, the repeat must land on the
   page that says it was already submitted, nothing may answer 5xx, and
   ``manage.py verify_request_log`` must pass.
2. Pages across servers: a service page loaded on both servers at once, for the
   worker and PostgreSQL CPU per request with the shared cache.
3. Publish seen on the other server. With a service page and its category page
   warm on server B, the service's title and summary are changed and published
   in another process (``page.save_revision().publish()``); server B is polled
   until it shows the new text. Then the service is limited to a department the
   watching person is not in (B must answer 404 and drop it from the category
   page), opened again (B shows it), and unpublished (404 again). Each must be
   seen within
   ``--within`` seconds, and no response to a request sent after the commit may
   show the old state.

    .venv/bin/python bench/cluster.py [--people 200] [--pairs 4] [--redis-db 7]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_cluster]
        [--json bench/out/cluster.json]

Exit status 0 when every check passes, 1 otherwise. See bench/README.md, "More
than one server".
"""

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.rps import (  # noqa: E402
    HOST,
    VENV_BIN,
    PostgresDatabase,
    PythonLoad,
    Target,
    Url,
    Wrk,
    bench_env,
    csrf_cookie,
    describe_code,
    describe_machine,
    fetch,
    free_port,
    log,
    package_versions,
    prepare_database,
    python_step,
    start_gunicorn,
    stop,
    worker_cpu_seconds,
)

SERVICE_PATH = "/services/computers/new-laptop/"
CATEGORY_PATH = "/services/computers/"
SERVICE_TITLE = "New laptop"
ALREADY_SUBMITTED = "was already submitted."
# The watcher is the demo employee, in Sales: the restriction check limits the
# service to another department.
RESTRICTED_TO = "Finance"
BUSINESS_REASON = "Joining the team next month."


# ------------------------------------------------------- steps run inside Django
#
# The main process never imports Django: it only talks HTTP to the servers. What
# needs the ORM runs as `cluster.py --step NAME` in the servers' environment and
# prints one JSON object on its last line of output.


def _django():
    import django

    django.setup()


def step_people(count: int) -> dict:
    """Baskets through bench/checkout.py's preparation, then a session each."""
    _django()
    from django.contrib.auth import get_user_model

    from bench.checkout import prepare
    from catalog.models import ServicePage

    baskets = prepare(count)
    people = []
    for user, basket_id, _fingerprint in baskets:
        people.append(
            dict(username=user.username, basket=basket_id, session=login(user))
        )
    employee = get_user_model().objects.get(username="employee")
    service = ServicePage.objects.live().get(title=SERVICE_TITLE)
    return dict(people=people, watcher=login(employee), service=service.pk)


def login(user) -> str:
    """A session as a browser login would leave it; returns its key."""
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client.cookies["sessionid"].value


def step_requests() -> dict:
    """Every basket's requests, and what a complete checkout leaves behind."""
    _django()
    from catalog.models import Basket, RequestItem, ServiceRequest

    # Only the benchmark's people (bench/checkout.py names them bench00000…),
    # not the demo history's.
    people = {"owner__username__startswith": "bench"}
    by_basket: dict[str, list] = {}
    for request in ServiceRequest.objects.filter(
        basket__in=Basket.objects.filter(**people)
    ).only("pk", "basket_id"):
        by_basket.setdefault(str(request.basket_id), []).append(
            [request.pk, request.number]
        )
    return dict(
        requests=by_basket,
        items=RequestItem.objects.filter(
            request__basket__in=Basket.objects.filter(**people)
        ).count(),
        open_baskets=Basket.objects.filter(status=Basket.Status.OPEN, **people).count(),
    )


def committed(change) -> dict:
    """Run ``change`` in one transaction and return the moment it committed: the
    first callback after the commit, before any the change itself queues (such
    as search indexing, which the inline task backend runs there and then)."""
    from django.db import transaction

    moment = {}
    with transaction.atomic():
        transaction.on_commit(lambda: moment.setdefault("committed_at", time.time()))
        change()
    return moment


def step_publish(page_id: int, title: str, summary: str) -> dict:
    """Change and publish through Wagtail's revisions, as the editor's Publish
    button does."""
    _django()
    from catalog.models import ServicePage

    def change():
        page = ServicePage.objects.get(pk=page_id)
        page.title = title
        page.summary = summary
        page.save_revision().publish()

    return committed(change)


def step_restrict(page_id: int, department: str) -> dict:
    """Limit the service to one department ("" lifts the limit), published
    through a revision as the editor's Publish button does."""
    _django()
    from catalog.models import Department, ServicePage

    def change():
        page = ServicePage.objects.get(pk=page_id)
        page.restricted_to_departments.set(
            Department.objects.filter(name=department) if department else []
        )
        page.save_revision().publish()

    return committed(change)


def step_unpublish(page_id: int) -> dict:
    _django()
    from catalog.models import ServicePage

    return committed(lambda: ServicePage.objects.get(pk=page_id).unpublish())


def run_step(env: dict, *args: str) -> dict:
    out = python_step(
        env, [str(Path(__file__).resolve()), "--step", *args], f"step {args[0]}"
    )
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------ HTTP helpers


class FormFields(HTMLParser):
    """The fields a browser would send from the form with a given CSS class:
    inputs (ticked boxes only), text areas and each select's chosen option."""

    def __init__(self, form_class: str):
        super().__init__()
        self.form_class = form_class
        self.inside = False
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = self.form_class in (a.get("class") or "").split()
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
            self._first_option = None
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            if self._first_option is None:
                self._first_option = value
                self.fields[self._select] = value
            if "selected" in a:
                self.fields[self._select] = value

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def set_cookies(headers) -> dict[str, str]:
    cookies = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            cookies[key.strip()] = val
    return cookies


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen


@dataclass
class Person:
    username: str
    basket: int
    cookies: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    answers: dict[str, "Answer"] = field(default_factory=dict)  # by server name


@dataclass
class Answer:
    status: int
    location: str | None
    seconds: float
    cookies: dict[str, str]
    page: str = ""  # where the redirect led: "created", "repeat" or a problem


def open_checkout(person: Person, server: Server) -> None:
    """GET the checkout page as the person's browser: the CSRF cookie and the
    form's fields (hidden basket, fingerprint and recipient) come from it."""
    status, headers, body = fetch(
        server.port, "/checkout/", cookie_header(person.cookies)
    )
    if status != 200:
        raise RuntimeError(f"{person.username}: checkout page answered {status}")
    token = csrf_cookie(headers)
    if token:
        person.cookies["csrftoken"] = token
    parser = FormFields("checkout-form")
    parser.feed(body)
    form = parser.fields
    for needed in ("csrfmiddlewaretoken", "basket", "fingerprint", "business_reason"):
        if needed not in form:
            raise RuntimeError(f"{person.username}: no {needed!r} in the checkout form")
    form["business_reason"] = BUSINESS_REASON
    person.form = form


def post_checkout(person: Person, server: Server, barrier: threading.Barrier):
    """Connect, wait for the other server's twin, then send the same form."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=60)
    try:
        conn.connect()
        barrier.wait(timeout=120)
        body = urlencode(person.form)
        t0 = time.perf_counter()
        conn.request(
            "POST",
            "/checkout/",
            body=body,
            headers={
                "Cookie": cookie_header(person.cookies),
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"http://{HOST}:{server.port}",
            },
        )
        response = conn.getresponse()
        response.read()
        seconds = time.perf_counter() - t0
        headers = response.getheaders()
        return Answer(
            status=response.status,
            location=response.getheader("Location"),
            seconds=seconds,
            cookies=set_cookies(headers),
        )
    finally:
        conn.close()


def follow(person: Person, answer: Answer, server: Server, number: str) -> str:
    """Where a browser lands after the redirect, with the cookies it was given
    (the message saying a repeat was already submitted travels in one)."""
    if answer.status != 302 or not answer.location:
        return f"HTTP {answer.status}"
    cookies = {**person.cookies, **answer.cookies}
    path = urlsplit(answer.location).path
    status, _, body = fetch(server.port, path, cookie_header(cookies))
    if status != 200:
        return f"confirmation HTTP {status}"
    if number not in body:
        return f"confirmation without {number}"
    return "repeat" if ALREADY_SUBMITTED in body else "created"


def follow_all(people, servers: dict, numbers: dict, threads: int) -> dict:
    """Every answer followed, a few at a time: (username, server) -> landing."""
    jobs = [
        (person, name, answer)
        for person in people
        for name, answer in person.answers.items()
    ]

    def one(job):
        person, name, answer = job
        number = numbers.get(str(person.basket), "REQ-?")
        return (person.username, name), follow(person, answer, servers[name], number)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return dict(pool.map(one, jobs))


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


# ---------------------------------------------------------------- CPU elsewhere


def process_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PostgresCpu:
    """CPU of the PostgreSQL backends serving the benchmark's database only (the
    server may be busy with other databases): the pids from pg_stat_activity,
    their CPU from /proc. Backends that start during a phase count whole; ones
    that end during it are lost (the servers keep theirs for CONN_MAX_AGE)."""

    def __init__(self, database: PostgresDatabase):
        self.database = database

    def snapshot(self) -> dict[int, float]:
        with self.database.psycopg.connect(**self.database.conninfo) as conn:
            pids = [
                row[0]
                for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                    [self.database.name],
                )
            ]
        return {pid: process_cpu_seconds(pid) for pid in pids}

    def since(self, before: dict[int, float]) -> float:
        after = self.snapshot()
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def workers_rss_mb(servers: list[Server]) -> list[float]:
    """Resident memory of every gunicorn worker of the servers, in MB."""
    masters = {s.proc.pid for s in servers}
    sizes = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(status["PPid"]) in masters and "VmRSS" in status:
            sizes.append(int(status["VmRSS"].split()[0]) / 1024)
    return sizes


def servers_cpu(servers: list[Server]) -> float:
    return sum(worker_cpu_seconds(s.proc.pid) for s in servers)


# ------------------------------------------------------------ 1. double checkout


@dataclass
class CheckoutRun:
    people: list[Person]
    seconds: float
    worker_cpu: float
    postgres_cpu: float
    errors: list[str]


def double_checkout(servers, people, pairs: int, postgres: PostgresCpu) -> CheckoutRun:
    a, b = servers
    errors: list[str] = []
    lock = threading.Lock()

    log(f"{len(people)} people open the checkout page")
    queue = list(enumerate(people))

    def opener():
        while True:
            with lock:
                if not queue:
                    return
                i, person = queue.pop()
            try:
                open_checkout(person, servers[i % 2])
            except Exception as exc:  # reported, and fails the run
                with lock:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=opener) for _ in range(pairs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        return CheckoutRun(people, 0.0, 0.0, 0.0, errors)

    log(
        f"each basket submitted to both servers at the same moment, "
        f"{pairs} baskets at a time"
    )

    def twin(server: Server, mine: list[Person], barrier: threading.Barrier):
        for person in mine:
            try:
                person.answers[server.name] = post_checkout(person, server, barrier)
            except Exception as exc:  # reported, and fails the run
                barrier.abort()
                with lock:
                    errors.append(f"{person.username} on {server.name}: {exc!r}")
                return

    threads = []
    for i in range(pairs):
        mine = people[i::pairs]
        barrier = threading.Barrier(2)
        threads += [
            threading.Thread(target=twin, args=(a, mine, barrier)),
            threading.Thread(target=twin, args=(b, mine, barrier)),
        ]
    cpu_before, pg_before = servers_cpu(servers), postgres.snapshot()
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    worker_cpu = servers_cpu(servers) - cpu_before
    postgres_cpu = postgres.since(pg_before)
    return CheckoutRun(people, seconds, worker_cpu, postgres_cpu, errors)


def check_checkout(
    run: CheckoutRun, servers, env: dict, pairs: int
) -> tuple[dict, list[str]]:
    """Every basket: one request, both answers a redirect to it, the repeat on
    the already-submitted page; then the request log verifies."""
    problems = list(run.errors)
    db = run_step(env, "requests")
    by_name = {s.name: s for s in servers}
    numbers = {b: found[0][1] for b, found in db["requests"].items() if found}
    landed = follow_all(run.people, by_name, numbers, pairs)
    latencies = {"created": [], "repeat": []}
    wins = {s.name: 0 for s in servers}
    statuses: dict[int, int] = {}
    for person in run.people:
        found = db["requests"].get(str(person.basket), [])
        if len(found) != 1:
            problems.append(f"basket {person.basket}: {len(found)} requests")
            continue
        (pk, number) = found[0]
        expected = f"/requests/{pk}/submitted/"
        pages = []
        for name, answer in person.answers.items():
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
            if answer.status >= 500:
                problems.append(f"{person.username} on {name}: HTTP {answer.status}")
            location = urlsplit(answer.location or "").path
            if answer.status == 302 and location != expected:
                problems.append(
                    f"{person.username} on {name}: redirected to {location}, "
                    f"not {expected}"
                )
            answer.page = landed[person.username, name]
            pages.append(answer.page)
            if answer.page in latencies:
                latencies[answer.page].append(answer.seconds)
                if answer.page == "created":
                    wins[name] += 1
        if len(person.answers) != 2 or sorted(pages) != ["created", "repeat"]:
            problems.append(f"{person.username}: answers {pages}")
    if db["open_baskets"]:
        problems.append(f"{db['open_baskets']} baskets still open")
    if db["items"] != 2 * len(run.people):
        problems.append(f"{db['items']} items, expected {2 * len(run.people)}")
    requests_total = sum(len(v) for v in db["requests"].values())

    log("manage.py verify_request_log")
    verify = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "verify_request_log"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    verify_output = (verify.stdout + verify.stderr).strip().splitlines()
    if verify.returncode:
        problems.append(
            "verify_request_log exit code "
            f"{verify.returncode}: {' | '.join(verify_output[-5:])}"
        )

    every = latencies["created"] + latencies["repeat"]
    posts = len(every)

    def ms(values, p):
        value = percentile(values, p)
        return round(value * 1000, 1) if value is not None else None

    result = dict(
        people=len(run.people),
        requests=requests_total,
        items=db["items"],
        seconds=round(run.seconds, 2),
        checkouts_per_second=round(len(run.people) / run.seconds, 1)
        if run.seconds
        else None,
        posts=posts,
        statuses={str(k): v for k, v in sorted(statuses.items())},
        created_on=wins,
        p50_ms=ms(every, 50),
        p99_ms=ms(every, 99),
        created_p50_ms=ms(latencies["created"], 50),
        created_p99_ms=ms(latencies["created"], 99),
        repeat_p50_ms=ms(latencies["repeat"], 50),
        repeat_p99_ms=ms(latencies["repeat"], 99),
        worker_cpu_ms_per_post=round(run.worker_cpu / posts * 1000, 1)
        if posts
        else None,
        postgres_cpu_ms_per_post=round(run.postgres_cpu / posts * 1000, 1)
        if posts
        else None,
        verify_request_log=verify_output[-1] if verify_output else "",
    )
    return result, problems


# ------------------------------------------------------- 2. pages on both servers


def pages_on_both(servers, cookie, seconds, concurrency, workdir, postgres):
    """The service page on both servers at once, each with its own load
    generator; worker and PostgreSQL CPU per request."""
    target = Target("service page", SERVICE_PATH, f"<h1>{SERVICE_TITLE}</h1>")
    loadgen = Wrk(1, workdir) if shutil.which("wrk") else PythonLoad()
    runs = {}
    cpu_before, pg_before = servers_cpu(servers), postgres.snapshot()

    def one(server):
        url = Url(target, SERVICE_PATH, server.port, cookie, server.proc)
        runs[server.name] = loadgen.run(url, concurrency, seconds)

    threads = [threading.Thread(target=one, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    worker_cpu = servers_cpu(servers) - cpu_before
    postgres_cpu = postgres.since(pg_before)
    requests = sum(r.requests for r in runs.values())
    bad = sum(r.bad + r.errors for r in runs.values())
    result = dict(
        load=f"{loadgen.version.split(' [')[0]}, {concurrency} connections per "
        f"server, {seconds} s",
        requests=requests,
        rps={name: round(r.rps, 1) for name, r in runs.items()},
        rps_total=round(sum(r.rps for r in runs.values()), 1),
        p50_ms={name: round(r.p50_ms or 0, 1) for name, r in runs.items()},
        p99_ms={name: round(r.p99_ms or 0, 1) for name, r in runs.items()},
        worker_cpu_ms_per_request=round(worker_cpu / requests * 1000, 2)
        if requests
        else None,
        postgres_cpu_ms_per_request=round(postgres_cpu / requests * 1000, 2)
        if requests
        else None,
        bad_responses=bad,
    )
    problems = [f"pages: {bad} responses failed their check"] if bad else []
    return result, problems


# ------------------------------------------------ 3. publish seen on the other one


@dataclass
class Poll:
    started: float  # wall clock, to compare with the other process's commit time
    finished: float
    path: str
    status: int
    shows_new: bool


def watch(server: Server, path: str, cookie: str, is_new, stop_event, polls):
    """Poll one URL on one server until told to stop; ``is_new(path, status,
    body)`` says whether a response shows the change."""
    while not stop_event.is_set():
        started = time.time()
        status, _, body = fetch(server.port, path, cookie)
        polls.append(
            Poll(started, time.time(), path, status, is_new(path, status, body))
        )
        time.sleep(0.02)


def seen_on_other(server, cookie, env, step_args, is_new, within: float):
    """Run a catalog change in another process while polling ``server``; how
    long after the commit each URL first showed it, and any response to a
    request sent after the commit that did not."""
    polls: list[Poll] = []
    stop_event = threading.Event()
    pollers = [
        threading.Thread(
            target=watch, args=(server, path, cookie, is_new, stop_event, polls)
        )
        for path in (SERVICE_PATH, CATEGORY_PATH)
    ]
    for poller in pollers:
        poller.start()
    try:
        committed_at = run_step(env, *step_args)["committed_at"]
        deadline = committed_at + within
        while time.time() < deadline:
            after = [p for p in polls if p.started > committed_at]
            paths_seen = {p.path for p in after if p.shows_new}
            # Seen on both URLs, and confirmed by later requests (either worker).
            if paths_seen == {SERVICE_PATH, CATEGORY_PATH} and len(after) >= 8:
                break
            time.sleep(0.05)
    finally:
        stop_event.set()
        for poller in pollers:
            poller.join()
    delays, stale = {}, []
    for path in (SERVICE_PATH, CATEGORY_PATH):
        first = next(
            (p for p in polls if p.path == path and p.shows_new), None
        )  # may predate the commit time only by clock rounding
        # A response can end a hair before the other process reads its clock
        # after the commit: that is 0 ms, not a negative delay.
        delays[path] = (
            round(max(0.0, first.finished - committed_at) * 1000, 1)
            if first is not None
            else None
        )
        stale += [
            p
            for p in polls
            if p.path == path and p.started > committed_at and not p.shows_new
        ]
    after = [p for p in polls if p.started > committed_at]
    return dict(
        delay_ms=delays,
        polls_after_commit=len(after),
        stale_after_commit=len(stale),
    )


def publish_checks(servers, watcher_cookie, service_id, env, within):
    a, b = servers
    problems = []
    log(f"warming {SERVICE_PATH} and {CATEGORY_PATH} on both servers")
    for server in (b, b, b, b, a, a):
        for path in (SERVICE_PATH, CATEGORY_PATH):
            status, _, body = fetch(server.port, path, watcher_cookie)
            if status != 200 or SERVICE_TITLE not in body:
                problems.append(f"warm-up {server.name} {path}: HTTP {status}")
    if problems:
        return {}, problems

    token = secrets.token_hex(3)
    title = f"{SERVICE_TITLE} (cluster check {token})"
    summary = f"Changed in the shared database, check {token}."

    def published(path, status, body):
        if status != 200:
            return False
        if path == SERVICE_PATH:
            return f"<h1>{title}</h1>" in body and summary in body
        return title in body

    def gone(path, status, body):
        """Not shown to the watcher (in Sales): the page 404s, the category
        page leaves it out."""
        if path == SERVICE_PATH:
            return status == 404
        return status == 200 and token not in body

    page = str(service_id)
    results = {}
    for name, step_args, is_new in (
        ("publish", ["publish", page, title, summary], published),
        # Limited to a department the watcher is not in, then open again.
        ("restrict", ["restrict", page, RESTRICTED_TO], gone),
        ("unrestrict", ["restrict", page, ""], published),
        ("unpublish", ["unpublish", page], gone),
    ):
        log(f"{name} in another process; polling server {b.name}")
        seen = seen_on_other(b, watcher_cookie, env, step_args, is_new, within)
        results[name] = seen
        for path, delay in seen["delay_ms"].items():
            if delay is None or delay > within * 1000:
                problems.append(
                    f"{name}: {path} on {b.name} not seen within {within} s"
                )
        if seen["stale_after_commit"]:
            problems.append(
                f"{name}: {seen['stale_after_commit']} responses on {b.name} to "
                "requests sent after the commit showed the old state"
            )
    # Server A, for completeness: it should agree with B.
    status, _, _ = fetch(a.port, SERVICE_PATH, watcher_cookie)
    if status != 404:
        problems.append(f"after unpublish, server {a.name} answers {status}")
    return results, problems


# -------------------------------------------------------------------------- main


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/bench_cluster",
        help="PostgreSQL URL; its database name (must start with 'bench') is a "
        "prefix: a random suffix is added, and the database is dropped at the end",
    )
    p.add_argument(
        "--redis-db",
        type=int,
        default=7,
        help="database number on the local Redis (127.0.0.1:6379) for the shared "
        "cache; it must be empty, and is flushed at the end (not 0)",
    )
    p.add_argument("--people", type=int, default=200)
    p.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="N",
        help="first give the database N requests of demo history "
        "(load_demo --history), as a portal that has been in use has; "
        "default: a fresh database",
    )
    p.add_argument(
        "--pairs",
        type=int,
        default=4,
        help="baskets submitted at a time (each to both servers)",
    )
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers each")
    p.add_argument("--duration", type=int, default=8, help="seconds of page load")
    p.add_argument("--concurrency", type=int, default=4, help="page load, per server")
    p.add_argument(
        "--within", type=float, default=5.0, help="seconds a publish may take to show"
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    return p.parse_args()


def redis_client(db: int):
    import redis

    if db == 0:
        raise SystemExit("Refusing Redis database 0: pick a number of its own.")
    url = f"redis://{HOST}:6379/{db}"
    client = redis.Redis.from_url(url)
    size = client.dbsize()
    if size:
        raise SystemExit(
            f"Redis database {db} holds {size} keys: someone may be using it. "
            "Pick another --redis-db, or empty it yourself."
        )
    return url, client


def main() -> int:
    args = parse_args()
    if args.step:
        name, *rest = args.step
        steps = {
            "people": lambda: step_people(int(rest[0])),
            "requests": step_requests,
            "publish": lambda: step_publish(int(rest[0]), rest[1], rest[2]),
            "restrict": lambda: step_restrict(int(rest[0]), rest[1]),
            "unpublish": lambda: step_unpublish(int(rest[0])),
        }
        print(json.dumps(steps[name]()))
        return 0

    redis_url, cache = redis_client(args.redis_db)
    workdir = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    database = PostgresDatabase(args.database_url, unique=True)
    env = bench_env(workdir, database.url)
    env.update(
        REDIS_URL=redis_url,
        # The confirmation e-mails are rendered and handed over, and dropped.
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    load_before = os.getloadavg()
    code = describe_code()
    servers: list[Server] = []
    results: dict = {}
    problems: list[str] = []
    try:
        log(f"database {database.name}, cache {redis_url}")
        database.create()
        prepare_database(env, args.history)
        log(f"{args.people} people with a basket each, and their sessions")
        fixture = run_step(env, "people", str(args.people))
        for name in ("A", "B"):
            port = free_port()
            proc = start_gunicorn(
                env, port, args.workers, workdir / f"gunicorn-{name}.log"
            )
            servers.append(Server(name, port, proc))
        postgres = PostgresCpu(database)

        people = [
            Person(p["username"], p["basket"], {"sessionid": p["session"]})
            for p in fixture["people"]
        ]
        run = double_checkout(servers, people, args.pairs, postgres)
        results["checkout"], found = check_checkout(run, servers, env, args.pairs)
        problems += found

        watcher = f"sessionid={fixture['watcher']}"
        log(f"{SERVICE_PATH} on both servers, {args.duration} s")
        results["pages"], found = pages_on_both(
            servers, watcher, args.duration, args.concurrency, workdir, postgres
        )
        problems += found

        results["publish"], found = publish_checks(
            servers, watcher, fixture["service"], env, args.within
        )
        problems += found
        rss = workers_rss_mb(servers)
        results["workers_rss_mb"] = dict(
            workers=len(rss), max=round(max(rss), 1) if rss else None
        )
        results["cache"] = dict(
            redis=redis_url,
            keys=cache.dbsize(),
            bytes=sum(cache.memory_usage(k) or 0 for k in cache.scan_iter(count=500)),
        )
        if not results["cache"]["keys"]:
            problems.append("nothing in the shared cache: the servers did not use it")
    finally:
        for server in servers:
            stop(server.proc)
        database.drop()
        cache.flushdb()
        shutil.rmtree(workdir, ignore_errors=True)

    meta = dict(
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        machine=describe_machine(),
        code=code,
        python=platform.python_version(),
        versions=package_versions(),
        database=f"PostgreSQL {database.server_version()} ({database.name})",
        servers=f"2 x gunicorn, {args.workers} sync workers each, DEBUG=0, "
        f"shared cache {redis_url}",
        loadavg=" ".join(f"{x:.2f}" for x in load_before)
        + " before, "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + " after (1/5/15 min)",
    )
    report(meta, results, problems, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(dict(meta=meta, results=results, problems=problems), indent=2)
            + "\n"
        )
    return 1 if problems else 0


def report(meta: dict, results: dict, problems: list[str], args) -> None:
    print()
    for key, value in meta.items():
        print(f"{key + ':':<10} {value}")
    c = results.get("checkout")
    if c:
        print()
        print(
            f"Double checkout: {c['people']} baskets, each POSTed to A and B at the "
            f"same moment, {args.pairs} baskets at a time"
        )
        rows = [
            ("checkouts/s (baskets)", c["checkouts_per_second"]),
            ("seconds", c["seconds"]),
            ("POSTs (HTTP status: count)", f"{c['posts']} {c['statuses']}"),
            ("requests / items", f"{c['requests']} / {c['items']}"),
            ("created on A / B", f"{c['created_on']['A']} / {c['created_on']['B']}"),
            ("p50 / p99 ms, all POSTs", f"{c['p50_ms']} / {c['p99_ms']}"),
            (
                "p50 / p99 ms, creating",
                f"{c['created_p50_ms']} / {c['created_p99_ms']}",
            ),
            ("p50 / p99 ms, repeat", f"{c['repeat_p50_ms']} / {c['repeat_p99_ms']}"),
            ("worker CPU ms per POST", c["worker_cpu_ms_per_post"]),
            ("PostgreSQL CPU ms per POST", c["postgres_cpu_ms_per_post"]),
            ("verify_request_log", c["verify_request_log"]),
        ]
        for label, value in rows:
            print(f"  {label:<30} {value}")
    p = results.get("pages")
    if p:
        print()
        print(f"Service page on A and B at once ({p['load']})")
        rows = [
            (
                "req/s A / B / total",
                f"{p['rps']['A']} / {p['rps']['B']} / {p['rps_total']}",
            ),
            ("p50 ms A / B", f"{p['p50_ms']['A']} / {p['p50_ms']['B']}"),
            ("p99 ms A / B", f"{p['p99_ms']['A']} / {p['p99_ms']['B']}"),
            ("worker CPU ms per request", p["worker_cpu_ms_per_request"]),
            ("PostgreSQL CPU ms per request", p["postgres_cpu_ms_per_request"]),
        ]
        for label, value in rows:
            print(f"  {label:<30} {value}")
    pub = results.get("publish")
    if pub:
        print()
        print(
            "Published, restricted or unpublished in another process, seen on "
            "server B (ms after the commit)"
        )
        print(
            f"  {'change':<10} {'service page':>13} {'category page':>14} "
            f"{'polls after':>12} {'stale':>6}"
        )
        for name, seen in pub.items():
            page, listing = (
                seen["delay_ms"][SERVICE_PATH],
                seen["delay_ms"][CATEGORY_PATH],
            )
            print(
                f"  {name:<10} {page!s:>13} {listing!s:>14} "
                f"{seen['polls_after_commit']:>12} {seen['stale_after_commit']:>6}"
            )
    rss = results.get("workers_rss_mb")
    if rss:
        print()
        print(f"gunicorn workers: {rss['workers']}, largest {rss['max']} MB resident")
    cache = results.get("cache")
    if cache:
        print()
        print(
            f"Shared cache: {cache['keys']} keys, {cache['bytes']:,} bytes in "
            f"{cache['redis']} (flushed)"
        )
    print()
    if problems:
        print("RESULT: FAILED")
        for problem in problems[:30]:
            print("  " + problem)
        if len(problems) > 30:
            print(f"  … and {len(problems) - 30} more")
    else:
        print("RESULT: every check passed")


if __name__ == "__main__":
    sys.exit(main())
