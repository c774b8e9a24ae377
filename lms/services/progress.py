"""A trainee's progress: modules read, quiz states, the next step. Bulk queries only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lms.models import Attempt, Curriculum, Module, ModuleProgress
from lms.models._types import utcnow
from lms.services.content_cache import content
from lms.services.enrolled_curricula import enrolled_curriculum_ids
from lms.services.quizzes import (
    QuizStatus,
    status_from_summary,
    summarise_attempt_rows,
    summarise_attempts,
)

NOT_STARTED = "not_started"
READ = "read"
QUIZ_PASSED = "quiz_passed"
QUIZ_FAILED = "quiz_failed"  # failed, attempts left
QUIZ_LOCKED = "quiz_locked"  # failed, no attempts left
QUIZ_IN_PROGRESS = "quiz_in_progress"  # an attempt is open
COMPLETE = "complete"  # read, no quiz


@dataclass
class ModuleState:
    module: Module
    read_at: datetime | None
    quiz: QuizStatus | None
    read_version: int | None = None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def changed_since_read(self) -> bool:
        """The module's file changed after the trainee read it."""
        return self.is_read and self.read_version != self.module.version

    @property
    def state(self) -> str:
        if self.quiz is not None and self.quiz.passed:
            return QUIZ_PASSED
        if self.quiz is not None and self.quiz.open_attempt_id is not None:
            return QUIZ_IN_PROGRESS  # the open attempt may still pass: never "locked" yet
        if self.quiz is not None and self.quiz.attempts_used and self.quiz.best_score is not None:
            return QUIZ_FAILED if self.quiz.attempts_left != 0 else QUIZ_LOCKED
        if self.is_read:
            return COMPLETE if self.quiz is None else READ
        return NOT_STARTED

    @property
    def is_done(self) -> bool:
        return self.is_read and (self.quiz is None or self.quiz.passed)

    @property
    def next_action(self) -> str:
        """What the trainee should do next with this module: read, quiz, retake, wait, none."""
        if not self.is_read:
            return "read"
        if self.quiz is None or self.quiz.passed:
            return "none"
        if self.quiz.open_attempt_id is not None:
            return "continue_quiz"
        if self.quiz.can_start:
            return "quiz" if not self.quiz.attempts_used else "retake"
        return "wait" if self.quiz.wait_until else "blocked"


@dataclass
class CurriculumProgress:
    curriculum: Curriculum
    modules: list[ModuleState]

    @property
    def is_empty(self) -> bool:
        return not self.modules

    @property
    def next_step(self) -> ModuleState | None:
        for state in self.modules:
            if not state.is_done and state.next_action not in ("blocked", "wait"):
                return state
        for state in self.modules:
            if not state.is_done:
                return state
        return None

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.modules if s.is_done)

    @property
    def core_done(self) -> bool:
        return all(s.is_done for s in self.modules if s.module.is_core)


# Built once (on the dashboard and "my progress"): building a statement and its cache key
# cost more than running it.
_READS = select(ModuleProgress.module_id, ModuleProgress.read_at,
                ModuleProgress.module_version).where(
    ModuleProgress.person_id == bindparam("person_id"),
    ModuleProgress.module_id.in_(bindparam("module_ids", expanding=True)))

# The dashboard's reads and attempts in one statement (UNION ALL, rows of one shape): on
# PostgreSQL each statement is a round trip. A read is (module, its version, when); an
# attempt (quiz, attempt id, when submitted, score, passed). The first SELECT types the
# columns, so the read's missing score and verdict are typed NULLs.
_READ_ROW, _ATTEMPT_ROW = 1, 2
_READS_AND_ATTEMPTS = union_all(
    select(literal_column(str(_READ_ROW), Integer()).label("kind"),
           ModuleProgress.module_id.label("thing"), ModuleProgress.module_version.label("number"),
           ModuleProgress.read_at.label("at"), cast(null(), Float()).label("score"),
           cast(null(), Boolean()).label("passed"))
    .where(ModuleProgress.person_id == bindparam("person_id"),
           ModuleProgress.module_id.in_(bindparam("module_ids", expanding=True))),
    select(literal_column(str(_ATTEMPT_ROW), Integer()), Attempt.quiz_id, Attempt.id,
           Attempt.submitted_at, Attempt.score, Attempt.passed)
    .where(Attempt.person_id == bindparam("person_id"),
           Attempt.quiz_id.in_(bindparam("quiz_ids", expanding=True))))


def trainee_progress(session: Session, person_id: int, now: datetime | None = None,
                     curriculum_ids: set[int] | None = None,
                     attempts: Iterable[Attempt] | None = None) -> list[CurriculumProgress]:
    """Every enrolled curriculum with each module's state, in one query whatever the size
    (content from the content cache): the person's reads and attempts together. One more
    when the caller has not read the enrolled ``curriculum_ids``. When the caller has loaded
    all the person's ``attempts`` already, that query reads only the reads."""
    now = now or utcnow()
    if curriculum_ids is None:  # else the caller read the enrolments already
        curriculum_ids = enrolled_curriculum_ids(session, person_id)
    if not curriculum_ids:
        return []
    known = content(session)
    curricula = known.curricula(curriculum_ids)
    modules = known.live_modules(curriculum_ids)
    live_quizzes = [m.quiz for m in modules
                    if m.quiz is not None and not m.quiz.retired and m.quiz.current_version]
    quiz_ids = [q.id for q in live_quizzes]
    module_ids = [m.id for m in modules]
    read: dict[int, tuple[datetime, int]] = {}
    if attempts is not None:
        read = {module_id: (read_at, version) for module_id, read_at, version in session.execute(
            _READS, {"person_id": person_id, "module_ids": module_ids})}
        summaries = summarise_attempts(session, person_id, quiz_ids, attempts)
    else:
        attempt_rows = []
        for kind, thing, number, at, score, passed in session.execute(
                _READS_AND_ATTEMPTS,
                {"person_id": person_id, "module_ids": module_ids, "quiz_ids": quiz_ids}):
            if kind == _READ_ROW:
                read[thing] = (at, number)
            else:
                attempt_rows.append((number, thing, at, score, passed))
        summaries = summarise_attempt_rows(quiz_ids, attempt_rows)

    by_curriculum: dict[int, list[ModuleState]] = {c.id: [] for c in curricula}
    for module in modules:
        quiz = module.quiz
        status = None
        if quiz is not None and quiz.id in summaries:
            status = status_from_summary(quiz.current_version, summaries[quiz.id], now)
        read_at, read_version = read.get(module.id, (None, None))
        by_curriculum[module.curriculum_id].append(
            ModuleState(module=module, read_at=read_at, quiz=status, read_version=read_version))
    return [CurriculumProgress(c, by_curriculum[c.id]) for c in curricula]


def visible_curricula(session: Session, person_id: int, *, staff: bool) -> list[Curriculum]:
    """Staff see every curriculum; a trainee only those they are enrolled in. Modules loaded
    in one more query."""
    query = select(Curriculum).options(selectinload(Curriculum.modules)).order_by(
        Curriculum.title)
    if not staff:
        query = query.where(Curriculum.id.in_(enrolled_curriculum_ids(session, person_id)))
    return list(session.scalars(query))


def module_for_person(session: Session, person_id: int, slug: str, *,
                      staff: bool = False) -> Module | None:
    """The module a person may open, or None (unknown, retired, or not in their curricula)."""
    module = content(session).module(slug)  # its text loads when the page reads it
    if module is None or module.retired:
        return None
    if staff:
        return module
    if module.curriculum_id not in enrolled_curriculum_ids(session, person_id):
        return None
    return module


def neighbours(session: Session, module: Module) -> tuple[Module | None, Module | None]:
    siblings = content(session).live_modules([module.curriculum_id])
    index = next(i for i, m in enumerate(siblings) if m.id == module.id)
    previous = siblings[index - 1] if index > 0 else None
    following = siblings[index + 1] if index + 1 < len(siblings) else None
    return previous, following


_READING = select(ModuleProgress).where(ModuleProgress.person_id == bindparam("person_id"),
                                       ModuleProgress.module_id == bindparam("module_id"))


def reading(session: Session, person_id: int, module: Module) -> ModuleProgress | None:
    """The person's record of reading the module (its ``module_version`` says which version)."""
    return session.scalar(_READING, {"person_id": person_id, "module_id": module.id})


def mark_read(session: Session, person_id: int, module: Module,
              now: datetime | None = None) -> ModuleProgress:
    """Record that the module was read (idempotent; a re-read of a new version updates it)."""
    row = session.scalar(select(ModuleProgress).where(
        ModuleProgress.person_id == person_id, ModuleProgress.module_id == module.id))
    if row is None:
        row = ModuleProgress(person_id=person_id, module_id=module.id, read_at=now or utcnow(),
                             module_version=module.version)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # The same click twice at once: the first one's record stands (one row per person
            # and module is a unique constraint).
            if row in session:
                session.expunge(row)
            row = session.scalar(select(ModuleProgress).where(
                ModuleProgress.person_id == person_id, ModuleProgress.module_id == module.id))
            if row is None:  # not the unique rule after all
                raise
    if row.module_version != module.version:
        row.module_version = module.version
        row.read_at = now or utcnow()
    session.flush()
    return row
