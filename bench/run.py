"""Page timings over HTTP against a dataset made by `bench/make_dataset.py` (issue 11).

    python bench/run.py --manifest PATH [--requests 50] [--only name,...] [--load-seconds 20]
                        [--no-load] [--json PATH] [--log PATH]

It starts gunicorn with one sync worker serving `bench/served_app.py` (the real lms app, CSRF
on, configured like `bench/load.py`'s server, plus a query-count header and a bare route), logs
in through the log-in form like a browser and, for every page, sends one warm-up request and
then --requests sequential ones from one client, each on a new connection (gunicorn's sync
worker closes every connection anyway). It records the median and 95th percentile, the
response's size and the SQL statements of one request (`X-Bench-Queries`), then times
`/bench/bare?bytes=<that size>` the same way: a Flask route on the same server that renders a
Jinja template of the same size and reads no database. "ratio to bare" is page median / bare
median. For a logged-in page, `/bench/floor?bytes=<that size>` is timed too, with the page's
own log-in: the bare route after lms's log-in check, the least any logged-in page costs.

Then (unless --no-load) gunicorn with 2 and then 4 workers serves 50 concurrent clients for
--load-seconds each, all on the trainee dashboard with the cookies of several logged-in
trainees: `wrk` when it is on PATH (a C client steals less of the two cores from the server),
else a threaded Python loop; the report says which. It prints requests/s, errors, p50/p95 and
the peak memory (VmHWM) of the largest worker, read just before the server stops.

The quiz submission: each time the next of the manifest's submitters presses "Start the quiz",
the attempt page's form is filled in (with the right answers, read from the database, so each
submitter has every attempt the quiz allows) and only the POST that submits it is timed.

Names for --only: see PAGE_NAMES below (e.g. --only dashboard,grid-200,statistics-programme).
Every page must answer 200 (the quiz submission a redirect to its result): anything else stops
the run with the URL and the server errors from gunicorn's log, exit status 1. The cohort
attendance pages are skipped, with a note, if they answer 404. What a page's query count is
made of: BENCH_QUERY_LOG=PATH (see bench/served_app.py).

The work tree is what gunicorn serves: uncommitted changes under lms/ are flagged in the
report; for figures to keep, run from a clean checkout (`git archive HEAD | tar -x -C DIR`)
on a quiet machine (the load averages before and after are printed).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, select, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_client import RESULT_LINK, BenchError, TimedBrowser  # noqa: E402
from bench.load import (  # noqa: E402
    free_port,
    percentile,
    server_errors,
    stop_gunicorn,
    wait_until_up,
)
from bench.served_app import SPLIT_HEADER  # noqa: E402
from lms.models import Module, Question, Quiz  # noqa: E402

LOAD_CLIENTS = 50
LOAD_WORKERS = (2, 4)
LOAD_TRAINEES = 10  # logged in before a load run; the clients share their cookies in turn
WORKER_TIMEOUT = 300  # seconds; a national-scale report must not be killed mid-request


# --- the pages -------------------------------------------------------------------------------


@dataclass
class Page:
    name: str  # for --only
    label: str  # in the table
    who: str  # trainee, trainer, admin, supervisor, anonymous
    path: str = ""
    optional: bool = False  # a 404 skips the page with a note (a route not written yet)


def pages(manifest: dict[str, Any]) -> list[Page]:
    """Every page the issue asks for, in the order of the brief; ids from the manifest."""
    trainee, c50, c200 = manifest["trainee"], manifest["cohort_50"], manifest["cohort_200"]
    c1000, q20000 = manifest["cohort_1000_attempts"], manifest["quiz_20000"]
    return [
        Page("dashboard", "trainee: dashboard", "trainee", "/dashboard"),
        Page("module", "trainee: module page", "trainee", f"/modules/{trainee['module_slug']}"),
        Page("quiz-intro", "trainee: quiz intro", "trainee",
             f"/modules/{trainee['quiz_slug']}/quiz"),
        Page("quiz-submit", "trainee: quiz submission (POST)", "submitters"),
        Page("quiz-result", "trainee: quiz result", "trainee"),
        Page("progress", "trainee: my progress", "trainee", "/progress"),
        Page("my-attendance", "trainee: my attendance", "trainee", "/my/attendance"),
        Page("grid-50", f"trainer: grid, {c50['trainees']} trainees", "trainer",
             f"/cohorts/{c50['id']}/grid"),
        Page("grid-200", f"trainer: grid, {c200['trainees']} trainees", "trainer",
             f"/cohorts/{c200['id']}/grid"),
        Page("readiness-50", f"trainer: readiness, {c50['trainees']} trainees", "trainer",
             f"/cohorts/{c50['id']}/readiness"),
        Page("attendance-200", f"trainer: cohort attendance, {c200['trainees']} trainees",
             "trainer", f"/cohorts/{c200['id']}/attendance", optional=True),
        Page("attendance-50", f"trainer: cohort attendance, {c50['trainees']} trainees",
             "trainer", f"/cohorts/{c50['id']}/attendance", optional=True),
        Page("statistics-cohort", f"trainer: item statistics, {c1000['attempts']} attempts",
             "trainer", f"/cohorts/{c1000['id']}/statistics/{c1000['quiz_slug']}"),
        Page("grid-csv-200", f"trainer: grid.csv, {c200['trainees']} trainees", "trainer",
             f"/cohorts/{c200['id']}/grid.csv"),
        Page("readiness-csv-200", f"trainer: readiness.csv, {c200['trainees']} trainees",
             "trainer", f"/cohorts/{c200['id']}/readiness.csv"),
        Page("statistics-programme",
             f"admin: item statistics, {q20000['attempts']} attempts", "admin",
             f"/cohorts/statistics/{q20000['slug']}"),
        Page("audit", f"admin: audit log ({manifest.get('audit_rows', '?')} rows)", "admin",
             "/admin/audit"),
        Page("supervisor",
             f"supervisor: dashboard, {manifest['supervisor']['supervisees']} supervisees",
             "supervisor", "/supervision/"),
        Page("verify", "anonymous: certificate verify", "anonymous",
             manifest["certificate"]["verify_path"]),
    ]


PAGE_NAMES = ("dashboard, module, quiz-intro, quiz-submit, quiz-result, progress, "
              "my-attendance, grid-50, grid-200, readiness-50, attendance-200, attendance-50, "
              "statistics-cohort, grid-csv-200, readiness-csv-200, statistics-programme, audit, "
              "supervisor, verify")


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen
    port: int


@contextlib.contextmanager
def gunicorn(url: str, workers: int, secret: str, folder: str,
             log_path: Path) -> Iterator[Server]:
    """`bench/served_app.py` under gunicorn with sync workers; always stopped on the way out."""
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("LMS_") and k not in ("DATABASE_URL", "SECRET_KEY")}
    environment.update(LMS_DATABASE_URI=url, SECRET_KEY=secret, LMS_INSTANCE_PATH=folder,
                       LMS_MAIL_BACKEND="memory")
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
               "--worker-class", "sync", "--timeout", str(WORKER_TIMEOUT),
               "--bind", f"127.0.0.1:{port}", "bench.served_app:make_app()"]
    with open(log_path, "a") as log:
        log.write(f"\n=== {' '.join(command)}\n")
        log.flush()
        # A session of its own, so a Ctrl-C reaches only this script, which then stops it.
        process = subprocess.Popen(command, cwd=ROOT, env=environment,  # noqa: S603
                                   stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            wait_until_up(process, port, log_path)
            yield Server(process, port)
        finally:
            stop_gunicorn(process)


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children (its workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # The command name may hold spaces: the parent id is the second field after ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                found.append(int(entry.name))
    return sorted(found)


def peak_kb(pid: int) -> int:
    """VmHWM: the most resident memory the process ever had, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def worker_peaks(server: Server) -> list[int]:
    peaks = []
    for pid in worker_pids(server.process.pid):
        with contextlib.suppress(OSError):
            peaks.append(peak_kb(pid))
    return peaks


# --- timing one page -------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    label: str
    method: str
    path: str
    requests: int
    median_ms: float
    p95_ms: float
    queries: int | None  # of the last timed request
    bytes: int
    queries_min: int | None = None  # over every timed request: a page's count may vary (a
    queries_max: int | None = None  # "last seen" write once a minute, a submitter's history)
    bare_median_ms: float = 0.0
    bare_p95_ms: float = 0.0
    bare_bytes: int = 0
    # /bench/floor with the page's own log-in: the bare route after lms's log-in check.
    floor_median_ms: float | None = None
    note: str = ""
    # Medians of where the time went inside the worker (served_app's X-Bench-Split): the
    # driver running statements, templates, and the whole request from the first hook to
    # the last; None when the header is missing.
    sql_ms: float | None = None
    render_ms: float | None = None
    in_request_ms: float | None = None

    @property
    def ratio(self) -> float:
        return self.median_ms / self.bare_median_ms if self.bare_median_ms else 0.0


@dataclass
class Samples:
    ms: list[float] = field(default_factory=list)
    size: int = 0
    queries: int | None = None  # of the last one
    seen: set[int] = field(default_factory=set)  # every count met
    splits: list[dict[str, float]] = field(default_factory=list)

    def add(self, reply: Any) -> None:
        self.ms.append(reply.ms)
        self.size, self.queries = reply.size, reply.queries
        if reply.queries is not None:
            self.seen.add(reply.queries)
        split = parse_split(reply.headers.get(SPLIT_HEADER))
        if split:
            self.splits.append(split)

    def split_median(self, part: str) -> float | None:
        found = [s[part] for s in self.splits if part in s]
        return statistics.median(found) if found else None


def parse_split(value: str | None) -> dict[str, float]:
    """``sql=1.2;render=0.5;request=3.1`` as numbers (empty when absent or malformed)."""
    parts: dict[str, float] = {}
    for item in (value or "").split(";"):
        name, _, figure = item.partition("=")
        try:
            parts[name.strip()] = float(figure)
        except ValueError:
            return {}
    return parts


def repeat(run: Callable[[], Any], requests: int) -> Samples:
    """One warm-up, then ``requests`` timed runs one after the other."""
    run()
    samples = Samples()
    for _ in range(requests):
        samples.add(run())
    return samples


def time_get(browser: TimedBrowser, path: str, requests: int) -> Samples:
    return repeat(lambda: browser.expect("GET", path), requests)


class Submissions:
    """Start an attempt as the quiz page does, fill in the attempt page's form, and time only
    the POST that submits it; each run by the next of the manifest's submitters in turn. The
    answers are right (the key read from the database), so a submitter has every attempt the
    quiz allows rather than one and a day's wait; one who has none left is passed over."""

    def __init__(self, people: People, slug: str) -> None:
        self.people, self.slug = people, slug
        self.queue = list(people.manifest["submitters"])
        self.turn = 0
        self.key = answer_key(people.manifest["database_url"], slug)
        self.last_result: tuple[TimedBrowser, str] | None = None

    def next_attempt(self) -> tuple[TimedBrowser, int]:
        while self.queue:
            self.turn %= len(self.queue)
            browser = self.people.browser_for(self.queue[self.turn])
            attempt_id = browser.start_attempt(self.slug)
            if attempt_id is not None:
                self.turn += 1
                return browser, attempt_id
            del self.queue[self.turn]  # no attempt left, or a wait: not again this run
        raise BenchError(f"no submitter can start {self.slug} any more (attempts used up): "
                         "rebuild the dataset")

    def __call__(self) -> Any:
        browser, attempt_id = self.next_attempt()
        fields = browser.answers_for(attempt_id, self.key)
        path = f"/attempts/{attempt_id}"
        reply = browser.expect("POST", path, 302, fields)
        if not (reply.location or "").endswith(f"{path}/result"):
            raise BenchError(f"POST {path} as {browser.who} sent to {reply.location}, "
                             f"not to its result")
        self.last_result = (browser, f"{path}/result")
        return reply


def answer_key(url: str, slug: str) -> dict[str, list[str]]:
    """Question key -> correct option ids of the current version of ``slug``'s quiz."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Question.key, Question.correct)
                .join(Quiz, Quiz.current_version_id == Question.quiz_version_id)
                .join(Module, Module.id == Quiz.module_id).where(Module.slug == slug)).all()
    finally:
        engine.dispose()
    return {key: list(correct or []) for key, correct in rows}


# --- who is logged in ------------------------------------------------------------------------


class People:
    """One logged-in browser per person, made on first use."""

    def __init__(self, manifest: dict[str, Any], port: int) -> None:
        self.manifest, self.port = manifest, port
        self.browsers: dict[str, TimedBrowser] = {}

    def browser_for(self, email: str | None) -> TimedBrowser:
        key = email or "anonymous"
        if key not in self.browsers:
            browser = TimedBrowser(self.port)
            if email:
                browser.log_in(email, self.manifest["password"])
            self.browsers[key] = browser
        return self.browsers[key]

    def role(self, who: str) -> TimedBrowser:
        return self.browser_for(None if who == "anonymous" else self.manifest[who]["email"])


def result_page(people: People, submissions: Submissions | None) -> tuple[TimedBrowser, str,
                                                                           str]:
    """The trainee's own latest result of the quiz, else one a submitter just made."""
    trainee = people.role("trainee")
    intro = trainee.expect("GET", f"/modules/{people.manifest['trainee']['quiz_slug']}/quiz")
    links = RESULT_LINK.findall(intro.body)
    if links:
        return trainee, links[0], ""
    if submissions is None:
        submissions = Submissions(people, people.manifest["trainee"]["quiz_slug"])
        submissions()
    browser, path = submissions.last_result
    return browser, path, f"the trainee has no result: {browser.who}'s"


def time_pages(people: People, chosen: list[Page], requests: int,
               skipped: list[str]) -> list[Timing]:
    """Time each page in turn; an optional page that answers 404 is named in ``skipped``."""
    timings = []
    submissions: Submissions | None = None
    bare = people.role("anonymous")
    for page in chosen:
        note, method, path = "", "GET", page.path
        if page.name == "quiz-submit":
            submissions = Submissions(people, people.manifest["trainee"]["quiz_slug"])
            method, path = "POST", "/attempts/<id> (answers)"
            samples = repeat(submissions, requests)
        else:
            browser = people.role(page.who) if page.path else None
            if page.name == "quiz-result":
                browser, path, note = result_page(people, submissions)
            if page.optional:
                probe = browser.send("GET", path)
                if probe.status == 404:
                    skipped.append(f"{page.label}: {path} answered 404 (no such route yet?)")
                    print(f"  {page.name}: skipped, {path} answered 404", file=sys.stderr)
                    continue
            samples = time_get(browser, path, requests)
        timing = Timing(page.name, page.label, method, path, requests,
                        statistics.median(samples.ms), percentile(samples.ms, 0.95),
                        samples.queries, samples.size, min(samples.seen, default=None),
                        max(samples.seen, default=None), note=note,
                        sql_ms=samples.split_median("sql"),
                        render_ms=samples.split_median("render"),
                        in_request_ms=samples.split_median("request"))
        against = time_get(bare, f"/bench/bare?bytes={samples.size}", requests)
        timing.bare_median_ms = statistics.median(against.ms)
        timing.bare_p95_ms = percentile(against.ms, 0.95)
        timing.bare_bytes = against.size
        if page.who != "anonymous":
            # The submitters are trainees: the floor of a submission is a trainee's.
            floor_browser = people.role("trainee" if page.who == "submitters" else page.who)
            timing.floor_median_ms = statistics.median(
                time_get(floor_browser, f"/bench/floor?bytes={samples.size}", requests).ms)
        print(f"  {page.name}: {timing.median_ms:.1f} ms median, {timing.queries} queries, "
              f"{timing.bytes / 1024:.0f} KB, {timing.ratio:.1f} x bare", file=sys.stderr,
              flush=True)
        timings.append(timing)
    return timings


# --- under load ------------------------------------------------------------------------------


@dataclass
class LoadResult:
    workers: int
    clients: int
    seconds: float
    tool: str
    requests: int
    requests_per_second: float
    errors: int  # non-2xx answers plus socket errors and timeouts
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    worker_peak_kb: list[int]


WRK_SCRIPT = """
local cookies = {%s}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0; sent = 0 end
function request()
  sent = sent + 1
  return wrk.format("GET", "/dashboard",
                    {["Cookie"] = cookies[sent %% #cookies + 1], ["Accept-Language"] = "en"})
end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, bad, latency:percentile(50),
    latency:percentile(95)))
end
"""


def cookie_header(browser: TimedBrowser) -> str:
    return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


def run_wrk(port: int, cookies: list[str], seconds: float, folder: str) -> dict[str, Any]:
    script = Path(folder) / "dashboard.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(c) for c in cookies))
    command = ["wrk", "--threads", "2", "--connections", str(LOAD_CLIENTS),
               "--duration", f"{max(1, round(seconds))}s", "--timeout", "60s",
               "--script", str(script), f"http://127.0.0.1:{port}/dashboard"]
    done = subprocess.run(command, capture_output=True, text=True,  # noqa: S603
                          timeout=seconds + 120, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    requests, duration_us, socket_errors, non_2xx, p50_us, p95_us = map(int, line.split()[1:])
    return {"tool": "wrk", "requests": requests, "seconds": duration_us / 1e6,
            "socket_errors": socket_errors, "non_2xx": non_2xx,
            "p50_ms": p50_us / 1000, "p95_ms": p95_us / 1000}


def run_threads(port: int, cookies: list[str], seconds: float) -> dict[str, Any]:
    """The fallback: LOAD_CLIENTS Python threads, each a new connection per request."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    tally: dict[str, Any] = {"ms": [], "non_2xx": 0, "socket_errors": 0}

    def client(number: int) -> None:
        headers = {"Cookie": cookies[number % len(cookies)], "Accept-Language": "en",
                   "Connection": "close"}
        while time.monotonic() < deadline:
            start = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.request("GET", "/dashboard", headers=headers)
                response = connection.getresponse()
                response.read()
                bad = not 200 <= response.status < 300
                with lock:
                    tally["ms"].append((time.perf_counter() - start) * 1000)
                    tally["non_2xx"] += bad
            except (OSError, http.client.HTTPException):
                with lock:
                    tally["socket_errors"] += 1
            finally:
                connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,), daemon=True)
               for n in range(LOAD_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 90)
    ms = tally["ms"] or [0.0]
    return {"tool": "python threads (http.client)", "requests": len(tally["ms"]),
            "seconds": time.perf_counter() - started, "socket_errors": tally["socket_errors"],
            "non_2xx": tally["non_2xx"], "p50_ms": statistics.median(ms),
            "p95_ms": percentile(ms, 0.95)}


def load_run(manifest: dict[str, Any], url: str, secret: str, folder: str, log_path: Path,
             workers: int, seconds: float) -> LoadResult:
    with gunicorn(url, workers, secret, folder, log_path) as server:
        people = People(manifest, server.port)
        emails = [manifest["trainee"]["email"], *manifest["submitters"]][:LOAD_TRAINEES]
        cookies = []
        for email in dict.fromkeys(emails):
            browser = people.browser_for(email)
            browser.expect("GET", "/dashboard")  # the cookies work, and the worker is warm
            cookies.append(cookie_header(browser))
        print(f"  load: {workers} workers, {LOAD_CLIENTS} clients, {seconds:.0f} s, "
              f"{len(cookies)} trainees", file=sys.stderr, flush=True)
        if shutil.which("wrk"):
            figures = run_wrk(server.port, cookies, seconds, folder)
        else:
            figures = run_threads(server.port, cookies, seconds)
        peaks = worker_peaks(server)
    return LoadResult(
        workers=workers, clients=LOAD_CLIENTS, seconds=round(figures["seconds"], 1),
        tool=figures["tool"], requests=figures["requests"],
        requests_per_second=figures["requests"] / figures["seconds"],
        errors=figures["non_2xx"] + figures["socket_errors"], non_2xx=figures["non_2xx"],
        socket_errors=figures["socket_errors"], p50_ms=figures["p50_ms"],
        p95_ms=figures["p95_ms"], worker_peak_kb=peaks)


# --- the machine and the report --------------------------------------------------------------


def machine(url: str) -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip()
                  for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    found: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "git_commit": git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)",
        "lms_changes_uncommitted": bool(git("status", "--porcelain", "--", "lms")),
        "gunicorn": gunicorn_version(), "wrk": shutil.which("wrk") is not None,
        "load_average_start": load_average(), "host_speed_start_ms": host_speed(),
    }
    database = make_url(url)
    found["database"] = database.get_backend_name()
    if found["database"] == "postgresql":
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                found["postgresql"] = connection.scalar(text("SHOW server_version"))
        finally:
            engine.dispose()
    return found


def host_speed(rounds: int = 5) -> float:
    """A yardstick for the host: the fastest of ``rounds`` runs of fixed Python work, in ms.

    The same commit's pages have run 1.3 to 2.3 times slower an hour apart on this kind of
    virtual machine, with the load average low, because of other tenants on the host. This
    work looks things up in a dict of 200,000 entries in a scattered order and sorts tuples,
    like a page's Python, so when it is slower than usual the host is, and a run's figures
    say so beside it."""
    keys = [(i * 7919) % 200_003 for i in range(200_000)]
    fastest = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        table = {key: (key, str(key)) for key in keys}
        total = 0
        for key in reversed(keys):
            total += table[key][0]
        sorted(table.values(), key=lambda row: row[1])
        fastest = min(fastest, time.perf_counter() - began)
    return round(fastest * 1000, 1)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: above the cpu count, other work shared the cpus."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def git(*arguments: str) -> str:
    """git's answer, or "" where there is no git or no repository."""
    try:
        done = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True,  # noqa: S603, S607
                              text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def gunicorn_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("gunicorn")
    except PackageNotFoundError:  # the bench extra is not installed (the report still reads)
        return "not installed"


def markdown(found: dict[str, Any], manifest: dict[str, Any], timings: list[Timing],
             skipped: list[str], loads: list[LoadResult], requests: int,
             single_worker_peak_kb: list[int]) -> str:
    engine = found["database"] + (f" {found['postgresql']}" if "postgresql" in found else
                                  f" (SQLite {found['sqlite']})")
    lines = [
        f"lms over HTTP: {engine}, dataset scale {manifest.get('scale')} "
        f"(seed {manifest.get('seed')}), {found['date']}, commit {found['git_commit']}"
        + (" (lms/ has uncommitted changes)" if found["lms_changes_uncommitted"] else ""),
        f"machine: {found['cpus']} x {found['cpu_model']}; Python {found['python']}, "
        f"gunicorn {found['gunicorn']}; load average {found['load_average_start']} before, "
        f"{found.get('load_average_end', '?')} after (above {found['cpus']}: other work shared "
        "the cpus)",
        f"host yardstick (bench/run.py's host_speed, fixed Python work, lower is faster): "
        f"{found.get('host_speed_start_ms', '?')} ms before, "
        f"{found.get('host_speed_end_ms', '?')} ms after",
        "dataset: " + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                                 for k, v in (manifest.get("counts") or {}).items()),
        "",
        f"One sync worker; 1 warm-up then {requests} sequential requests per page, a new "
        "connection each; the bare route renders a template of the page's size with no "
        "database work; the logged-in floor is that route after lms's log-in check, with the "
        "page's own log-in.",
        "",
        "| page | median ms | p95 ms | queries | KB | ratio to bare | bare ms "
        "| logged-in floor ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        floor = "" if t.floor_median_ms is None else f"{t.floor_median_ms:.1f}"
        lines.append(f"| {t.label} | {t.median_ms:.1f} | {t.p95_ms:.1f} | "
                     f"{query_count(t)} | {t.bytes / 1024:.1f} | "
                     f"{t.ratio:.1f} | {t.bare_median_ms:.1f} | {floor} |")
    lines += ["", "Where each page's time went (medians, ms): the driver running its statements, "
              "its templates, the rest of the request in lms and Flask (log-in session, "
              "services, row loading, hooks), and outside the request (opening the session "
              "cookie, the commit at teardown, gunicorn, the wire and the client).", "",
              "| page | total | SQL | templates | rest of the request | outside it |",
              "|---|---:|---:|---:|---:|---:|"]
    for t in timings:
        lines.append(split_row(t))
    notes = [f"- {t.label}: {t.note}" for t in timings if t.note]
    notes += [f"- skipped: {line}" for line in skipped]
    if single_worker_peak_kb:
        notes.append(f"- the worker's peak memory (VmHWM) after these pages: "
                     f"{max(single_worker_peak_kb) / 1024:.0f} MB")
    if notes:
        lines += ["", *notes]
    if loads:
        lines += ["", f"Under load: the trainee dashboard, {LOAD_CLIENTS} concurrent clients "
                  f"({loads[0].tool}); latencies include the wait for a free worker.", "",
                  "| workers | seconds | requests | requests/s | errors | p50 ms | p95 ms | "
                  "peak MB of one worker |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in loads:
            peak = max(r.worker_peak_kb) / 1024 if r.worker_peak_kb else 0
            lines.append(f"| {r.workers} | {r.seconds:.0f} | {r.requests:,} | "
                         f"{r.requests_per_second:.1f} | {r.errors} ({r.non_2xx} non-2xx, "
                         f"{r.socket_errors} socket) | {r.p50_ms:.1f} | {r.p95_ms:.1f} | "
                         f"{peak:.0f} |")
    return "\n".join(lines)


def split_row(t: Timing) -> str:
    if t.in_request_ms is None or t.sql_ms is None or t.render_ms is None:
        return f"| {t.label} | {t.median_ms:.1f} | ? | ? | ? | ? |"
    rest = max(0.0, t.in_request_ms - t.sql_ms - t.render_ms)
    outside = max(0.0, t.median_ms - t.in_request_ms)
    return (f"| {t.label} | {t.median_ms:.1f} | {t.sql_ms:.2f} | {t.render_ms:.2f} | "
            f"{rest:.2f} | {outside:.2f} |")


def query_count(timing: Timing) -> str:
    if timing.queries is None:
        return "?"
    if timing.queries_min != timing.queries_max:
        return f"{timing.queries_min}-{timing.queries_max}"
    return str(timing.queries)


def rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}


def as_json(found: dict[str, Any], manifest: dict[str, Any], timings: list[Timing],
            skipped: list[str], loads: list[LoadResult],
            single_worker_peak_kb: list[int]) -> dict[str, Any]:
    return {
        "machine": found,
        "dataset": {k: manifest.get(k) for k in ("scale", "seed", "counts", "built_in_seconds")},
        "skipped": skipped,
        "pages": [{**rounded(asdict(t)), "ratio_to_bare": round(t.ratio, 2)} for t in timings],
        "single_worker_peak_kb": single_worker_peak_kb,
        "load": [rounded(asdict(r)) for r in loads],
    }


# --- the run ---------------------------------------------------------------------------------


def chosen_pages(manifest: dict[str, Any], only: str | None) -> list[Page]:
    every = pages(manifest)
    if not only:
        return every
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    unknown = set(wanted) - {p.name for p in every}
    if unknown:
        raise SystemExit(f"unknown page(s) {', '.join(sorted(unknown))}; known: {PAGE_NAMES}")
    return [p for p in every if p.name in wanted]


def interrupt(_signal_number: int, _frame: object) -> None:
    raise KeyboardInterrupt


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True,
                        help="the JSON manifest bench/make_dataset.py wrote")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--only", help=f"comma-separated page names: {PAGE_NAMES}")
    parser.add_argument("--load-seconds", type=float, default=20,
                        help="seconds of each load run (1 to 600)")
    parser.add_argument("--no-load", action="store_true", help="skip the load runs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--log", type=Path, help="where to keep gunicorn's log")
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    args.load_seconds = min(600.0, max(1.0, args.load_seconds))
    return args


def main() -> int:
    signal.signal(signal.SIGTERM, interrupt)  # a kill still stops gunicorn (finally blocks)
    args = arguments()
    manifest = json.loads(args.manifest.read_text())
    url = manifest["database_url"]
    if make_url(url).get_backend_name() == "postgresql" and make_url(url).database == "test":
        raise SystemExit("Refusing the database named 'test' (it is shared with CI).")
    chosen = chosen_pages(manifest, args.only)
    folder = tempfile.mkdtemp(prefix="lms-run-")
    log_path = args.log or Path(folder) / "gunicorn.log"
    secret = secrets.token_hex(32)
    found = machine(url)
    timings: list[Timing] = []
    skipped: list[str] = []
    loads: list[LoadResult] = []
    single_peak: list[int] = []
    failed = True
    try:
        with gunicorn(url, 1, secret, folder, log_path) as server:
            print(f"gunicorn up on port {server.port}; timing {len(chosen)} pages",
                  file=sys.stderr, flush=True)
            timings = time_pages(People(manifest, server.port), chosen, args.requests, skipped)
            single_peak = worker_peaks(server)
        if not args.no_load:
            for workers in LOAD_WORKERS:
                loads.append(load_run(manifest, url, secret, folder, log_path, workers,
                                      args.load_seconds))
        failed = False
    except BenchError as problem:
        print(f"\nFAILED: {problem}", file=sys.stderr)
        for n, what in server_errors(log_path.read_text(errors="replace")):
            print(f"  server error x{n}: {what}", file=sys.stderr)
        print(f"gunicorn's log: {log_path}", file=sys.stderr)
        return 1
    finally:
        if not failed or args.log is not None:  # a failure's log stays there for reading
            shutil.rmtree(folder, ignore_errors=True)
    found["load_average_end"] = load_average()
    found["host_speed_end_ms"] = host_speed()
    print(markdown(found, manifest, timings, skipped, loads, args.requests, single_peak))
    if args.json:
        figures = as_json(found, manifest, timings, skipped, loads, single_peak)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
