"""A synthetic national programme for benchmarks: 20,000 trainees, their training and records.

    python bench/make_dataset.py [--scale 1.0] [--seed 1] [--database-url URL]
                                 [--manifest PATH] [--now 2026-11-29T00:00:00Z]

Without --database-url it builds a SQLite file (/tmp/lms-dataset-<scale>-<seed>.sqlite3, printed);
for PostgreSQL pass postgresql+psycopg://... (its lms_ tables are dropped first; a database
named `test` is refused). The schema comes from the migrations and the shipped curricula/ and
quizzes/ are synced, as bench/load.py does; every other row is written in bulk (executemany on
SQLite, COPY on PostgreSQL), with ids computed here, one transaction per stage.

Full scale (--scale 1.0): 20,000 trainees in 1,000 cohorts, 500 supervisors, 20 trainers, one
admin; 40 sessions a cohort with marks, corrections and make-ups; about 300,000 quiz attempts
with every answer, scored as lms.services.quizzes scores them; module reads; about 100,000
check-ins and 50,000 supervision records, debriefs; agreement signatures, competency ratings,
sign-offs (deploy, defer, override, revoke) with certificates; 200,000 audit events.
Smaller scales shrink everything proportionally, except the special shapes bench/run.py needs
(cohort_50, cohort_200, the supervisor with 60 supervisees, the 200 submitters), which keep
their size; the cohort with 1,000 attempts at one quiz has 40 trainees and 100 attempts below
--scale 0.05. The regular cohorts hold 20,000 x scale trainees less those of the three special
cohorts, and at least 30, so any scale below about 0.03 builds the same 320-trainee programme
(4 cohorts at 0.002, 10 at 0.01). The manifest (--manifest, default next to the SQLite file or
bench/dataset.json) says what was built, with every lms table's row count.

Determinism: the same --seed and --now give the same rows, on either engine. --now defaults to
today's midnight UTC (the real date): every generated time is placed relative to it (sessions
before it are past and marked, later ones are the future), so builds on the same day are
identical. Every person's password is tests.factories.PASSWORD (one precomputed hash).

Sign-offs are decided from lms.services.readiness.cohort_readiness run on the rows already
written, as of --now (so the evidence each keeps is the app's own snapshot). Quizzes allow 3
attempts: the trainee has 1 at quiz_slug and each submitter none, so each can submit it 3 times
(with right answers; a failed attempt starts a day's wait). The build writes with foreign-key
checks off (SQLite; PostgreSQL for a superuser) and then proves every key in bulk.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Date, Time, create_engine, inspect, make_url, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lms import create_app  # noqa: E402
from lms.database import Base, Database  # noqa: E402
from lms.migrate import upgrade  # noqa: E402
from lms.models import (  # noqa: E402
    Agreement,
    Cohort,
    Curriculum,
    Module,
    Question,
    Quiz,
    QuizVersion,
    StandardsPolicy,
)
from lms.models._types import UTCDateTime  # noqa: E402
from lms.services import audit, readiness, standards  # noqa: E402
from lms.services.certificates import ALPHABET, CODE_LENGTH  # noqa: E402
from lms.services.content_sync import sync_folders  # noqa: E402
from lms.services.supervision import FORMATS, TOPICS  # noqa: E402
from tests.factories import PASSWORD, PASSWORD_HASH  # noqa: E402

BATCH = 10_000
DOMAIN = "bench.example.org"
ZONES = ("UTC", "Africa/Nairobi", "Europe/London", "America/New_York", "Africa/Johannesburg",
         "Asia/Kolkata")
SESSIONS_PER_COHORT = 40
PROGRAMME_DAYS = (SESSIONS_PER_COHORT // 2) * 7  # two sessions a week
# The special shapes (see the module docstring): their quizzes, by module slug.
QUIZ_20000 = "peer-support-role"  # everyone's first module: the most attempts
QUIZ_SUBMIT = "confidentiality"  # the trainee's and submitters' quiz to submit again
QUIZ_ITEM_STATS = "boundaries"  # cohort_1000_attempts' quiz
SUBMITTERS = 200
SUPERVISEES = 60

FIRST_NAMES = ("Amara", "Ben", "Chidi", "Dana", "Esi", "Femi", "Grace", "Hamid", "Ines", "Jomo",
               "Kofi", "Lena", "Musa", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sipho", "Tariq",
               "Uma", "Victor", "Wanjiru", "Xavier", "Yara", "Zain", "Aisha", "Bongani", "Carmen",
               "Dmitri", "Efua", "Farah")
LAST_NAMES = ("Okafor", "Mensah", "Kamau", "Smith", "Naidoo", "Patel", "Garcia", "Osei", "Dube",
              "Nguyen", "Haddad", "Mwangi", "Khan", "Johnson", "Adeyemi", "Moyo", "Silva",
              "Owusu", "Chen", "Banda", "Ali", "Brown", "Kariuki", "Diallo")


# --- progress on stderr ----------------------------------------------------------------------


class Progress:
    """A one-line text progress bar (tqdm is not a dependency)."""

    def __init__(self, label: str, total: int, quiet: bool = False) -> None:
        self.label, self.total, self.quiet = label, max(total, 1), quiet
        self.done, self.shown = 0, -1.0

    def step(self, n: int = 1, extra: str = "") -> None:
        self.done += n
        if self.quiet:
            return
        fraction = min(self.done / self.total, 1.0)
        if fraction - self.shown >= 0.01 or self.done >= self.total:
            self.shown = fraction
            filled = int(fraction * 20)
            sys.stderr.write(f"\r[{'#' * filled}{' ' * (20 - filled)}] {self.label} "
                             f"{self.done:,}/{self.total:,} {extra}   ")
            sys.stderr.flush()

    def close(self) -> None:
        if not self.quiet:
            sys.stderr.write("\n")


# --- bulk writers ------------------------------------------------------------------------------


def _sqlite_converter(column: Any) -> Callable[[Any], Any] | None:
    # The formats SQLAlchemy's SQLite types write, so the app reads these rows as its own.
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return lambda v: None if v is None else (
            v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
    if isinstance(kind, Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(kind, Time):
        return lambda v: None if v is None else v.strftime("%H:%M:%S.%f")
    if isinstance(kind, Boolean):
        return lambda v: None if v is None else int(v)
    return None


def orphan_checks(tables: Iterable[str]) -> list[tuple[str, str]]:
    """(description, SQL counting rows whose foreign key names no row) for every foreign key
    of ``tables``: the build writes with the checks off, then proves them in bulk."""
    checks = []
    for name in tables:
        for key in Base.metadata.tables[name].foreign_keys:
            column, target = key.parent.name, key.column
            checks.append((f"{name}.{column} -> {target.table.name}", (
                f"SELECT count(*) FROM {name} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {target.table.name} p WHERE p.{target.name} = c.{column})")))
    return checks


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                     .replace("\r", "\\r"))
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class Writer:
    """Buffers rows per table and writes them in batches; counts rows and time per table."""

    def __init__(self, columns: dict[str, tuple[str, ...]]) -> None:
        self.columns = columns
        self.buffers: dict[str, list[tuple]] = {t: [] for t in columns}
        self.counts: dict[str, int] = {t: 0 for t in columns}
        self.seconds: dict[str, float] = {t: 0.0 for t in columns}
        for table, cols in columns.items():
            known = Base.metadata.tables[table].c
            missing = [c.name for c in known if c.name not in cols and not c.nullable
                       and c.server_default is None]
            if missing or any(c not in known for c in cols):
                raise RuntimeError(f"{table}: columns {cols} miss {missing}")

    def add(self, table: str, row: tuple) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= BATCH:
            # Tables are listed parents first: write the rows this batch may refer to first
            # (PostgreSQL checks foreign keys at once).
            for name in self.columns:
                self.flush(name)
                if name == table:
                    break

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.buffers):
            rows = self.buffers[name]
            if rows:
                start = time.perf_counter()
                self._write(name, self.columns[name], rows)
                self.seconds[name] += time.perf_counter() - start
                self.counts[name] += len(rows)
                self.buffers[name] = []

    def _write(self, table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def analyze(self) -> None:
        """Refresh the planner's statistics before the app's own queries read the rows."""


class SqliteWriter(Writer):
    def __init__(self, path: str, columns: dict[str, tuple[str, ...]]) -> None:
        super().__init__(columns)
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF",
                       "cache_size=-400000", "temp_store=MEMORY"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("BEGIN")
        self.converters = {}
        for table, cols in columns.items():
            known = Base.metadata.tables[table].c
            found = [(i, _sqlite_converter(known[c])) for i, c in enumerate(cols)]
            self.converters[table] = [(i, f) for i, f in found if f is not None]

    def _write(self, table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
        converters = self.converters[table]
        if converters:
            converted = []
            for row in rows:
                values = list(row)
                for i, convert in converters:
                    values[i] = convert(values[i])
                converted.append(values)
            rows = converted
        marks = ", ".join("?" * len(cols))
        self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)  # noqa: S608

    def commit(self) -> None:
        self.flush()
        self.connection.execute("COMMIT")
        self.connection.execute("BEGIN")

    def finish(self) -> None:
        self.commit()
        self.connection.execute("COMMIT")
        self.check_keys()
        self.connection.execute("PRAGMA journal_mode=WAL")  # as lms.database opens it
        self.connection.close()

    def check_keys(self) -> None:
        for description, sql in orphan_checks(self.columns):
            orphans = self.connection.execute(sql).fetchone()[0]
            if orphans:
                raise RuntimeError(f"{orphans} rows break {description}")


class PostgresWriter(Writer):
    def __init__(self, url: str, columns: dict[str, tuple[str, ...]]) -> None:
        import psycopg

        super().__init__(columns)
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.connection = psycopg.connect(plain)
        self.connection.execute("SET synchronous_commit = off")
        # Foreign-key checks are triggers, one index probe per row: a superuser may skip
        # them for the build (the rows are made consistent here), others pay for them.
        superuser = self.connection.execute("SELECT rolsuper FROM pg_roles "
                                            "WHERE rolname = current_user").fetchone()
        self.replica = bool(superuser and superuser[0])
        if self.replica:
            self.connection.execute("SET session_replication_role = replica")

    def _write(self, table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
        out = io.StringIO()
        text_of = _copy_text
        for row in rows:
            out.write("\t".join([text_of(v) for v in row]))
            out.write("\n")
        with self.connection.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            copy.write(out.getvalue())

    def commit(self) -> None:
        self.flush()
        self.connection.commit()

    def analyze(self) -> None:
        self.commit()
        self.connection.execute("ANALYZE")
        self.connection.commit()

    def finish(self) -> None:
        self.commit()
        with self.connection.cursor() as cursor:
            # Ids were chosen here: move each sequence past them, or the app's inserts clash.
            for table in self.columns:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                               f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
        self.connection.commit()
        if self.replica:
            with self.connection.cursor() as cursor:
                for description, sql in orphan_checks(self.columns):
                    orphans = cursor.execute(sql).fetchone()[0]
                    if orphans:
                        raise RuntimeError(f"{orphans} rows break {description}")
            self.connection.commit()
        self.connection.autocommit = True
        self.connection.execute("ANALYZE")
        self.connection.close()


COLUMNS: dict[str, tuple[str, ...]] = {
    "lms_person": ("id", "email", "name", "password_hash", "active", "is_demo", "created_at",
                   "password_changed_at", "must_change_password", "stands_in"),
    "lms_person_role": ("id", "person_id", "role"),
    "lms_cohort": ("id", "name", "curriculum_id", "starts_on", "ends_on", "timezone",
                   "supervisor_id", "created_at"),
    "lms_cohort_staff": ("id", "cohort_id", "person_id", "role"),
    "lms_enrolment": ("id", "cohort_id", "person_id", "enrolled_on", "withdrawn_on",
                      "withdrawn_reason", "withdrawn_by_id", "withdrawn_at"),
    "lms_supervisor_assignment": ("id", "trainee_id", "supervisor_id", "starts_on", "ends_on",
                                  "cohort_id", "set_by_id", "set_at"),
    "lms_training_session": ("id", "cohort_id", "position", "title", "on_date", "start_time",
                             "starts_at", "duration_minutes", "venue", "online_link",
                             "facilitator_id", "activities", "is_core", "cancelled_at",
                             "cancel_reason", "created_at"),
    "lms_session_module": ("id", "session_id", "module_id"),
    "lms_session_change": ("id", "session_id", "kind", "reason", "changed_by_id", "changed_at"),
    "lms_attendance": ("id", "session_id", "person_id", "status", "minutes_credited",
                       "recorded_by_id", "recorded_at"),
    "lms_attendance_change": ("id", "record_id", "old_status", "new_status", "old_minutes",
                              "new_minutes", "changed_by_id", "changed_at", "reason"),
    "lms_make_up": ("id", "person_id", "missed_session_id", "via_session_id", "activity",
                    "minutes_credited", "recorded_by_id", "recorded_at"),
    "lms_module_progress": ("id", "person_id", "module_id", "read_at", "module_version"),
    "lms_attempt": ("id", "person_id", "quiz_id", "quiz_version_id", "question_order",
                    "started_at", "submitted_at", "score", "passed"),
    "lms_answer": ("id", "attempt_id", "question_id", "response", "mark"),
    "lms_check_in": ("id", "trainee_id", "at", "mood", "calm", "manageable", "sleep",
                     "supported", "note", "wants_to_talk"),
    "lms_supervision_record": ("id", "author_id", "held_on", "duration_minutes", "kind",
                               "format", "topics", "notes", "private_note", "created_at"),
    "lms_supervision_attendee": ("id", "record_id", "trainee_id", "reflection",
                                 "reflection_at"),
    "lms_debrief": ("id", "trainee_id", "started_by_id", "supervisor_id", "incident_type",
                    "incident_on", "what_happened", "how_now", "support_needed",
                    "identifying_kept", "created_at"),
    "lms_agreed_action": ("id", "supervision_id", "debrief_id", "description", "owner_id",
                          "due_on", "done_on", "done_by_id", "created_at"),
    "lms_agreement_signature": ("id", "person_id", "agreement_id", "typed_name", "signed_at"),
    "lms_competency_rating": ("id", "trainee_id", "curriculum_id", "competency", "rating",
                              "observed_on", "setting", "evidence", "rated_by_id", "as_admin",
                              "created_at"),
    "lms_sign_off": ("id", "trainee_id", "curriculum_id", "decision", "reasons", "plan",
                     "review_on", "override_justification", "policy_id", "evidence",
                     "signed_by_id", "as_admin", "revokes_id", "created_at"),
    "lms_certificate": ("id", "sign_off_id", "trainee_id", "code", "name", "programme",
                        "issued_on", "expires_on", "created_at"),
    "lms_audit_event": ("id", "at", "actor_id", "action", "subject_type", "subject_id",
                        "person_id", "detail"),
}


# --- the content, as synced --------------------------------------------------------------------


@dataclass
class QuestionInfo:
    id: int
    key: str
    right: str  # the correct response, as stored JSON
    wrong: list[str]  # plausible wrong responses, as stored JSON


@dataclass
class QuizInfo:
    slug: str
    module_id: int
    module_version: int
    quiz_id: int
    version_id: int
    pass_mark: int
    attempts_allowed: int
    questions: list[QuestionInfo]


@dataclass
class Content:
    curriculum_id: int
    title: str
    policy_id: int
    policy_number: int
    recertify_months: int
    competencies: list[str]
    agreements: list[int]
    quizzes: list[QuizInfo]  # in module order

    def quiz(self, slug: str) -> QuizInfo:
        return next(q for q in self.quizzes if q.slug == slug)


def _wrong_responses(question: Question) -> list[str]:
    options = [o["id"] for o in question.options]
    correct = sorted(question.correct)
    wrong: list[list[str]] = []
    if question.type == "multiple":
        if len(correct) > 1:
            wrong += [[c for c in correct if c != drop] for drop in correct]
        others = [o for o in options if o not in correct]
        wrong += [sorted(correct + [o]) for o in others]
        wrong += [[o] for o in others]
    else:
        wrong = [[o] for o in options if o not in correct]
    return [json.dumps(w) for w in wrong] or [json.dumps([])]


def load_content(session: Any) -> Content:
    curriculum = session.scalar(select(Curriculum).order_by(Curriculum.id))
    policy = session.scalar(select(StandardsPolicy).where(
        StandardsPolicy.curriculum_id == curriculum.id, StandardsPolicy.current.is_(True)))
    rules = standards.Policy.from_rules(policy.rules)
    agreements = list(session.scalars(select(Agreement.id).where(
        Agreement.curriculum_id == curriculum.id, Agreement.current.is_(True))
        .order_by(Agreement.key)))
    quizzes = []
    for module in session.scalars(select(Module).where(
            Module.curriculum_id == curriculum.id, Module.retired.is_(False))
            .order_by(Module.position)):
        quiz = session.scalar(select(Quiz).where(Quiz.module_id == module.id))
        if quiz is None or quiz.current_version_id is None:
            continue
        version = session.get(QuizVersion, quiz.current_version_id)
        questions = [QuestionInfo(q.id, q.key, json.dumps(sorted(q.correct)), _wrong_responses(q))
                     for q in version.questions]
        quizzes.append(QuizInfo(module.slug, module.id, module.version, quiz.id, version.id,
                                version.pass_mark, version.attempts_allowed, questions))
    return Content(curriculum.id, curriculum.title, policy.id, policy.number,
                   int(rules.recertify_after_months or 0),
                   [c.key for c in rules.competencies], agreements, quizzes)


# --- the programme's shape ---------------------------------------------------------------------


@dataclass
class CohortPlan:
    id: int
    name: str
    starts_on: date
    zone: str
    trainers: list[int]
    supervisor: int
    trainees: list[int] = field(default_factory=list)
    sessions: list[tuple] = field(default_factory=list)  # (id, starts_at, minutes, core, cancelled)
    marks_all: bool = False  # every past session marked (cohort_200)

    @property
    def ends_on(self) -> date:
        return self.starts_on + timedelta(days=PROGRAMME_DAYS)


@dataclass
class TraineePlan:
    id: int
    name: str
    email: str
    cohort: CohortPlan
    enrolled_on: date
    withdrawn_on: date | None = None
    supervisor: int = 0
    ability: float = 0.75
    diligence: float = 1.0
    forced_attempts: dict[str, int] = field(default_factory=dict)  # quiz slug -> finished count
    no_open: bool = False


def _sizes(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` split into ``parts`` varied sizes, each at least 1."""
    weights = [rng.uniform(0.3, 1.7) for _ in range(parts)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    i = 0
    while sum(sizes) < total:
        sizes[i % parts] += 1
        i += 1
    while sum(sizes) > total:
        if sizes[i % parts] > 1:
            sizes[i % parts] -= 1
        i += 1
    return sizes


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


class Builder:
    def __init__(self, writer: Writer, content: Content, database_url: str, scale: float,
                 seed: int, now: datetime, quiet: bool = False) -> None:
        self.w, self.content, self.scale, self.now = writer, content, scale, now
        self.database_url = database_url
        self.today = now.date()
        self.rng = random.Random(seed)
        self.quiet = quiet
        self.ids: dict[str, int] = {t: 0 for t in COLUMNS}
        # (at, actor, action, subject_type, subject_id, person, detail), sorted by time at the end
        self.audit_rows: list[tuple] = []
        self.phase_seconds: dict[str, float] = {}
        self.manifest: dict[str, Any] = {}

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def phase(self, name: str, work: Callable[[], None]) -> None:
        start = time.perf_counter()
        work()
        self.w.commit()
        self.phase_seconds[name] = time.perf_counter() - start
        if not self.quiet:
            print(f"{name}: {self.phase_seconds[name]:.1f} s", file=sys.stderr)

    def audit(self, at: datetime, actor: int | None, action: str, subject_type: str,
              subject_id: int | None, person: int | None, detail: dict | None = None) -> None:
        self.audit_rows.append((at, actor, action, subject_type, subject_id, person,
                                json.dumps(detail) if detail is not None else None))

    # -- people, cohorts, enrolments, supervisors --------------------------------------------

    def people(self) -> None:
        rng, scale, today = self.rng, self.scale, self.today
        n_trainers = max(2, round(20 * scale))
        n_supervisors = max(3, round(500 * scale))
        big = 400 if scale >= 0.05 else 40
        special = 50 + 200 + big
        n_regular = max(round(20000 * scale) - special, 30)
        n_cohorts = max(round(1000 * scale) - 3, 1)
        self.big = big

        created = self.now - timedelta(days=700)

        def person(email: str, name: str, roles: Sequence[str]) -> int:
            pid = self.next_id("lms_person")
            self.w.add("lms_person", (pid, email, name, PASSWORD_HASH, True, False, created,
                                      created, False, False))
            for role in roles:
                self.w.add("lms_person_role", (self.next_id("lms_person_role"), pid, role))
            return pid

        def name_of(n: int) -> str:
            return f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n // 7) % len(LAST_NAMES)]}"

        self.admin = person(f"admin@{DOMAIN}", "Programme Admin", ["admin"])
        self.trainers = [person(f"trainer{n}@{DOMAIN}", f"Trainer {name_of(n)}", ["trainer"])
                         for n in range(1, n_trainers + 1)]
        self.supervisors = [person(f"supervisor{n}@{DOMAIN}", f"{name_of(n + 3)} (supervisor)",
                                   ["supervisor"]) for n in range(1, n_supervisors + 1)]
        self.emails = {self.admin: f"admin@{DOMAIN}", self.trainers[0]: f"trainer1@{DOMAIN}",
                       self.supervisors[0]: f"supervisor1@{DOMAIN}"}
        lead, special_supervisor = self.trainers[0], self.supervisors[0]

        # Cohorts: 1 = cohort_50 (well under way), 2 = cohort_200 (finished, every register
        # taken), 3 = the item-statistics cohort, then the regular ones.
        cohorts: list[CohortPlan] = []

        def cohort(name: str, starts_on: date, trainers: list[int], supervisor: int,
                   marks_all: bool = False) -> CohortPlan:
            plan = CohortPlan(len(cohorts) + 1, name, starts_on, rng.choice(ZONES), trainers,
                              supervisor, marks_all=marks_all)
            cohorts.append(plan)
            return plan

        others = self.supervisors[1:]
        c50 = cohort("Cohort 50 (benchmark)", today - timedelta(days=110), [lead],
                     special_supervisor)
        c200 = cohort("Cohort 200 (benchmark)", today - timedelta(days=PROGRAMME_DAYS + 60),
                      [lead], others[0], marks_all=True)
        c_big = cohort("Item statistics cohort (benchmark)",
                       today - timedelta(days=PROGRAMME_DAYS + 30), [lead],
                       others[1 % len(others)])
        sizes = _sizes(n_regular, n_cohorts, rng)
        for n in range(n_cohorts):
            if n == 0:  # the manifest's trainee: a cohort two thirds through
                starts = today - timedelta(days=100)
            elif rng.random() < 0.05:  # just started or starting soon
                starts = today - timedelta(days=rng.randint(-30, 40))
            else:
                # Up to 18 months ago, so quiz passes are still fresh (24 months).
                starts = today - timedelta(days=rng.randint(PROGRAMME_DAYS - 20, 540))
            trainers = [self.trainers[n % n_trainers]]
            if rng.random() < 0.2:
                second = self.trainers[(n + 1 + rng.randrange(n_trainers - 1)) % n_trainers]
                if second not in trainers:
                    trainers.append(second)
            region = ("North", "South", "East", "West", "Central")[n % 5]
            cohort(f"{region} {starts:%Y-%m} cohort {n + 1}", starts, trainers,
                   others[(n + 2) % len(others)])
        self.cohorts = cohorts
        regular = cohorts[3:]

        trainees: list[TraineePlan] = []
        number = 0

        def enrol(plan: CohortPlan, count: int) -> None:
            nonlocal number
            for _ in range(count):
                number += 1
                email = f"trainee{number:05d}@{DOMAIN}"
                pid = person(email, name_of(number + 11) + f" {number}", ["trainee"])
                enrolled = plan.starts_on - timedelta(days=rng.randint(1, 14))
                if plan.id > 3 and rng.random() < 0.04:
                    enrolled = plan.starts_on + timedelta(days=rng.randint(3, 40))
                t = TraineePlan(pid, name_of(number + 11) + f" {number}", email, plan, enrolled,
                                supervisor=plan.supervisor, ability=rng.uniform(0.72, 0.99),
                                diligence=rng.uniform(0.8, 1.3))
                plan.trainees.append(pid)
                trainees.append(t)

        enrol(c50, 50)
        enrol(c200, 200)
        enrol(c_big, big)
        for plan, size in zip(regular, sizes, strict=True):
            enrol(plan, size)
        self.trainees = trainees
        by_id = {t.id: t for t in trainees}

        # The manifest's trainee, the submitters and the extra supervisees of supervisor 1.
        the_trainee = by_id[regular[0].trainees[0]]
        the_trainee.forced_attempts[QUIZ_SUBMIT] = 1
        the_trainee.no_open = True
        the_trainee.diligence = 1.2
        # Ordinary trainees of cohorts under way (enrolled a month ago at least).
        settled = today - timedelta(days=30)
        pool = [t for t in trainees if t.cohort.id > 3 and t is not the_trainee
                and t.enrolled_on <= settled and t.cohort.starts_on <= settled]
        extra = pool[-10:]  # ten trainees of other cohorts, moved to supervisor 1
        pool = pool[:-10]
        extra_ids = {t.id for t in extra}
        submitters = pool[:SUBMITTERS]
        if len(submitters) < SUBMITTERS:
            submitters += [by_id[i] for i in c200.trainees[:SUBMITTERS - len(submitters)]]
        for t in submitters:
            t.forced_attempts[QUIZ_SUBMIT] = 0
            t.no_open = True
        # cohort_1000_attempts: 1,000 finished attempts at one quiz (3 each for half, 2 for
        # the rest; the quiz allows 3).
        for i, pid in enumerate(c_big.trainees):
            by_id[pid].forced_attempts[QUIZ_ITEM_STATS] = 3 if i < big // 2 else 2
            by_id[pid].diligence = max(by_id[pid].diligence, 1.0)

        # Withdrawals (records kept), never among the special shapes.
        keep = {the_trainee.id, *(t.id for t in submitters), *extra_ids}
        for t in trainees:
            if t.cohort.id > 3 and t.id not in keep and rng.random() < 0.03:
                last = min(t.cohort.ends_on, today - timedelta(days=1))
                if last > t.enrolled_on + timedelta(days=7):
                    t.withdrawn_on = t.enrolled_on + timedelta(
                        days=rng.randint(7, (last - t.enrolled_on).days))

        for plan in cohorts:
            self.w.add("lms_cohort", (plan.id, plan.name, self.content.curriculum_id,
                                      plan.starts_on, plan.ends_on, plan.zone, plan.supervisor,
                                      _at(plan.starts_on - timedelta(days=30), 9)))
            for trainer in plan.trainers:
                self.w.add("lms_cohort_staff", (self.next_id("lms_cohort_staff"), plan.id,
                                                trainer, "trainer"))
            self.w.add("lms_cohort_staff", (self.next_id("lms_cohort_staff"), plan.id,
                                            plan.supervisor, "supervisor"))
        self.ids["lms_cohort"] = len(cohorts)
        for t in trainees:
            trainer = t.cohort.trainers[0]
            withdrawn = (t.withdrawn_on, "Moved away from the area" if t.withdrawn_on else None,
                         trainer if t.withdrawn_on else None,
                         _at(t.withdrawn_on, 15) if t.withdrawn_on else None)
            self.w.add("lms_enrolment", (self.next_id("lms_enrolment"), t.cohort.id, t.id,
                                         t.enrolled_on, *withdrawn))
            # Supervision spans: the cohort's default; some changed once (history kept).
            start = t.enrolled_on
            if t.id in extra_ids or (t.cohort.id > 3 and t.id not in keep
                                     and rng.random() < 0.08
                                     and start < today - timedelta(days=20)):
                if t.id in extra_ids:
                    new = special_supervisor
                else:
                    new = others[rng.randrange(len(others))]
                    if new == t.supervisor:
                        new = others[(others.index(new) + 1) % len(others)]
                change = min(today - timedelta(days=rng.randint(5, 60)),
                             max(start + timedelta(days=10), today - timedelta(days=200)))
                change = max(change, start + timedelta(days=1))
                self.w.add("lms_supervisor_assignment", (
                    self.next_id("lms_supervisor_assignment"), t.id, t.supervisor, start, change,
                    t.cohort.id, trainer, _at(start, 9)))
                self.audit(_at(change, 10), trainer, audit.SUPERVISOR_CHANGE, "person", t.id,
                           t.id, {"from": t.supervisor, "to": new})
                t.supervisor, start, cohort_id = new, change, None
            else:
                cohort_id = t.cohort.id
            self.w.add("lms_supervisor_assignment", (
                self.next_id("lms_supervisor_assignment"), t.id, t.supervisor, start, None,
                cohort_id, trainer, _at(start, 9)))

        self.the_trainee, self.submitters = the_trainee, submitters
        self.c50, self.c200, self.c_big = c50, c200, c_big
        # Current on --now's day, as lms.services.supervisors counts them.
        supervisees = sum(1 for t in trainees if t.supervisor == special_supervisor
                          and t.enrolled_on <= today)
        self.manifest.update({
            "admin": {"email": f"admin@{DOMAIN}"},
            "trainer": {"email": f"trainer1@{DOMAIN}"},
            "trainee": {"email": the_trainee.email, "id": the_trainee.id,
                        "cohort_id": the_trainee.cohort.id, "module_slug": QUIZ_SUBMIT,
                        "quiz_slug": QUIZ_SUBMIT},
            "submitters": [t.email for t in submitters],
            "cohort_50": {"id": c50.id, "trainees": len(c50.trainees)},
            "cohort_200": {"id": c200.id, "trainees": len(c200.trainees),
                           "sessions": SESSIONS_PER_COHORT},
            "supervisor": {"email": f"supervisor1@{DOMAIN}", "supervisees": supervisees},
        })
        if supervisees != SUPERVISEES:
            raise RuntimeError(f"supervisor 1 has {supervisees} supervisees")

    # -- agenda and attendance ---------------------------------------------------------------

    def agenda(self) -> None:
        rng, now = self.rng, self.now
        modules = [q.module_id for q in self.content.quizzes]
        titles = ("Welcome and the peer role", "Confidentiality in practice", "Boundaries",
                  "Listening skills", "Recognising risk", "Looking after yourself")
        venues = ("Community hall, room 2", "Health centre training room", "Online", "Library")
        by_id = {t.id: t for t in self.trainees}
        bar = Progress("sessions and registers", len(self.cohorts), self.quiet)
        for plan in self.cohorts:
            zone = ZoneInfo(plan.zone)
            trainer = plan.trainers[0]
            for i in range(SESSIONS_PER_COHORT):
                sid = self.next_id("lms_training_session")
                on = plan.starts_on + timedelta(days=(i // 2) * 7 + (i % 2) * 2)
                start = clock(9, 30) if i % 2 == 0 else clock(14, 0)
                starts_at = datetime.combine(on, start, zone).astimezone(UTC)
                minutes = (120, 120, 90, 180)[i % 4]
                core = i % 4 == 0
                topic = min(i * len(titles) // SESSIONS_PER_COHORT, len(titles) - 1)
                cancelled = None
                if not plan.marks_all and rng.random() < 0.02:
                    cancelled = starts_at - timedelta(days=rng.randint(1, 10))
                    if cancelled > now:
                        cancelled = now - timedelta(hours=1)
                online = venues[i % 4] == "Online"
                self.w.add("lms_training_session", (
                    sid, plan.id, i + 1, f"{titles[topic]} ({i + 1})", on, start, starts_at,
                    minutes, venues[i % 4], "https://meet.example.org/peer" if online else "",
                    trainer, json.dumps(["teaching", "role-play"] if i % 3 else ["group work"]),
                    core, cancelled, "Trainer ill" if cancelled else "",
                    _at(plan.starts_on - timedelta(days=20), 10)))
                if topic < len(modules):
                    self.w.add("lms_session_module", (self.next_id("lms_session_module"), sid,
                                                      modules[topic]))
                if cancelled:
                    self.w.add("lms_session_change", (self.next_id("lms_session_change"), sid,
                                                      "cancelled", "Trainer ill", trainer,
                                                      cancelled))
                plan.sessions.append((sid, starts_at, minutes, core, cancelled is not None))
                ends = starts_at + timedelta(minutes=minutes)
                if cancelled or ends > now:
                    continue
                if not plan.marks_all and rng.random() < 0.015:
                    continue  # a past register nobody has taken yet
                recorded = min(ends + timedelta(hours=rng.randint(1, 40)), now)
                for pid in plan.trainees:
                    t = by_id[pid]
                    if on < t.enrolled_on or (t.withdrawn_on and on > t.withdrawn_on):
                        continue
                    self._mark(t, sid, on, minutes, core, trainer, recorded)
            bar.step(extra=f"({self.ids['lms_attendance']:,} marks)")
        bar.close()

    def _mark(self, t: TraineePlan, sid: int, on: date, minutes: int, core: bool, trainer: int,
              recorded: datetime) -> None:
        rng = self.rng
        roll = rng.random() * (0.6 + t.diligence * 0.4)
        if roll > 0.3:
            status, credited = "present", minutes
        elif roll > 0.22:
            status, credited = "late", minutes - rng.choice((10, 15, 20, 30, 45))
        elif roll > 0.16:
            status, credited = "left_early", minutes - rng.choice((15, 30, 45, 60))
        elif roll > 0.09:
            status, credited = "absent", 0
        else:
            status, credited = "excused", 0
        rid = self.next_id("lms_attendance")
        final_status, final_minutes, final_at = status, credited, recorded
        correction = rng.random() < 0.02
        if correction:
            final_status, final_minutes = ("present", minutes) if status != "present" \
                else ("late", minutes - 20)
            final_at = min(recorded + timedelta(days=rng.randint(1, 6)), self.now)
        self.w.add("lms_attendance", (rid, sid, t.id, final_status, final_minutes, trainer,
                                      final_at))
        self.w.add("lms_attendance_change", (self.next_id("lms_attendance_change"), rid, None,
                                             status, None, credited, trainer, recorded, ""))
        if correction:
            self.w.add("lms_attendance_change", (
                self.next_id("lms_attendance_change"), rid, status, final_status, credited,
                final_minutes, trainer, final_at, "Checked against the sign-in sheet"))
            self.audit(final_at, trainer, audit.ATTENDANCE_CORRECTION, "attendance_record", rid,
                       t.id, {"session_id": sid, "from": status, "to": final_status,
                              "from_minutes": credited, "to_minutes": final_minutes})
        if core and final_status in ("absent", "excused") and rng.random() < 0.9:
            self.w.add("lms_make_up", (
                self.next_id("lms_make_up"), t.id, sid, None,
                "Watched the recording and talked it through with the trainer", minutes,
                trainer, min(final_at + timedelta(days=rng.randint(3, 20)), self.now)))

    # -- learning: reads, attempts, answers ----------------------------------------------------

    def learning(self) -> None:
        rng, now = self.rng, self.now
        quizzes = self.content.quizzes
        bar = Progress("reads, attempts and answers", len(self.trainees), self.quiet)
        for t in self.trainees:
            plan = t.cohort
            begin = _at(max(t.enrolled_on, plan.starts_on), 18)
            if begin >= now:
                bar.step()
                continue
            end = now if not t.withdrawn_on else _at(t.withdrawn_on, 12)
            elapsed = min(max((now - _at(plan.starts_on, 0)).days / PROGRAMME_DAYS, 0), 1)
            reads = min(len(quizzes), int(len(quizzes) * elapsed * t.diligence + rng.random()))
            for slug in t.forced_attempts:
                if t.forced_attempts[slug]:
                    position = next(i for i, q in enumerate(quizzes) if q.slug == slug)
                    reads = max(reads, position + 1)
            span = max((end - begin).total_seconds(), 3600)
            open_done = t.no_open

            def slug_free(slug: str, t: TraineePlan = t) -> bool:
                return slug not in t.forced_attempts
            for index, quiz in enumerate(quizzes[:reads]):
                read_at = begin + timedelta(seconds=span * (index + rng.random()) / (reads + 1))
                self.w.add("lms_module_progress", (self.next_id("lms_module_progress"), t.id,
                                                   quiz.module_id, read_at, quiz.module_version))
                count = t.forced_attempts.get(quiz.slug)
                if count is None:
                    roll = rng.random()
                    count = 3 if roll < 0.7 else 2 if roll < 0.92 else 1
                    if quiz.attempts_allowed:
                        count = min(count, quiz.attempts_allowed)
                at = read_at + timedelta(hours=rng.randint(1, 30))
                made, passed = 0, False
                allowed = quiz.attempts_allowed or 99
                while made < count:
                    if at + timedelta(minutes=30) > end:
                        break
                    passed = self._attempt(t, quiz, at, made) or passed
                    made += 1
                    at += timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 600))
                    if made == count and not passed and count < allowed \
                            and slug_free(quiz.slug) and rng.random() < 0.8:
                        count += 1  # failed every planned try: most try again
                if t.forced_attempts.get(quiz.slug) and made < count:
                    raise RuntimeError(f"trainee {t.id}: {made} of {count} attempts fit")
                if not open_done and made < allowed and rng.random() < 0.015 \
                        and quiz.slug not in t.forced_attempts:
                    # An attempt left open (started, never submitted).
                    order = [q.key for q in quiz.questions]
                    rng.shuffle(order)
                    self.w.add("lms_attempt", (
                        self.next_id("lms_attempt"), t.id, quiz.quiz_id, quiz.version_id,
                        json.dumps(order), min(at, now - timedelta(hours=1)), None, None, None))
                    open_done = True
            bar.step(extra=f"({self.ids['lms_attempt']:,} attempts, "
                               f"{self.ids['lms_answer']:,} answers)")
        bar.close()

    def _attempt(self, t: TraineePlan, quiz: QuizInfo, at: datetime, n: int) -> bool:
        """Write one submitted attempt with its answers; whether it passed."""
        rng = self.rng
        aid = self.next_id("lms_attempt")
        chance = min(t.ability + 0.08 * n, 0.99)
        order = [q.key for q in quiz.questions]
        rng.shuffle(order)
        answers = [(q.id, q.right, 1.0) if rng.random() < chance
                   else (q.id, rng.choice(q.wrong), 0.0) for q in quiz.questions]
        right = sum(1 for a in answers if a[2])
        # As lms.services.quizzes.submit_attempt scores: percent of questions right.
        score = round(100.0 * right / len(quiz.questions), 2) if quiz.questions else 0.0
        submitted = at + timedelta(minutes=rng.randint(4, 25))
        add = self.w.add
        passed = score >= quiz.pass_mark
        add("lms_attempt", (aid, t.id, quiz.quiz_id, quiz.version_id, json.dumps(order), at,
                            submitted, score, passed))
        for question_id, response, mark in answers:
            add("lms_answer", (self.next_id("lms_answer"), aid, question_id, response, mark))
        return passed

    # -- wellbeing: check-ins, supervision, debriefs -----------------------------------------

    def wellbeing(self) -> None:
        rng, now, today = self.rng, self.now, self.today
        notes = ("Busy week but coping.", "Hard conversation with a client on Tuesday.",
                 "Sleeping badly.", "Feeling more confident after the role-play.",
                 "Worried about a client who stopped answering.", "")
        special = self.supervisors[0]
        self.check_ins: dict[int, list[int]] = {}
        bar = Progress("check-ins", len(self.trainees), self.quiet)
        for t in self.trainees:
            first = max(t.enrolled_on, t.cohort.starts_on)
            if first >= today:
                bar.step()
                continue
            last = today if not t.withdrawn_on else t.withdrawn_on
            weeks = max((last - first).days // 7, 0)
            count = min(weeks, int(rng.uniform(0, 12) * t.diligence))
            if t.supervisor == special or t is self.the_trainee:
                count = min(max(weeks, 1), 12)
            level = rng.uniform(2.4, 4.6)
            ids = []
            for k in range(count, 0, -1):
                at = _at(last, 8) - timedelta(days=7 * k - rng.randint(1, 5),
                                              hours=rng.randint(0, 8))
                if at >= now or at.date() < first:
                    continue
                drift = level - (0.15 * (count - k) if level < 3 else 0)

                def item(drift: float = drift) -> int:
                    return max(1, min(5, round(drift + rng.gauss(0, 0.7))))

                cid = self.next_id("lms_check_in")
                ids.append(cid)
                self.w.add("lms_check_in", (cid, t.id, at, item(), item(), item(), item(),
                                            item(), rng.choice(notes) if rng.random() < 0.3
                                            else "", rng.random() < 0.03))
            self.check_ins[t.id] = ids
            bar.step()
        bar.close()

        # Supervision: roughly monthly per supervisee, some group sessions.
        by_supervisor: dict[int, list[TraineePlan]] = {}
        for t in self.trainees:
            by_supervisor.setdefault(t.supervisor, []).append(t)
        topics = list(TOPICS)
        formats = list(FORMATS)
        bar = Progress("supervision records", len(by_supervisor), self.quiet)
        self.supervised: dict[int, int] = {}
        for supervisor in sorted(by_supervisor):
            group = by_supervisor[supervisor]
            for t in group:
                first = max(t.enrolled_on, t.cohort.starts_on)
                last = min(today, t.withdrawn_on or today)
                if first >= last:
                    continue
                count = min(max((last - first).days // 30, 1), int(rng.uniform(1.6, 5.2)))
                if t is self.the_trainee or supervisor == special:
                    count = max(count, 2)
                for k in range(count):
                    held = last - timedelta(days=30 * k + rng.randint(1, 20))
                    if held < first:
                        break
                    attendees = [t]
                    if rng.random() < 0.1 and len(group) > 3:
                        attendees += [o for o in rng.sample(group, 3) if o is not t][:2]
                    self._supervision(supervisor, attendees, held, topics, formats)
            bar.step()
        bar.close()

        # Debriefs after critical incidents: a few per hundred trainees.
        kinds = ("risk_of_harm", "safeguarding", "death", "aggression", "other")
        for t in self.trainees:
            if rng.random() >= 0.02 and t is not self.the_trainee:
                continue
            first = max(t.enrolled_on, t.cohort.starts_on)
            if first >= today - timedelta(days=3):
                continue
            on = first + timedelta(days=rng.randint(0, min((today - first).days - 2, 300)))
            by_trainee = rng.random() < 0.6
            did = self.next_id("lms_debrief")
            created = _at(on + timedelta(days=1), 11)
            self.w.add("lms_debrief", (
                did, t.id, t.id if by_trainee else t.supervisor, t.supervisor, rng.choice(kinds),
                on, "A client said they had thought about ending their life. I stayed calm, "
                "asked directly and called my supervisor.", "Shaken but OK.",
                "A call this week, please.", "[]", created))
            self.w.add("lms_agreed_action", (
                self.next_id("lms_agreed_action"), None, did, "Check in by phone in two days",
                t.supervisor, on + timedelta(days=3),
                on + timedelta(days=3) if rng.random() < 0.7 else None,
                t.supervisor, created))
            self.audit(created + timedelta(hours=3), t.supervisor if by_trainee else t.id,
                       audit.READ, audit.DEBRIEF, did, t.id)

    def _supervision(self, supervisor: int, attendees: list[TraineePlan], held: date,
                     topics: list[str], formats: list[str]) -> None:
        rng = self.rng
        rid = self.next_id("lms_supervision_record")
        created = _at(held, 17)
        chosen = sorted(rng.sample(topics, rng.randint(1, 3)), key=topics.index)
        self.w.add("lms_supervision_record", (
            rid, supervisor, held, rng.choice((30, 45, 60, 60, 90)),
            "group" if len(attendees) > 1 else "individual", rng.choice(formats),
            json.dumps(chosen), "Talked through the week's contacts and what went well.",
            "Keep an eye on workload." if rng.random() < 0.2 else "", created))
        for t in attendees:
            reflected = rng.random() < 0.4
            self.w.add("lms_supervision_attendee", (
                self.next_id("lms_supervision_attendee"), rid, t.id,
                "Useful: I will try the summary technique." if reflected else None,
                created + timedelta(days=1) if reflected else None))
            self.supervised[t.id] = self.supervised.get(t.id, 0) + 1
        if rng.random() < 0.3:
            owner = attendees[0].id
            self.w.add("lms_agreed_action", (
                self.next_id("lms_agreed_action"), rid, None, "Read the module on boundaries "
                "again before the next session", owner, held + timedelta(days=14),
                held + timedelta(days=10) if rng.random() < 0.6 else None,
                owner, created))

    # -- readiness: agreements, ratings, sign-offs, certificates ------------------------------

    def ratings(self) -> None:
        """Agreement signatures, and competency ratings by the supervisor once a cohort is
        well under way."""
        rng, today, content = self.rng, self.today, self.content
        for t in self.trainees:
            plan = t.cohort
            first = max(t.enrolled_on, plan.starts_on)
            if first >= today:
                continue
            elapsed = min((today - plan.starts_on).days / PROGRAMME_DAYS, 1)
            if rng.random() < 0.96 or t is self.the_trainee:
                for agreement_id in content.agreements:
                    self.w.add("lms_agreement_signature", (
                        self.next_id("lms_agreement_signature"), t.id, agreement_id, t.name,
                        _at(first, 19) + timedelta(days=rng.randint(0, 10))))
            if elapsed < 0.6 or t.withdrawn_on:
                continue
            for key in content.competencies:
                observed = min(first + timedelta(days=rng.randint(40, PROGRAMME_DAYS)),
                               today - timedelta(days=1))
                steps = ["developing", "competent"] if rng.random() < 0.3 else ["competent"]
                if rng.random() < 0.02:
                    steps = ["not_yet"]
                for rating in steps:
                    rid = self.next_id("lms_competency_rating")
                    at = _at(observed, 16)
                    self.w.add("lms_competency_rating", (
                        rid, t.id, content.curriculum_id, key, rating, observed,
                        rng.choice(("role_play", "observed_session", "shadowing")),
                        "Used open questions and summarised well.", t.supervisor, False, at))
                    self.audit(at, t.supervisor, audit.RATING, "competency_rating", rid, t.id,
                               {"competency": key, "rating": rating, "as_admin": False})
                    observed = min(observed + timedelta(days=14), today - timedelta(days=1))

    def sign_offs(self) -> None:
        """Decisions for the trainees of finished cohorts, judged by the app's own readiness
        service on the rows written so far (as of --now, the evidence a sign-off keeps): a
        ready trainee is mostly deployed, one who is not mostly deferred, a few deployed with
        an override; a few deployments revoked. Each deployment has its certificate."""
        rng, today = self.rng, self.today
        by_id = {t.id: t for t in self.trainees}
        codes: set[str] = set()
        self.certificate_code: str | None = None
        finished = [c for c in self.cohorts if c.ends_on + timedelta(days=3) < today]
        self.w.analyze()  # PostgreSQL plans the readiness queries on empty statistics else
        bar = Progress("sign-offs (readiness per cohort)", len(finished), self.quiet)
        # A plain engine: lms.database's would switch a SQLite file to WAL under the writer.
        engine = create_engine(self.database_url)
        with Session(engine) as session:
            for plan in finished:
                cohort = session.get(Cohort, plan.id)
                for found in readiness.cohort_readiness(session, cohort, today=today,
                                                        now=self.now):
                    t = by_id[found.person.id]
                    if found.withdrawn:
                        continue
                    signed = _at(min(plan.ends_on + timedelta(days=rng.randint(3, 40)),
                                     today - timedelta(days=1)), 15)
                    roll = rng.random()
                    if found.ready and roll < 0.85:
                        self._sign_off(t, "deploy", signed, found, codes)
                    elif not found.ready and roll < 0.03:
                        self._sign_off(t, "deploy", signed, found, codes)  # an override
                    elif not found.ready and roll < 0.4:
                        self._sign_off(t, "defer", signed, found, codes)
                bar.step()
            if self.certificate_code is None:  # tiny scales: make sure there is one
                plan = self.c200
                found = readiness.cohort_readiness(session, session.get(Cohort, plan.id),
                                                   today=today, now=self.now)[0]
                self._sign_off(by_id[found.person.id], "deploy",
                               _at(today - timedelta(days=2), 15), found, codes)
        engine.dispose()
        bar.close()
        self.manifest["certificate"] = {"verify_path": f"/verify/{self.certificate_code}"}

    def _sign_off(self, t: TraineePlan, decision: str, at: datetime, found: Any,
                  codes: set[str]) -> None:
        rng, content = self.rng, self.content
        judge = t.supervisor
        sid = self.next_id("lms_sign_off")
        override = decision == "deploy" and not found.ready
        defer = decision == "defer"
        # The sentences a supervisor would write (as lms.services.sign_offs requires them).
        self.w.add("lms_sign_off", (
            sid, t.id, content.curriculum_id, decision,
            "Needs more supervised practice with risk conversations." if defer else "",
            "Two more observed sessions, then review." if defer else "",
            (at + timedelta(days=60)).date() if defer else None,
            "Observed by two supervisors; the missing record is being completed."
            if override else None,
            content.policy_id, json.dumps(found.snapshot()), judge, False, None, at))
        self.audit(at, judge, audit.SIGN_OFF, "sign_off", sid, t.id,
                   {"decision": decision, "as_admin": False, "override": override,
                    "policy_number": content.policy_number})
        if defer:
            return
        if override:
            self.audit(at, judge, audit.OVERRIDE, "sign_off", sid, t.id,
                       {"unmet": [c.key for c in found.criteria if not c.met]})
        code = "".join(rng.choice(ALPHABET) for _ in range(CODE_LENGTH))
        while code in codes:
            code = "".join(rng.choice(ALPHABET) for _ in range(CODE_LENGTH))
        codes.add(code)
        cid = self.next_id("lms_certificate")
        issued = at.date()
        expires = (standards.add_months(issued, content.recertify_months)
                   if content.recertify_months else None)
        self.w.add("lms_certificate", (cid, sid, t.id, code, t.name, content.title, issued,
                                       expires, at))
        self.audit(at, judge, audit.CERTIFICATE, "certificate", cid, t.id)
        if rng.random() < 0.02 and at.date() < self.today - timedelta(days=2):
            revoked = at + timedelta(days=1)
            rid = self.next_id("lms_sign_off")
            self.w.add("lms_sign_off", (
                rid, t.id, content.curriculum_id, "revoke", "Concerns raised about practice.",
                "", None, None, content.policy_id, "{}", judge, False, sid, revoked))
            self.audit(revoked, judge, audit.REVOCATION, "sign_off", rid, t.id,
                       {"revokes": sid, "as_admin": False})
        elif self.certificate_code is None:
            self.certificate_code = code

    # -- the audit log ----------------------------------------------------------------------

    def audit_log(self) -> None:
        rng, now = self.rng, self.now
        target = max(round(200_000 * self.scale), len(self.audit_rows) + 100)
        # Reads of check-in notes by supervisors fill the log up to its size, with CSV
        # exports by trainers and role changes by the admin now and then.
        readers = [t for t in self.trainees if self.check_ins.get(t.id)]
        while len(self.audit_rows) < target:
            roll = rng.random()
            at = now - timedelta(seconds=rng.randint(60, 400 * 86400))
            if roll < 0.9 and readers:
                t = readers[rng.randrange(len(readers))]
                for cid in self.check_ins[t.id][-3:]:
                    self.audit(at, t.supervisor, audit.READ, audit.CHECK_IN_NOTE, cid, t.id)
            elif roll < 0.98:
                plan = self.cohorts[rng.randrange(len(self.cohorts))]
                kind = rng.choice(("cohort_grid", "readiness", "cohort_attendance"))
                self.audit(at, plan.trainers[0], audit.CSV_EXPORT, kind, plan.id, None,
                           {"rows": len(plan.trainees)})
            else:
                person = self.supervisors[rng.randrange(len(self.supervisors))]
                self.audit(at, self.admin, audit.ROLE_CHANGE, "person", person, person,
                           {"from": ["supervisor"], "to": ["supervisor", "trainee"]})
        del self.audit_rows[target:]
        self.audit_rows.sort(key=lambda row: row[0])
        bar = Progress("audit events", len(self.audit_rows), self.quiet)
        for row in self.audit_rows:
            self.w.add("lms_audit_event", (self.next_id("lms_audit_event"), *row))
            bar.step()
        bar.close()

    def build(self) -> None:
        self.phase("people, cohorts, enrolments, supervisors", self.people)
        self.phase("sessions, registers, make-ups", self.agenda)
        self.phase("reads, attempts, answers", self.learning)
        self.phase("check-ins, supervision, debriefs", self.wellbeing)
        self.phase("agreement signatures, competency ratings", self.ratings)
        self.phase("sign-offs (judged by lms readiness), certificates", self.sign_offs)
        self.phase("audit log", self.audit_log)


# --- the database -----------------------------------------------------------------------------


def prepare(url: str) -> Content:
    """Empty the database, migrate it to head and sync the shipped content (as bench/load.py)."""
    app = create_app({"LMS_DATABASE_URI": url, "SECRET_KEY": "dataset",
                      "LMS_AUTO_UPGRADE": False}, serving=False)
    db: Database = app.extensions["lms"].db
    if db.engine.dialect.name == "postgresql":
        if db.engine.url.database == "test":
            raise SystemExit("Refusing the database named 'test' (it is shared with CI).")
        with db.engine.begin() as connection:
            for table in inspect(connection).get_table_names():
                if table.startswith("lms_") or table == "alembic_version":
                    connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    upgrade(db)
    with app.app_context(), db.session() as session:
        sync_folders(session, ROOT / "curricula", ROOT / "quizzes")
        session.commit()
        content = load_content(session)
        for table in COLUMNS:
            if session.scalar(text(f"SELECT count(*) FROM {table}")):  # noqa: S608
                raise SystemExit(f"{table} is not empty after the migrations.")
    db.dispose()
    return content


def default_sqlite_path(scale: float, seed: int) -> Path:
    # Outside the work tree: the file is large and never committed.
    return Path(tempfile.gettempdir()) / f"lms-dataset-{scale:g}-{seed}.sqlite3"


def build(database_url: str, *, scale: float = 1.0, seed: int = 1, now: datetime | None = None,
          manifest_path: Path | None = None, quiet: bool = False) -> dict[str, Any]:
    """Build the dataset into ``database_url`` and write its manifest; return the manifest."""
    started = time.perf_counter()
    now = now or datetime.combine(datetime.now(UTC).date(), clock(0), UTC)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    content = prepare(database_url)
    if url.get_backend_name() == "sqlite":
        writer: Writer = SqliteWriter(url.database, COLUMNS)
    else:
        writer = PostgresWriter(database_url, COLUMNS)
    builder = Builder(writer, content, database_url, scale, seed, now, quiet)
    builder.build()
    finish_start = time.perf_counter()
    writer.finish()
    builder.phase_seconds["foreign keys checked, sequences, analyze"] = (
        time.perf_counter() - finish_start)
    manifest = _manifest(builder, database_url, scale, seed)
    manifest["built_in_seconds"] = round(time.perf_counter() - started, 1)
    if manifest_path is None:
        manifest_path = (Path(url.database).with_suffix(".json")
                         if url.get_backend_name() == "sqlite" else ROOT / "bench" / "dataset.json")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    manifest["_phase_seconds"] = builder.phase_seconds
    manifest["_table_seconds"] = writer.seconds
    manifest["_manifest_path"] = str(manifest_path)
    return manifest


def _manifest(builder: Builder, database_url: str, scale: float, seed: int) -> dict[str, Any]:
    """Counts read back from the database, so the manifest says what is there."""
    db = Database(database_url)
    with db.engine.connect() as connection:
        def count(sql: str, **params: Any) -> int:
            return int(connection.execute(text(sql), params).scalar() or 0)

        finished = ("SELECT count(*) FROM lms_attempt a JOIN lms_quiz q ON q.id = a.quiz_id "
                    "JOIN lms_module m ON m.id = q.module_id WHERE m.slug = :slug "
                    "AND a.submitted_at IS NOT NULL")
        # Every lms table, the synced content and the empty ones included.
        tables = sorted(t for t in inspect(connection).get_table_names() if t.startswith("lms_"))
        counts = {table: count(f"SELECT count(*) FROM {table}")  # noqa: S608 (our names)
                  for table in tables}
        in_cohort = (" AND a.person_id IN (SELECT person_id FROM lms_enrolment "
                     "WHERE cohort_id = :cohort)")
        big = count(finished + in_cohort, slug=QUIZ_ITEM_STATS, cohort=builder.c_big.id)
        quiz_20000 = count(finished, slug=QUIZ_20000)
    db.dispose()
    m = builder.manifest
    return {
        "database_url": database_url, "password": PASSWORD, "scale": scale, "seed": seed,
        "built_in_seconds": 0.0, "counts": counts,
        "admin": m["admin"], "trainer": m["trainer"], "trainee": m["trainee"],
        "submitters": m["submitters"], "cohort_50": m["cohort_50"],
        "cohort_200": m["cohort_200"],
        "cohort_1000_attempts": {"id": builder.c_big.id, "quiz_slug": QUIZ_ITEM_STATS,
                                 "attempts": big},
        "quiz_20000": {"slug": QUIZ_20000, "attempts": quiz_20000},
        "supervisor": m["supervisor"], "certificate": m["certificate"],
        "audit_rows": counts["lms_audit_event"],
    }


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--now", default=None,
                        help="the anchor instant (ISO 8601); default today's midnight UTC")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    url = args.database_url or f"sqlite:///{default_sqlite_path(args.scale, args.seed)}"
    now = None
    if args.now:
        now = datetime.fromisoformat(args.now.replace("Z", "+00:00"))
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    if url.startswith("sqlite"):
        print(f"SQLite file: {make_url(url).database}", file=sys.stderr)
    manifest = build(url, scale=args.scale, seed=args.seed, now=now,
                     manifest_path=args.manifest, quiet=args.quiet)
    print(f"\nManifest: {manifest['_manifest_path']}")
    print(f"{'table':<28}{'rows':>12}{'write s':>10}")
    for table in COLUMNS:
        rows = manifest["counts"][table]
        print(f"{table:<28}{rows:>12,}{manifest['_table_seconds'][table]:>10.1f}")
    print(f"\n{'stage':<48}{'seconds':>8}")
    for stage, seconds in manifest["_phase_seconds"].items():
        print(f"{stage:<48}{seconds:>8.1f}")
    print(f"{'total, with migrations and content sync':<48}{manifest['built_in_seconds']:>8.1f}")


if __name__ == "__main__":
    main()
