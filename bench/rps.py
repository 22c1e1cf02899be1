"""Requests per second of the portal's pages against a bare Wagtail page.

One run, one server setup (gunicorn, DEBUG off, a throwaway database holding the
demo catalog), one logged-in employee; each URL is measured in turn at the same
concurrency, in interleaved rounds. The target: a service page and the catalog
listing each reach at least 70% of the bare page's requests per second.

    .venv/bin/python bench/rps.py                      # SQLite in a temp dir
    .venv/bin/python bench/rps.py --database-url postgres://postgres@127.0.0.1:5432/bench_rps

See bench/README.md for what is measured, the options and the recorded results.
Exit status: 0 all targets met, 1 a target missed, 2 a response failed its check.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
HOST = "127.0.0.1"
LOGIN_MARKER = 'name="password"'
LOGGED_IN_MARKER = "Log out"


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    marker: str  # must appear in every measured response body
    required: bool  # counts towards the pass/fail verdict


TARGETS = [
    Target("bare Wagtail page", "/bench-bare/", "<h1>Bench bare page</h1>", False),
    Target(
        "service page", "/services/computers/new-laptop/", "<h1>New laptop</h1>", True
    ),
    Target("catalog listing", "/services/", 'class="card service-card', True),
    Target(
        "category page (bonus)",
        "/services/computers/",
        "<h1>Laptops and computers</h1>",
        False,
    ),
]
BASELINE = TARGETS[0]


@dataclass
class Run:
    requests: int
    seconds: float
    bad: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    cpu_seconds: float = 0.0  # user+system CPU of the gunicorn workers

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """Worker CPU per request: what a page costs, whatever the neighbours do."""
        return self.cpu_seconds / self.requests * 1000 if self.requests else 0.0


@dataclass
class Result:
    """One URL's runs, one per round. Medians resist a noisy neighbour."""

    target: Target
    runs: list[Run] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    def percentile(self, name: str) -> float | None:
        values = [getattr(r, name) for r in self.runs if getattr(r, name) is not None]
        return statistics.median(values) if values else None

    @property
    def cpu_ms(self) -> float:
        return statistics.median(r.cpu_ms for r in self.runs)

    def ratio_to(self, base: "Result") -> float:
        """Median of the per-round ratios: each run against the bare page's run
        of the same round, so a slow minute on the machine hits both sides."""
        return statistics.median(
            r.rps / b.rps for r, b in zip(self.runs, base.runs, strict=True) if b.rps
        )

    @property
    def bad(self) -> int:
        return sum(r.bad + r.errors for r in self.runs)


# --------------------------------------------------------------------------- setup


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class PostgresDatabase:
    """Creates and drops the benchmark's own database; never touches another."""

    def __init__(self, url: str):
        import psycopg

        self.psycopg = psycopg
        parts = urlsplit(url)
        self.name = parts.path.lstrip("/") or "bench_rps"
        if not self.name.startswith("bench"):
            raise SystemExit(
                f"Refusing to drop and recreate {self.name!r}: the benchmark only "
                "manages databases whose name starts with 'bench'."
            )
        self.url = parts._replace(path=f"/{self.name}").geturl()
        self.conninfo = dict(
            host=parts.hostname or HOST,
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
            dbname="postgres",
            autocommit=True,
        )

    def _execute(self, sql: str) -> None:
        with self.psycopg.connect(**self.conninfo) as conn:
            conn.execute(sql)

    def create(self) -> None:
        self.drop()
        self._execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def server_version(self) -> str:
        with self.psycopg.connect(**self.conninfo) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]


def bench_env(workdir: Path, database_url: str) -> dict:
    """Production-like settings (DEBUG off) against the throwaway database."""
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=f"{HOST},localhost",
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(workdir / "media"),
        DJANGO_SETTINGS_MODULE="bench.settings",  # config.settings + STATIC_ROOT
        BENCH_STATIC_ROOT=str(workdir / "static"),
        PYTHONDONTWRITEBYTECODE="1",
        # Served over plain HTTP on the loopback: no redirect to HTTPS, no HSTS,
        # cookies a plain-HTTP client sends back.
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        SECURE_COOKIES="0",
    )
    env.pop("REDIS_URL", None)  # the same locmem cache in every run
    return env


def prepare_database(env: dict, history: int = 0) -> None:
    log("migrate")
    manage(env, "migrate", "--noinput")
    log("collectstatic")
    manage(env, "collectstatic", "--noinput")
    demo = ["load_demo", "--force"] + (["--history", str(history)] if history else [])
    log(" ".join(demo))
    manage(env, *demo)


def manage(env: dict, *args: str) -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"manage.py {' '.join(args)} failed (output above)")


def prepare_fixture(env: dict) -> dict:
    proc = subprocess.run(
        [str(VENV_BIN / "python"), str(REPO / "bench" / "fixture.py")]
        + [t.path for t in TARGETS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit("bench/fixture.py failed (its last output is above)")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def start_gunicorn(env: dict, port: int, workers: int, logfile: Path):
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "config.wsgi",
        "-w",
        str(workers),
        "-b",
        f"{HOST}:{port}",
        "--error-logfile",
        str(logfile),
        "--no-control-socket",  # gunicorn 24+: don't share ~/.gunicorn with others
    ]
    log("starting " + " ".join(cmd))
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see {logfile}")
        try:
            status, _, _ = fetch(port, "/accounts/login/", "")
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"gunicorn did not answer within 30 s; see {logfile}")


def stop(proc) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def worker_cpu_seconds(master_pid: int) -> float:
    """User+system CPU used so far by the gunicorn master's worker processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def fetch(port: int, path: str, cookie: str):
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        conn.close()


def csrf_cookie(headers) -> str | None:
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("csrftoken="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def verify(port: int, cookie: str) -> list[str]:
    """Every URL answers 200 to the logged-in employee with its own content."""
    problems = []
    for target in TARGETS:
        status, _, body = fetch(port, target.path, cookie)
        if status != 200:
            problems.append(f"{target.path}: HTTP {status}")
        elif LOGIN_MARKER in body or LOGGED_IN_MARKER not in body:
            problems.append(f"{target.path}: got the login page, not the page")
        elif target.marker not in body:
            problems.append(f"{target.path}: {target.marker!r} missing from the page")
    return problems


# ---------------------------------------------------------------- load generators

WRK_SCRIPT = r"""
-- Counts responses that are not HTTP 200 with the page's own content (a redirect
-- to the login page would otherwise count as a success) and reports latency.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  marker = args[1]
  login = args[2]
  ok = 0
  bad = 0
end
function response(status, headers, body)
  if status == 200 and string.find(body, marker, 1, true)
      and not string.find(body, login, 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    wrong = wrong + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "ok": %d, "bad": %d, ' ..
    '"errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, good, wrong,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class Wrk:
    """wrk with a Lua script that checks every response body."""

    def __init__(self, threads: int, workdir: Path):
        self.threads = threads
        self.script = workdir / "check.lua"
        self.script.write_text(WRK_SCRIPT)
        proc = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        self.version = (proc.stdout or proc.stderr).splitlines()[0]

    def run(self, port, target, cookie, concurrency, seconds) -> Run:
        cmd = [
            "wrk",
            f"-t{min(self.threads, concurrency)}",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-H",
            f"Cookie: {cookie}",
            "-s",
            str(self.script),
            f"http://{HOST}:{port}{target.path}",
            "--",
            target.marker,
            LOGIN_MARKER,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        line = next(x for x in out.splitlines() if x.startswith("BENCH "))
        data = json.loads(line[len("BENCH ") :])
        return Run(
            requests=data["requests"],
            seconds=data["duration_us"] / 1e6,
            bad=data["bad"],
            errors=data["errors"],
            p50_ms=data["p50_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
        )


class PythonLoad:
    """Fallback when wrk is missing: threads with keep-alive http.client."""

    version = f"http.client threads (Python {platform.python_version()})"

    def run(self, port, target, cookie, concurrency, seconds) -> Run:
        latencies: list[list[float]] = [[] for _ in range(concurrency)]
        bad = [0] * concurrency
        errors = [0] * concurrency
        start = time.perf_counter()
        deadline = start + seconds

        def worker(i):
            conn = None
            while time.perf_counter() < deadline:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, port, timeout=10)
                t0 = time.perf_counter()
                try:
                    conn.request("GET", target.path, headers={"Cookie": cookie})
                    response = conn.getresponse()
                    body = response.read().decode()
                except (OSError, http.client.HTTPException):
                    errors[i] += 1
                    conn.close()
                    conn = None
                    continue
                latencies[i].append(time.perf_counter() - t0)
                if (
                    response.status != 200
                    or target.marker not in body
                    or LOGIN_MARKER in body
                ):
                    bad[i] += 1
                if response.will_close:
                    conn.close()
                    conn = None
            if conn is not None:
                conn.close()

        threads = [
            threading.Thread(target=worker, args=(i,)) for i in range(concurrency)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        flat = sorted(x for per in latencies for x in per)

        def pct(p):
            if not flat:
                return None
            return flat[min(len(flat) - 1, int(len(flat) * p / 100))] * 1000

        return Run(len(flat), elapsed, sum(bad), sum(errors), pct(50), pct(99))


# --------------------------------------------------------------------------- main


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--database-url",
        help="PostgreSQL URL; its database (name must start with 'bench') is "
        "dropped and recreated. Default: SQLite file in a temp dir.",
    )
    p.add_argument("--duration", type=int, default=5, help="seconds per URL per round")
    p.add_argument(
        "--rounds",
        type=int,
        default=6,
        help="interleaved rounds; many short slices spread a busy neighbour's "
        "load evenly over the URLs",
    )
    p.add_argument("--warmup", type=int, default=3, help="warm-up seconds per URL")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--target", type=float, default=0.70, help="minimum ratio to bare")
    p.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="N",
        help="also generate N demo requests (load_demo --history), so the listing "
        "is sorted by real popularity",
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--keep", action="store_true", help="keep the temp dir and database")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    postgres = PostgresDatabase(args.database_url) if args.database_url else None
    workdir = Path(tempfile.mkdtemp(prefix="bench-rps-"))
    if postgres:
        database_url = postgres.url
        db_label = f"PostgreSQL {postgres.server_version()} ({postgres.name})"
    else:
        database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        db_label = "SQLite (WAL) in " + str(workdir)

    env = bench_env(workdir, database_url)

    if args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk")):
        loadgen = Wrk(args.threads, workdir)
    else:
        loadgen = PythonLoad()

    server = None
    load_before = os.getloadavg()
    code = describe_code()  # before the run: others may commit meanwhile
    try:
        log(f"database: {db_label}")
        if postgres:
            postgres.create()
        prepare_database(env, args.history)
        log("bare page, login, query counts")
        fixture = prepare_fixture(env)
        port = free_port()
        server = start_gunicorn(env, port, args.workers, workdir / "gunicorn.log")

        cookie = f"sessionid={fixture['sessionid']}"
        _, headers, _ = fetch(port, BASELINE.path, cookie)
        token = csrf_cookie(headers)
        if token:  # a browser sends the CSRF cookie back; so do we
            cookie += f"; csrftoken={token}"
        problems = verify(port, cookie)
        if problems:
            for problem in problems:
                log("CHECK FAILED " + problem)
            return 2

        log(f"load generator: {loadgen.version}; warm-up {args.warmup} s per URL")
        for target in TARGETS:
            loadgen.run(port, target, cookie, args.concurrency, args.warmup)

        results = {t.path: Result(t) for t in TARGETS}
        for round_no in range(args.rounds):
            # Rotate the order so no page always runs first or last.
            order = (
                TARGETS[round_no % len(TARGETS) :] + TARGETS[: round_no % len(TARGETS)]
            )
            for target in order:
                cpu_before = worker_cpu_seconds(server.pid)
                run = loadgen.run(port, target, cookie, args.concurrency, args.duration)
                run.cpu_seconds = worker_cpu_seconds(server.pid) - cpu_before
                results[target.path].runs.append(run)
                log(
                    f"round {round_no + 1} {target.path}: {run.rps:.1f} req/s, "
                    f"{run.cpu_ms:.1f} ms worker CPU/req "
                    f"({run.requests} requests, {run.bad + run.errors} bad)"
                )
        problems_after = verify(port, cookie)
    finally:
        if server is not None:
            stop(server)
        if postgres and not args.keep:
            postgres.drop()
        if args.keep:
            log(
                f"kept {workdir}"
                + (f" and database {postgres.name}" if postgres else "")
            )
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    return report(
        args, results, fixture, loadgen, db_label, problems_after, load_before, code
    )


def describe_machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if "model name" in line),
                "",
            )
    except OSError:
        pass
    return (
        f"{platform.node()} {platform.machine()} {model}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}"
    )


def describe_code() -> str:
    """The commit measured, read-only (no index refresh, no lock)."""
    git = ["git", "--no-optional-locks", "-C", str(REPO)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    if not head:
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes" if dirty else "")


def noise_notes(rows: list[dict], load_before: tuple[float, ...]) -> list[str]:
    """Warn when wall-clock ratios are not to be trusted."""
    notes = []
    cpus = os.cpu_count() or 1
    if load_before[0] > 0.5 * cpus:
        notes.append(
            f"the machine was busy before the run (load {load_before[0]:.2f} on "
            f"{cpus} CPUs)."
        )
    for row in rows:
        if abs(row["ratio"] - row["cpu_ratio"]) > 0.10:
            notes.append(
                f"{row['path']}: req/s ratio {row['ratio']:.0%} and CPU ratio "
                f"{row['cpu_ratio']:.0%} differ by more than 10 points."
            )
    if notes:
        notes.append(
            "req/s swings with other processes on the machine; CPU/req is the "
            "steadier measure of what a page costs. Re-run on a quiet machine "
            "before trusting a PASS/FAIL near the target."
        )
    return notes


def report(
    args, results, fixture, loadgen, db_label, problems, load_before, code
) -> int:
    base = results[BASELINE.path]
    header = (
        f"{'page':<22} {'URL':<32} {'req/s':>7} {'min-max':>9} {'p50':>6} "
        f"{'p99':>6} {'CPU/req':>7} {'SQL':>4} {'ratio':>6} {'CPU ratio':>9}  verdict"
    )
    lines = [header, "-" * len(header)]
    failed = False
    rows = []
    for target in TARGETS:
        res = results[target.path]
        ratio = res.ratio_to(base)
        cpu_ratio = base.cpu_ms / res.cpu_ms if res.cpu_ms else 0.0
        if target is BASELINE:
            verdict = "baseline"
        else:
            met = ratio >= args.target
            verdict = ("PASS" if met else "FAIL") + (
                "" if target.required else " (info)"
            )
            failed |= target.required and not met
        if res.bad:
            verdict += f"  {res.bad} BAD RESPONSES"
        low, high = min(r.rps for r in res.runs), max(r.rps for r in res.runs)
        p50, p99 = res.percentile("p50_ms"), res.percentile("p99_ms")
        queries = fixture["queries"][target.path]["queries"]
        lines.append(
            f"{target.name:<22} {target.path:<32} {res.rps:>7.1f} "
            f"{f'{low:.0f}-{high:.0f}':>9} {p50 or 0:>6.1f} {p99 or 0:>6.1f} "
            f"{res.cpu_ms:>7.2f} {queries:>4} {ratio:>6.0%} {cpu_ratio:>9.0%}  "
            + verdict
        )
        rows.append(
            dict(
                name=target.name,
                path=target.path,
                rps=round(res.rps, 1),
                rps_per_round=[round(r.rps, 1) for r in res.runs],
                p50_ms=round(p50, 2) if p50 is not None else None,
                p99_ms=round(p99, 2) if p99 is not None else None,
                worker_cpu_ms_per_request=round(res.cpu_ms, 2),
                sql_queries=queries,
                ratio=round(ratio, 3),
                cpu_ratio=round(cpu_ratio, 3),
                verdict=verdict,
                bad_responses=res.bad,
            )
        )
    bad_total = sum(r.bad for r in results.values())
    meta = dict(
        date=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        machine=describe_machine(),
        code=code,
        python=platform.python_version(),
        database=db_label
        + (f", demo history of {args.history} requests" if args.history else ""),
        server=f"gunicorn {args.workers} sync workers, DEBUG=0",
        load=f"{loadgen.version}, {args.concurrency} connections, "
        f"{args.rounds} rounds x {args.duration} s per URL (+{args.warmup} s warm-up)",
        loadavg=" ".join(f"{x:.2f}" for x in load_before)
        + " before, "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + " after (1/5/15 min)",
        target=f"service page and catalog listing >= {args.target:.0%} of the "
        "bare page's req/s",
    )
    print()
    for key, value in meta.items():
        print(f"{key + ':':<10} {value}")
    print()
    print("\n".join(lines))
    print(
        "\nreq/s, p50/p99 (ms) and CPU/req (ms of gunicorn worker CPU per request) "
        "are medians over the rounds;\nratio = median of per-round req/s ratios to "
        "the bare page; CPU ratio = bare CPU/req / page CPU/req."
    )
    print()
    for note in noise_notes(rows, load_before):
        print("NOTE: " + note)
    if problems or bad_total:
        print(
            "RESULT: INVALID, some responses failed their check:", *problems, sep="\n  "
        )
    else:
        print("RESULT: " + ("targets NOT met" if failed else "all targets met"))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(dict(meta=meta, results=rows), indent=2) + "\n")
    if problems or bad_total:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
