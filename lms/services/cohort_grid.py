"""The cohort grid: trainees by modules, with attendance, and who is behind. Bulk queries only:
the number of queries does not depend on the number of trainees or modules.

"Behind" is judged per trainee, on what was due while they were in the cohort: a module is due
once a session covering it has happened on or after their enrolment day. A trainee whose
enrolment starts later is "not started yet", and a withdrawn trainee is shown as withdrawn
(with the date): neither is ever behind. The grid shows everyone by default; ``show`` narrows it
to the active trainees, the withdrawn ones, or those behind.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from lms.models import (
    Attempt,
    Cohort,
    Enrolment,
    Module,
    ModuleProgress,
    Person,
    TrainingSession,
)
from lms.models._types import utcnow
from lms.services import readiness, standards
from lms.services.agenda import IN_ORDER, has_happened
from lms.services.attendance import TraineeAttendance, cohort_attendance, in_enrolment
from lms.services.content_cache import content
from lms.services.time_zones import local_today

SORTS = ("name", "attendance", "done", "behind")
# Who the grid shows: everyone (withdrawn trainees marked), the active ones, the withdrawn
# ones, or those behind (never a withdrawn trainee or one not started yet).
SHOWS = ("all", "active", "withdrawn", "behind")


@dataclass
class ModuleCell:
    read: bool = False
    attempts: int = 0
    best_score: float | None = None
    passed: bool = False
    has_quiz: bool = False

    @property
    def done(self) -> bool:
        return self.read and (not self.has_quiz or self.passed)


class GridPerson(NamedTuple):
    """What the grid and its CSV show of a trainee (plain values: loading 200 model
    instances with their people cost more than the page's arithmetic)."""

    id: int
    name: str
    email: str
    active: bool


class GridEnrolment(NamedTuple):
    """What the grid reads of an enrolment; ``attendance.cohort_attendance`` takes it too."""

    person_id: int
    enrolled_on: date
    withdrawn_on: date | None

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_on is not None


@dataclass
class GridRow:
    enrolment: GridEnrolment
    cells: dict[int, ModuleCell]
    attendance: TraineeAttendance
    behind: list[str] = field(default_factory=list)
    # Enrolled from a day still to come in the cohort's zone: nothing is due from them yet.
    not_started: bool = False
    person: GridPerson | None = None

    @property
    def withdrawn(self) -> bool:
        return self.enrolment.is_withdrawn

    @property
    def status(self) -> str:
        """"withdrawn", "not started yet" or "active": a word for the page and the CSV."""
        if self.withdrawn:
            return "withdrawn"
        return "not started yet" if self.not_started else "active"

    @property
    def modules_done(self) -> int:
        return sum(1 for c in self.cells.values() if c.done)


@dataclass
class Grid:
    cohort: Cohort
    modules: list[Module]
    rows: list[GridRow]


def cohort_grid(session: Session, cohort: Cohort, *, now: datetime | None = None,
                sort: str = "name", show: str = "all") -> Grid:
    """The grid. "Behind" on attendance uses the curriculum's standards policy (no policy:
    attendance is not judged), compared as the readiness service compares it."""
    now = now or utcnow()
    policy_row = standards.current_policy(session, cohort.curriculum_id)
    policy = standards.Policy.from_rules(policy_row.rules) if policy_row else None
    # Of each enrolment and person only what the grid and its CSV show, as plain rows: the
    # rest of a person (dates parsed one by one on SQLite, the password hash) and the model
    # instances themselves cost more to load than the page's arithmetic (4.6 ms to 0.7 for
    # 200 trainees on SQLite).
    people: dict[int, GridPerson] = {}
    enrolments: list[GridEnrolment] = []
    for person_id, enrolled_on, withdrawn_on, name, email, active in session.execute(
            select(Enrolment.person_id, Enrolment.enrolled_on, Enrolment.withdrawn_on,
                   Person.name, Person.email, Person.active)
            .join(Person, Person.id == Enrolment.person_id)
            .where(Enrolment.cohort_id == cohort.id)):
        enrolments.append(GridEnrolment(person_id, enrolled_on, withdrawn_on))
        people[person_id] = GridPerson(person_id, name, email, active)
    modules = content(session).live_modules([cohort.curriculum_id])
    in_cohort = select(Enrolment.person_id).where(Enrolment.cohort_id == cohort.id)
    module_ids = [m.id for m in modules]
    # Plain tuples: a set of SQLAlchemy rows compares them field by field, slowly.
    read = {(person_id, module_id) for person_id, module_id in session.execute(
        select(ModuleProgress.person_id, ModuleProgress.module_id)
        .where(ModuleProgress.person_id.in_(in_cohort),
               ModuleProgress.module_id.in_(module_ids)))}
    quiz_module = {m.quiz.id: m.id for m in modules if m.quiz and not m.quiz.retired}
    stats = session.execute(
        select(Attempt.person_id, Attempt.quiz_id, func.count(Attempt.id),
               func.max(Attempt.score),
               func.max(case((Attempt.passed.is_(True), 1), else_=0)))
        .where(Attempt.person_id.in_(in_cohort), Attempt.quiz_id.in_(list(quiz_module)),
               Attempt.submitted_at.is_not(None))
        .group_by(Attempt.person_id, Attempt.quiz_id)).all()
    attempts = {(pid, quiz_module[qid]): (n, best, bool(passed))
                for pid, qid, n, best, passed in stats}
    quiz_modules = set(quiz_module.values())
    sessions = list(session.scalars(
        select(TrainingSession).where(TrainingSession.cohort_id == cohort.id)
        .order_by(*IN_ORDER)))
    attendance = cohort_attendance(session, cohort, now, with_lines=False, sessions=sessions,
                                   enrolled=enrolments)

    # Sessions held so far and the modules they covered; what is due depends on each
    # trainee's enrolment day, worked out in memory (no query per trainee).
    held = [(s.on_date, s.module_ids) for s in sessions
            if not s.is_cancelled and has_happened(s, now)]
    due_from: dict[date, set[int]] = {}
    today = local_today(cohort.timezone, now)

    # (id, title) of each module, read from the ORM once rather than per trainee.
    titled = [(m.id, m.title) for m in modules]
    rows = []
    for enrolment in enrolments:
        pid = enrolment.person_id
        cells = {}
        for module_id in module_ids:  # plain ints: 200 trainees x 18 modules of ORM reads cost
            n, best, passed = attempts.get((pid, module_id), (0, None, False))
            cells[module_id] = ModuleCell(read=(pid, module_id) in read, attempts=n,
                                          best_score=best, passed=passed,
                                          has_quiz=module_id in quiz_modules)
        row = GridRow(enrolment, cells, attendance[pid],
                      not_started=enrolment.enrolled_on > today, person=people[pid])
        if not (row.withdrawn or row.not_started):
            start = enrolment.enrolled_on
            if start not in due_from:
                due_from[start] = {mid for on_date, mids in held
                                   if in_enrolment(on_date, start, None) for mid in mids}
            row.behind = behind_reasons(row, titled, due_from[start], policy)
        rows.append(row)
    if show == "behind":
        rows = [r for r in rows if r.behind]
    elif show == "active":
        rows = [r for r in rows if not r.withdrawn]
    elif show == "withdrawn":
        rows = [r for r in rows if r.withdrawn]
    rows.sort(key=_sort_key(sort))
    return Grid(cohort, modules, rows)


def behind_reasons(row: GridRow, modules: list[tuple[int, str]], covered: set[int],
                   policy: standards.Policy | None) -> list[str]:
    """Why a trainee is behind; ``modules`` are the grid's modules as (id, title) in order,
    ``covered`` holds the ids of those due for them (covered by a session held since their
    enrolment)."""
    reasons = []
    percentage = row.attendance.percentage
    if policy is not None and percentage is not None \
            and not readiness.attendance_met(row.attendance, policy):
        reasons.append(f"attendance {standards.shown_percent(percentage)}% (below "
                       f"{standards.shown_percent(policy.minimum_attendance_percent)}%)")
    if row.attendance.core_missed:
        reasons.append(f"{len(row.attendance.core_missed)} core session(s) missed, "
                       "not made up")
    cells = row.cells
    late = [title for module_id, title in modules
            if module_id in covered and not cells[module_id].done]
    if late:
        reasons.append("not finished: " + ", ".join(late))
    failed = [title for module_id, title in modules
              if cells[module_id].attempts and not cells[module_id].passed]
    if failed:
        reasons.append("quiz not passed: " + ", ".join(failed))
    return reasons


def _sort_key(sort: str):
    if sort == "attendance":
        return lambda r: (r.attendance.percentage if r.attendance.percentage is not None
                          else 101.0, r.person.name.lower())
    if sort == "done":
        return lambda r: (r.modules_done, r.person.name.lower())
    if sort == "behind":
        return lambda r: (-len(r.behind), r.person.name.lower())
    return lambda r: (r.person.name.lower(), r.person.id)


def neutralise(cell: object) -> str:
    """Stop a spreadsheet from running a cell as a formula (CSV injection). The first
    character is judged after NFKC normalisation, so a fullwidth "＝" counts as "="."""
    text = "" if cell is None else str(cell)
    first = unicodedata.normalize("NFKC", text[:1])
    if first and first[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def grid_csv(grid: Grid) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["Name", "Email", "Attendance %", "Core sessions missed", "Not yet marked",
              "Modules done"]
    for module in grid.modules:
        header += [f"{module.title}: read", f"{module.title}: best score",
                   f"{module.title}: attempts", f"{module.title}: passed"]
    # New columns go last, so spreadsheets built on the earlier layout keep working.
    header += ["Behind", "Status", "Withdrawn on", "Account"]
    writer.writerow([neutralise(h) for h in header])
    for row in grid.rows:
        att = row.attendance
        line = [row.person.name, row.person.email,
                standards.shown_percent(att.percentage),
                len(att.core_missed), len(att.unmarked), row.modules_done]
        for module in grid.modules:
            cell = row.cells[module.id]
            line += ["yes" if cell.read else "no",
                     standards.shown_percent(cell.best_score),
                     cell.attempts, ("yes" if cell.passed else "no") if cell.has_quiz else ""]
        withdrawn_on = row.enrolment.withdrawn_on
        line += ["; ".join(row.behind), row.status,
                 withdrawn_on.isoformat() if withdrawn_on else "",
                 "active" if row.person.active else "switched off"]
        writer.writerow([neutralise(c) for c in line])
    return out.getvalue()
