"""Load test: double clicks, enrolments and register saves against a real multi-worker gunicorn.

    python bench/load.py [--database sqlite|postgresql] [--database-url URL] [--workers 4]
                         [--clients 20] [--seconds 60] [--log PATH]

It builds a fresh database (SQLite in a temporary folder; for PostgreSQL --database-url, default
postgresql+psycopg://postgres@127.0.0.1:5432/lms_load, whose lms_ tables are dropped first: make
it with `createdb -h 127.0.0.1 -U postgres lms_load`; a database named `test` is refused), runs
the migrations and syncs the shipped curricula/ and quizzes/. It seeds an admin, four trainers,
a register cohort (20 trainees, one past session whose register is taken), a pool of trainees
with passwords in a learners' cohort, and an empty cohort to enrol into (the passwords have a
cheap hash: log-ins are not what is measured). Then it starts
`gunicorn -w N 'lms:create_app()'` on a free local port, as deployed (CSRF on, migrations
checked at start-up), and runs --clients threads for --seconds. Each client logs in as a trainee,
one of the trainers and the admin, and loops over a weighted mix, like a browser (it follows
every redirect):

* the trainee's journey, module by module: "Mark as read" clicked twice at once, "Start the
  quiz" clicked twice at once (both clicks must land on the same attempt), the answers
  submitted; three rounds per quiz, then the next module, then the next trainee of the pool;
* a trainer saves the one register with a few marks changed (from the page as loaded, so the
  other marks go back as they were shown): every client saves the same register;
* the same new email enrolled twice at once, in turn on the three forms that create an account
  (a trainer's "Enrol one" and CSV upload, the admin's "Add a person").

Afterwards it reads the database and counts lost writes (an acknowledged mark-as-read, attempt,
submission or enrolment that is not there; an acknowledged register save whose marks are not all
in the history, as written; a mark that differs from the last entry of its history) and broken
history links (an attendance change whose old status or minutes is not the previous change's
new one). It prints, per action, the requests, 5xx, other 4xx and p50/p95 ms, then the totals,
and a summary of the distinct server errors in gunicorn's log (kept at --log). Exit status 1
when there was any 5xx, failed request, lost write, broken link or duplicate.

Expected 4xx: 422 for the second click of an enrolment pair when the address is taken (it may
also be a 200 that says the person was already enrolled), and for a register save refused because
another save changed the register at the same moment. Any other 4xx is shown with its code.
The times include the wait for a free worker: with more clients than workers (sync workers serve
one request each) they measure a saturated server, not what one request costs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.client
import itertools
import os
import random
import re
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
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from html import unescape
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, insert, inspect, make_url, select, text, update
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lms import create_app  # noqa: E402
from lms.database import Database  # noqa: E402
from lms.migrate import upgrade  # noqa: E402
from lms.models import (  # noqa: E402
    Answer,
    Attempt,
    AttendanceChange,
    AttendanceRecord,
    Curriculum,
    Enrolment,
    Module,
    ModuleProgress,
    Person,
    Quiz,
)
from lms.models.agenda import LATE, LEFT_EARLY, STATUSES  # noqa: E402
from lms.services import accounts, agenda, attendance, cohorts  # noqa: E402
from lms.services.content_sync import sync_folders  # noqa: E402

PASSWORD = "load-test-password"
DEFAULT_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/lms_load"
TRAINERS = 4
REGISTER_TRAINEES = 20
SESSION_MINUTES = 120
# Weights of the mix: a trainee's next step, a register save, an enrolment pair.
MIX = (("trainee", 6), ("register", 3), ("enrol", 1))
ENROL_FORMS = ("enrol one (pair)", "enrol by CSV (pair)", "admin: add a person (pair)")
ACTIONS = ("log in", "mark as read (pair)", "start the quiz (pair)", "submit answers",
           "save the register", *ENROL_FORMS, "pages (GET)")


# --- the database ----------------------------------------------------------------------------


@dataclass
class Seed:
    """What the clients and the final checks need to know about the seeded data."""

    register_cohort: int
    register_session: int
    enrol_cohort: int
    trainers: list[str]
    admin: str
    pool: list[tuple[str, int]]  # (email, person id) of trainees with PASSWORD
    modules: list[tuple[str, int, int]]  # (slug, module id, attempts allowed), in order
    answers: dict[str, dict[str, list[str]]]  # slug -> question key -> correct option ids


def prepare_database(url: str, pool_size: int) -> Seed:
    """Empty the database, migrate it to head, sync the shipped content and seed people."""
    app = create_app({"LMS_DATABASE_URI": url, "SECRET_KEY": "load", "LMS_AUTO_UPGRADE": False},
                     serving=False)
    db: Database = app.extensions["lms"].db
    if db.engine.dialect.name == "postgresql":
        if db.engine.url.database == "test":
            raise SystemExit("Refusing the database named 'test' (it is shared with CI).")
        with db.engine.begin() as connection:
            for table in inspect(connection).get_table_names():
                if table.startswith("lms_"):
                    connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    upgrade(db)
    today = datetime.now(UTC).date()
    with app.app_context(), db.session() as session:
        sync_folders(session, ROOT / "curricula", ROOT / "quizzes")
        curriculum = session.scalar(select(Curriculum).order_by(Curriculum.id))
        admin = accounts.create_person(session, email="admin@load.example.org", name="Load Admin",
                                       password=None, roles=["admin"])
        trainers = [accounts.create_person(session, email=f"trainer{n}@load.example.org",
                                           name=f"Trainer {n}", password=None,
                                           roles=["trainer"]) for n in range(TRAINERS)]

        def cohort(name: str):
            made = cohorts.create_cohort(session, name=name, curriculum=curriculum,
                                         timezone="UTC")
            cohorts.set_staff(session, made, trainers=trainers, supervisors=[])
            return made

        register_cohort, learners, enrol_cohort = (
            cohort("Register cohort"), cohort("Learners"), cohort("Enrolment races"))
        # The register: trainees enrolled a month ago, a session a week ago, everyone marked
        # present, so every later save is a correction and carries its request's reason.
        marked = accounts.create_trainees(session, [
            (f"Register Trainee {n:02d}", f"register{n}@load.example.org")
            for n in range(REGISTER_TRAINEES)])
        for person in marked:
            cohorts.enrol(session, register_cohort, person, today - timedelta(days=30))
        item = agenda.add_session(session, register_cohort, agenda.SessionInput(
            title="Load-tested session", on_date=today - timedelta(days=7),
            start_time=clock(9, 30), duration_minutes=SESSION_MINUTES))
        session.flush()
        attendance.record_register(session, item, [attendance.Mark(p.id, "present")
                                                   for p in marked], trainers[0])
        pool = accounts.create_trainees(session, [
            (f"Learner {n:05d}", f"learner{n}@load.example.org") for n in range(pool_size)])
        # One cheap hash for everyone who logs in: a real one (scrypt) costs a fifth of a
        # second of a worker's CPU per log-in, which is not what this run measures.
        session.execute(update(Person).where(Person.id.in_(
            [p.id for p in pool] + [admin.id] + [t.id for t in trainers])).values(
            password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
            password_changed_at=datetime.now(UTC)))
        session.execute(insert(Enrolment), [
            {"cohort_id": learners.id, "person_id": p.id,
             "enrolled_on": today - timedelta(days=7)} for p in pool])
        modules = []
        answers: dict[str, dict[str, list[str]]] = {}
        for module in session.scalars(select(Module).join(Quiz, Quiz.module_id == Module.id)
                                      .where(Module.curriculum_id == curriculum.id,
                                             Module.retired.is_(False))
                                      .order_by(Module.position)):
            version = module.quiz.current_version
            modules.append((module.slug, module.id, version.attempts_allowed or 3))
            answers[module.slug] = {q.key: list(q.correct) for q in version.questions}
        seed = Seed(register_cohort=register_cohort.id, register_session=item.id,
                    enrol_cohort=enrol_cohort.id, trainers=[t.email for t in trainers],
                    admin=admin.email, pool=[(p.email, p.id) for p in pool],
                    modules=modules, answers=answers)
        session.commit()
    db.dispose()
    return seed


# --- HTTP like a browser ---------------------------------------------------------------------


@dataclass
class Reply:
    status: int  # 0: no response (connection refused, reset or timed out)
    body: str
    location: str | None
    set_cookies: list[str]
    ms: float
    finished: float


CSRF_INPUT = re.compile(r'<input[^>]*name="(?:[\w-]+-)?csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')


class Browser:
    """One person's cookies and CSRF token. Safe to share between the two threads of a double
    click: the cookies are read before the requests go and written after."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def send(self, method: str, path: str, fields: list[tuple[str, str]] | None = None,
             file: tuple[str, str, bytes] | None = None,
             cookies: dict[str, str] | None = None) -> Reply:
        headers = {"Connection": "close", "Accept-Language": "en"}
        jar = self.cookies if cookies is None else cookies
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        body = None
        if file is not None:
            boundary = uuid.uuid4().hex
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                     .encode() for k, v in fields or []]
            name, filename, data = file
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                         f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                         + data + b"\r\n")
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read().decode("utf-8", "replace")
            reply = Reply(response.status, data, response.getheader("Location"),
                          response.headers.get_all("Set-Cookie") or [],
                          (time.perf_counter() - start) * 1000, time.perf_counter())
        except (OSError, http.client.HTTPException):
            reply = Reply(0, "", None, [], (time.perf_counter() - start) * 1000,
                          time.perf_counter())
        finally:
            connection.close()
        return reply

    def keep(self, reply: Reply) -> None:
        """Take the reply's cookies, and the CSRF token of its page if it has one."""
        for header in reply.set_cookies:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        tag = CSRF_INPUT.search(reply.body)
        if tag:
            value = VALUE.search(tag.group(0))
            if value:
                self.csrf = unescape(value.group(1))


class FormReader(HTMLParser):
    """The fields a browser would send from the first POST form whose class names ``kind``."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind, self.inside, self.done = kind, False, False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attributes}
        if tag == "form" and not self.done:
            self.inside = self.kind in found.get("class", "").split()
        elif not self.inside or "name" not in found and tag != "option":
            return
        elif tag == "input":
            kind = found.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("radio", "checkbox") and "checked" not in found:
                return
            self.fields.append((found["name"], found.get("value", "on")))
        elif tag == "select":
            self.select = found["name"]
        elif tag == "option" and self.select and "selected" in found:
            self.fields.append((self.select, found.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside, self.done = False, True
        elif tag == "select":
            self.select = None


def form_fields(page: str, kind: str) -> list[tuple[str, str]]:
    reader = FormReader(kind)
    reader.feed(page)
    return reader.fields


def path_of(location: str | None) -> str:
    parts = urlsplit(location or "")
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- the clients -----------------------------------------------------------------------------


@dataclass
class Tally:
    """One client's counts; merged after the run, so no lock is needed while it runs."""

    samples: dict[str, list[tuple[int, float]]] = field(
        default_factory=lambda: defaultdict(list))
    reads: list[tuple[int, int]] = field(default_factory=list)  # acknowledged (person, module)
    starts: list[tuple[int, int]] = field(default_factory=list)  # acknowledged (person, attempt)
    submissions: list[tuple[int, int]] = field(default_factory=list)
    enrolments: list[str] = field(default_factory=list)  # acknowledged emails
    enrol_pairs: int = 0
    register_saves: list[tuple[str, dict[int, tuple[str, int | None]], int | None]] = field(
        default_factory=list)  # (reason, marks sent, changes acknowledged or None)
    duplicates: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, action: str, reply: Reply) -> None:
        self.samples[action].append((reply.status, reply.ms))


class Pool:
    """The trainees not used yet, shared by the clients."""

    def __init__(self, people: list[tuple[str, int]]) -> None:
        self._people = iter(people)
        self._lock = threading.Lock()
        self.exhausted = False

    def take(self) -> tuple[str, int] | None:
        with self._lock:
            person = next(self._people, None)
            self.exhausted = self.exhausted or person is None
            return person


@dataclass
class Journey:
    email: str
    person_id: int
    browser: Browser
    module: int = 0
    read: bool = False
    rounds: int = 0


class Client(threading.Thread):
    def __init__(self, number: int, port: int, seed: Seed, pool: Pool, stop: threading.Event,
                 rng: random.Random) -> None:
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.port, self.seed, self.pool, self.stop = number, port, seed, pool, stop
        self.rng = rng
        self.tally = Tally()
        self.pair = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix=self.name)
        self.journey: Journey | None = None
        self.trainer: Browser | None = None
        self.admin: Browser | None = None
        self.sequence = itertools.count(1)
        self.enrol_forms = itertools.cycle(range(len(ENROL_FORMS)))

    # Plumbing.

    def get(self, browser: Browser, path: str) -> Reply:
        """A page, following redirects as a browser does."""
        for _hop in range(5):
            reply = browser.send("GET", path)
            self.tally.add("pages (GET)", reply)
            browser.keep(reply)
            if reply.status not in (301, 302, 303) or not reply.location:
                return reply
            path = path_of(reply.location)
        return reply

    def post(self, action: str, browser: Browser, path: str, fields: list[tuple[str, str]],
             file: tuple[str, str, bytes] | None = None) -> Reply:
        reply = browser.send("POST", path, fields, file)
        self.tally.add(action, reply)
        browser.keep(reply)
        return reply

    def double_click(self, action: str, browser: Browser, path: str,
                     fields: list[tuple[str, str]],
                     file: tuple[str, str, bytes] | None = None) -> tuple[Reply, Reply]:
        """Two identical POSTs at once with the same cookies; the browser keeps the cookies
        of whichever answer came last, and shows that page."""
        jar = dict(browser.cookies)
        ready = threading.Barrier(2)

        def click() -> Reply:
            ready.wait()
            return browser.send("POST", path, fields, file, cookies=jar)

        first, second = self.pair.submit(click), self.pair.submit(click)
        replies = (first.result(), second.result())
        for reply in replies:
            self.tally.add(action, reply)
        last = max(replies, key=lambda r: r.finished)
        browser.keep(last)
        if last.status in (301, 302, 303) and last.location:
            self.get(browser, path_of(last.location))
        return replies

    def log_in(self, email: str) -> Browser | None:
        browser = Browser(self.port)
        self.get(browser, "/login")
        reply = self.post("log in", browser, "/login", [
            ("csrf_token", browser.csrf), ("email", email), ("password", PASSWORD)])
        if reply.status != 302:
            self.tally.problems.append(f"log-in of {email} answered {reply.status}")
            return None
        self.get(browser, path_of(reply.location))
        return browser

    # The mix.

    def run(self) -> None:
        try:
            kinds = [kind for kind, _weight in MIX]
            weights = [weight for _kind, weight in MIX]
            while not self.stop.is_set():
                kind = self.rng.choices(kinds, weights)[0]
                if kind == "trainee" and self.trainee_step():
                    continue  # else the pool is used up: keep the staff busy instead
                if self.trainer is None:
                    self.trainer = self.log_in(
                        self.seed.trainers[self.number % len(self.seed.trainers)])
                if kind == "enrol" and self.admin is None:
                    self.admin = self.log_in(self.seed.admin)
                if self.trainer is None or (kind == "enrol" and self.admin is None):
                    time.sleep(0.2)  # the log-in failed (counted): try again on the next turn
                elif kind == "enrol":
                    self.enrol_twice()
                else:
                    self.save_register()
        except Exception:  # a client bug must show, not silently thin the load
            self.tally.problems.append(f"{self.name} crashed:\n{traceback.format_exc()}")
        finally:
            self.pair.shutdown(wait=True)

    def trainee_step(self) -> bool:
        """The next step of the current trainee's journey; False once the pool is used up."""
        if self.journey is None or self.journey.module >= len(self.seed.modules):
            person = self.pool.take()
            if person is None:
                return False
            browser = self.log_in(person[0])
            if browser is None:
                return True
            self.journey = Journey(person[0], person[1], browser)
        journey = self.journey
        slug, module_id, allowed = self.seed.modules[journey.module]
        browser = journey.browser
        if not journey.read:
            self.get(browser, f"/modules/{slug}")
            replies = self.double_click("mark as read (pair)", browser, f"/modules/{slug}/read",
                                        [("csrf_token", browser.csrf)])
            if any(r.status == 302 for r in replies):
                self.tally.reads.append((journey.person_id, module_id))
            journey.read = True
            return True
        self.get(browser, f"/modules/{slug}/quiz")
        replies = self.double_click("start the quiz (pair)", browser, f"/modules/{slug}/quiz",
                                    [("csrf_token", browser.csrf)])
        attempts = {int(m.group(1)) for r in replies if r.status == 302
                    for m in [re.fullmatch(r"/attempts/(\d+)", path_of(r.location))] if m}
        if len(attempts) > 1:
            self.tally.duplicates.append(
                f"{journey.email} {slug}: one double click opened attempts {sorted(attempts)}")
        for attempt_id in attempts:
            self.tally.starts.append((journey.person_id, attempt_id))
        journey.rounds += 1
        if attempts:
            self.submit(journey, slug, min(attempts))
        if not attempts or journey.rounds >= allowed:
            journey.module, journey.read, journey.rounds = journey.module + 1, False, 0
        return True

    def submit(self, journey: Journey, slug: str, attempt_id: int) -> None:
        browser = journey.browser
        page = self.get(browser, f"/attempts/{attempt_id}")
        keys = list(dict.fromkeys(re.findall(r'name="q-([^"]+)"', page.body)))
        if page.status != 200 or not keys:
            return  # already submitted (shown its result) or an error, counted with the pages
        fields = [("csrf_token", browser.csrf)]
        for key in keys:
            fields += [(f"q-{key}", option) for option in self.seed.answers[slug].get(key, [])]
        reply = self.post("submit answers", browser, f"/attempts/{attempt_id}", fields)
        if reply.status == 302 and path_of(reply.location).endswith("/result"):
            self.tally.submissions.append((journey.person_id, attempt_id))
            self.get(browser, path_of(reply.location))

    def save_register(self) -> None:
        browser = self.trainer
        path = (f"/cohorts/{self.seed.register_cohort}/sessions/{self.seed.register_session}"
                "/register")
        page = self.get(browser, path)
        fields = form_fields(page.body, "register") if page.status == 200 else []
        shown = {int(name[7:]): value for name, value in fields if name.startswith("status-")}
        if not shown:
            return
        # A trainer changes a few marks; the browser sends every field as the page has it.
        changed: dict[str, str] = {}
        for pid in self.rng.sample(sorted(shown), min(len(shown), self.rng.randint(1, 4))):
            status = self.rng.choice(STATUSES)
            changed[f"status-{pid}"] = status
            changed[f"minutes-{pid}"] = (str(self.rng.randint(1, SESSION_MINUTES - 1))
                                         if status in (LATE, LEFT_EARLY) else "")
        reason = f"load {self.number}-{next(self.sequence)}"
        changed["reason"] = reason
        fields = [(name, changed.pop(name, value)) for name, value in fields]
        fields += list(changed.items())
        sent = dict(fields)
        reply = self.post("save the register", browser, path, fields)
        acknowledged = None
        if reply.status == 302:
            after = self.get(browser, path_of(reply.location))
            flash = re.search(r"Register saved: (\d+) marks? recorded or changed", after.body)
            if flash:
                acknowledged = int(flash.group(1))
            else:
                self.tally.problems.append(f"register save {reason}: no 'Register saved' message")
        marks = {pid: (sent[f"status-{pid}"], int(sent[f"minutes-{pid}"])
                       if sent.get(f"minutes-{pid}") else None) for pid in shown}
        self.tally.register_saves.append((reason, marks, acknowledged))

    def enrol_twice(self) -> None:
        form = next(self.enrol_forms)
        number = next(self.sequence)
        email = f"new-{self.number}-{number}@load.example.org"
        name = f"New Trainee {self.number} {number}"
        cohort = self.seed.enrol_cohort
        if form == 0:
            browser = self.trainer
            if not browser.csrf:
                self.get(browser, f"/cohorts/{cohort}")
            replies = self.double_click(ENROL_FORMS[0], browser, f"/cohorts/{cohort}/enrol", [
                ("one-csrf_token", browser.csrf), ("one-name", name), ("one-email", email),
                ("one-supervisor_id", "0"), ("one-enrolled_on", ""),
                ("one-backdate_reason", "")])
        elif form == 1:
            browser = self.trainer
            replies = self.double_click(
                ENROL_FORMS[1], browser, f"/cohorts/{cohort}/enrol-csv",
                [("csv-csrf_token", browser.csrf), ("csv-enrolled_on", ""),
                 ("csv-backdate_reason", "")],
                file=("csv-file", "trainees.csv", f"name,email\n{name},{email}\n".encode()))
        else:
            browser = self.admin
            if not browser.csrf:
                self.get(browser, "/admin/people/new")
            replies = self.double_click(ENROL_FORMS[2], browser, "/admin/people/new", [
                ("csrf_token", browser.csrf), ("name", name), ("email", email),
                ("roles", "trainee"), ("cohort_id", str(cohort))])
        self.tally.enrol_pairs += 1
        if any(r.status == 200 for r in replies):
            self.tally.enrolments.append(email)


# --- the checks after the run ----------------------------------------------------------------


@dataclass
class Findings:
    lost: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    broken_links: int = 0
    history_entries: int = 0
    unacknowledged_writes: int = 0
    examples: list[str] = field(default_factory=list)

    def lose(self, kind: str, example: str, count: int = 1) -> None:
        self.lost[kind] += count
        if len(self.examples) < 8:
            self.examples.append(f"{kind}: {example}")


def check(url: str, seed: Seed, tally: Tally) -> Findings:
    found = Findings()
    db = Database(url)
    with db.session() as session:
        reads = set(session.execute(select(ModuleProgress.person_id, ModuleProgress.module_id)))
        for person_module in set(tally.reads) - reads:
            found.lose("mark as read", f"person {person_module[0]}, module {person_module[1]}")
        attempts = {row.id: row for row in session.execute(
            select(Attempt.id, Attempt.person_id, Attempt.submitted_at,
                   func.count(Answer.id).label("answers"))
            .outerjoin(Answer, Answer.attempt_id == Attempt.id).group_by(Attempt.id))}
        for person_id, attempt_id in set(tally.starts):
            row = attempts.get(attempt_id)
            if row is None or row.person_id != person_id:
                found.lose("start the quiz", f"attempt {attempt_id}")
        for _person_id, attempt_id in tally.submissions:
            row = attempts.get(attempt_id)
            if row is None or row.submitted_at is None or not row.answers:
                found.lose("submit answers", f"attempt {attempt_id}")
        enrolled = set(session.scalars(select(Person.email).join(
            Enrolment, Enrolment.person_id == Person.id)
            .where(Enrolment.cohort_id == seed.enrol_cohort)))
        for email in tally.enrolments:
            if email not in enrolled:
                found.lose("enrolment", email)
        # The register: each acknowledged save's changes are in the history, as sent.
        changes = session.execute(
            select(AttendanceChange.id, AttendanceChange.record_id, AttendanceChange.old_status,
                   AttendanceChange.new_status, AttendanceChange.old_minutes,
                   AttendanceChange.new_minutes, AttendanceChange.reason,
                   AttendanceRecord.person_id)
            .join(AttendanceRecord, AttendanceRecord.id == AttendanceChange.record_id)
            .where(AttendanceRecord.session_id == seed.register_session)
            .order_by(AttendanceChange.record_id, AttendanceChange.id)).all()
        found.history_entries = len(changes)
        by_reason: dict[str, list] = defaultdict(list)
        for change in changes:
            by_reason[change.reason].append(change)
        for reason, sent, acknowledged in tally.register_saves:
            written = by_reason.get(reason, [])
            if acknowledged is None:
                found.unacknowledged_writes += len(written)
                continue
            if acknowledged > len(written):
                found.lose("register mark", f"{reason}: {acknowledged} acknowledged, "
                           f"{len(written)} in the history", acknowledged - len(written))
            for change in written:
                status, minutes = sent.get(change.person_id, (None, None))
                if change.new_status != status or (
                        minutes is not None and change.new_minutes != minutes):
                    found.lose("register mark", f"{reason}: person {change.person_id} sent "
                               f"{status}, history says {change.new_status}")
        # The chain: each change starts from the previous change's result.
        last: dict[int, object] = {}
        for change in changes:
            before = last.get(change.record_id)
            expected = (None, None) if before is None else (before.new_status,
                                                            before.new_minutes)
            if (change.old_status, change.old_minutes) != expected:
                found.broken_links += 1
            last[change.record_id] = change
        for record in session.scalars(select(AttendanceRecord).where(
                AttendanceRecord.session_id == seed.register_session)):
            final = last.get(record.id)
            if final is None or (record.status, record.minutes_credited) != (
                    final.new_status, final.new_minutes):
                found.lose("register mark", f"person {record.person_id} is marked "
                           f"{record.status}, the history ends at "
                           f"{final.new_status if final else 'nothing'}")
    db.dispose()
    return found


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(url: str, workers: int, port: int, instance: str,
                   log) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("LMS_") and k not in ("DATABASE_URL", "SECRET_KEY")}
    environment.update(LMS_DATABASE_URI=url, SECRET_KEY=secrets.token_hex(32),
                       LMS_INSTANCE_PATH=instance, LMS_MAIL_BACKEND="memory")
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
               "--bind", f"127.0.0.1:{port}", "lms:create_app()"]
    # A session of its own: a Ctrl-C reaches this script, which stops the server after the
    # clients, instead of killing the server under them.
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log,  # noqa: S603
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_up(server: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}:\n"
                             + log_path.read_text(errors="replace")[-3000:])
        if Browser(port).send("GET", "/login").status == 200:
            return
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 90 s:\n"
                     + log_path.read_text(errors="replace")[-3000:])


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def server_errors(log_text: str) -> list[tuple[int, str]]:
    """The distinct exceptions in gunicorn's log, with how many times each happened: the route,
    then each exception of the chain with the last lms line it passed through. When lms's 500
    page raises as well, gunicorn logs that request a second time (and answers it itself)."""
    counts: Counter[str] = Counter()
    blocks: list[tuple[str, list[str]]] = []
    for line in log_text.splitlines():
        marker = re.search(r"(Exception on |Error handling request )(.*)", line)
        if marker:
            blocks.append((marker.group(1), [marker.group(2)]))
        elif blocks:
            blocks[-1][1].append(line)
    for marker, lines_of_block in blocks:
        block = "\n".join(lines_of_block)
        if marker.startswith("Exception"):  # Flask: the view raised
            head = re.match(r"(?P<path>\S+) \[(?P<method>\w+)\]", block)
            label = ""
        else:  # gunicorn: the app's own 500 page raised too, so gunicorn answered instead
            head = re.match(r"(?P<method>\w+) (?P<path>\S+)", block)
            label = " answered by gunicorn: lms's 500 page raised"
        route = re.sub(r"/\d+", "/<id>", head.group("path")) if head else "?"
        route = re.sub(r"^/modules/[^/]+", "/modules/<slug>", route)
        lines = [f"{head.group('method') if head else '?'} {route}{label}"]
        for part in block.split("Traceback (most recent call last):")[1:]:
            frames = re.findall(r'File "[^"]*/(lms/[^"]+)", line (\d+), in (\w+)', part)
            raised = [line for line in part.splitlines()
                      if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", line)]
            if not raised or not frames:
                continue  # the driver's own exception: its message is repeated by SQLAlchemy's
            message = raised[0].split(" [SQL:")[0].split(" (Background on")[0]
            where = ":".join(frames[-1][:2]) + f" {frames[-1][2]}"
            line = f"{message[:150]}  (at {where})"
            if line not in lines:
                lines.append(line)
        if label:  # the view's exceptions are in Flask's entry: keep what the 500 page raised
            lines[1:-1] = []
        counts["\n         ".join(lines)] += 1
    for line in log_text.splitlines():
        if "WORKER TIMEOUT" in line:
            counts["gunicorn: WORKER TIMEOUT (a request ran past the worker's timeout)"] += 1
    return sorted(((n, what) for what, n in counts.items()), reverse=True)


# --- the report ------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share + 0.5) - 1)]


def report(args, database: str, tally: Tally, found: Findings, errors: list[tuple[int, str]],
           elapsed: float, pool: Pool, log_path: Path) -> int:
    print(f"\nlms under load: {database}, gunicorn {args.workers} workers, {args.clients} "
          f"clients, {elapsed:.0f} s ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    print(f"{'action':<28}{'requests':>9}{'5xx':>6}{'no answer':>10}  {'other 4xx':<22}"
          f"{'p50 ms':>8}{'p95 ms':>8}")
    total = fivexx = failed = 0
    for action in ACTIONS:
        samples = tally.samples.get(action, [])
        if not samples:
            continue
        statuses = Counter(status for status, _ms in samples)
        five = sum(n for status, n in statuses.items() if status >= 500)
        none = statuses.get(0, 0)
        four = ", ".join(f"{n}x{status}" for status, n in sorted(statuses.items())
                         if 400 <= status < 500)
        ms = [m for _status, m in samples]
        total, fivexx, failed = total + len(samples), fivexx + five, failed + none
        print(f"{action:<28}{len(samples):>9}{five:>6}{none:>10}  {four or '-':<22}"
              f"{statistics.median(ms):>8.0f}{percentile(ms, 0.95):>8.0f}")
    lost = sum(found.lost.values())
    print(f"{'total':<28}{total:>9}{fivexx:>6}{failed:>10}   ({total / elapsed:.0f} requests/s)")
    print(f"\nlost writes: {lost}" + (" (" + ", ".join(
        f"{kind} {n}" for kind, n in sorted(found.lost.items())) + ")" if lost else ""))
    print(f"broken history links: {found.broken_links} of {found.history_entries} attendance "
          f"changes")
    print(f"double clicks that made two of something: {len(tally.duplicates)}")
    acknowledged = sum(1 for _r, _s, n in tally.register_saves if n is not None)
    print(f"checked: {len(set(tally.reads))} modules read, {len(set(tally.starts))} attempts "
          f"started, {len(tally.submissions)} submitted, {tally.enrol_pairs} enrolment pairs "
          f"({len(tally.enrolments)} enrolled), {acknowledged} of "
          f"{len(tally.register_saves)} register saves acknowledged "
          f"({sum(n or 0 for _r, _s, n in tally.register_saves)} marks changed)")
    if found.unacknowledged_writes:
        print(f"register marks written by a save that was not acknowledged (5xx or 4xx): "
              f"{found.unacknowledged_writes}")
    if pool.exhausted:
        print("the trainee pool ran out: the last part of the run had no trainee steps")
    for line in found.examples + tally.duplicates[:5]:
        print(f"  {line}")
    if errors:
        print(f"\nserver errors in the gunicorn log ({log_path}):")
        for n, what in errors:
            print(f"  {n:>5}  {what}")
    for problem in tally.problems[:5]:
        print(f"client: {problem}")
    if len(tally.problems) > 5:
        print(f"client: ... and {len(tally.problems) - 5} more")
    bad = fivexx or failed or lost or found.broken_links or tally.duplicates or any(
        "crashed" in p for p in tally.problems)
    return 1 if bad else 0


def interrupt(_signal_number: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # Ctrl-C or a kill ends the run early: the clients stop, then the server, then the checks.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help=f"PostgreSQL: default {DEFAULT_POSTGRESQL}")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--trainees", type=int, default=0,
                        help="size of the trainee pool (default: enough for the run)")
    parser.add_argument("--log", type=Path, help="where to keep gunicorn's log")
    parser.add_argument("--random-seed", type=int, default=1)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="lms-load-")
    url = args.database_url or (DEFAULT_POSTGRESQL if args.database == "postgresql"
                                else f"sqlite:///{folder}/load.sqlite3")
    log_path = args.log or Path(tempfile.gettempdir()) / f"lms-load-{args.database}.log"
    server = None
    try:
        started = time.perf_counter()
        seed = prepare_database(url, args.trainees or int(args.clients * 3 + args.seconds * 4))
        print(f"database ready in {time.perf_counter() - started:.1f} s: {len(seed.pool)} "
              f"trainees in the pool, {len(seed.modules)} quizzes", flush=True)
        port = free_port()
        with open(log_path, "w") as log:
            server = start_gunicorn(url, args.workers, port, folder, log)
            wait_until_up(server, port, log_path)
            stop = threading.Event()
            pool = Pool(seed.pool)
            rng = random.Random(args.random_seed)
            clients = [Client(n, port, seed, pool, stop, random.Random(rng.random()))
                       for n in range(args.clients)]
            started = time.perf_counter()
            for client in clients:
                client.start()
            try:
                while time.perf_counter() - started < args.seconds:
                    time.sleep(0.2)
            except KeyboardInterrupt:
                print("interrupted: stopping the clients, then the checks", file=sys.stderr)
            stop.set()
            for client in clients:
                client.join()
            elapsed = time.perf_counter() - started
            stop_gunicorn(server)
        tally = Tally()
        for client in clients:
            for action, samples in client.tally.samples.items():
                tally.samples[action] += samples
            for name in ("reads", "starts", "submissions", "enrolments", "register_saves",
                         "duplicates", "problems"):
                getattr(tally, name).extend(getattr(client.tally, name))
            tally.enrol_pairs += client.tally.enrol_pairs
        found = check(url, seed, tally)
        errors = server_errors(log_path.read_text(errors="replace"))
        code = report(args, make_url(url).get_backend_name(), tally, found, errors, elapsed,
                      pool, log_path)
    finally:
        if server is not None:
            stop_gunicorn(server)
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        main()
