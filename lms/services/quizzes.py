"""Quiz rules: who may start an attempt, scoring on the server, limits, retake waits, and when
a trainee may see the key.

Review (``QuizVersion.review``, set per quiz file): the key and the rationales of an attempt are
shown when the attempt's version says ``always``; or ``after_pass`` and the trainee has passed
the quiz; or ``after_last_attempt`` and the trainee has passed or has no attempts left (an
attempt still open is not "no attempts left": it is the last one, being answered). Otherwise the
result page shows the score, the questions answered wrongly (number and prompt only) and what to
reread: a pass then means the trainee knew the answers, not that they copied them from the last
result page. ``attempt_result`` builds the page's data so a hidden key never reaches a template.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lms.content.loader import REVIEW_AFTER_LAST_ATTEMPT, REVIEW_AFTER_PASS, REVIEW_ALWAYS
from lms.content.markdown import content_id
from lms.models import Answer, Attempt, Module, Question, Quiz, QuizVersion
from lms.models._types import utcnow
from lms.question_types import ResponseError, get_type
from lms.services.content_cache import content, html_ids
from lms.services.errors import ServiceError, _l

FIELD_PREFIX = "q-"


class QuizRuleError(ServiceError):
    """Starting an attempt is not allowed now; the message says why."""


class TamperedSubmission(Exception):
    """A submission the quiz page could not have produced. Answered with a 400; nothing stored."""


class IncompleteSubmission(Exception):
    """Some questions were left unanswered; the form is shown again with what was chosen."""

    def __init__(self, missing: list[str], responses: dict[str, list[str]]) -> None:
        super().__init__(f"{len(missing)} question(s) not answered")
        self.missing = missing
        self.responses = responses


@dataclass
class QuizStatus:
    """Where a trainee stands with one quiz."""

    version: QuizVersion
    attempts_used: int
    best_score: float | None
    passed: bool
    open_attempt_id: int | None
    wait_until: datetime | None
    can_start: bool
    reason: str | None = None

    @property
    def attempts_allowed(self) -> int:
        return self.version.attempts_allowed

    @property
    def attempts_left(self) -> int | None:
        if self.version.attempts_allowed == 0:
            return None  # unlimited
        return max(0, self.version.attempts_allowed - self.attempts_used)


@dataclass
class AttemptSummary:
    """The aggregate of one person's submitted attempts at one quiz, computed in bulk."""

    used: int = 0
    best_score: float | None = None
    passed: bool = False
    last_failed_at: datetime | None = None
    open_attempt_id: int | None = None


# Built once (every trainee's dashboard and progress page): see readiness's statements.
_ATTEMPT_SUMMARY = (
    select(Attempt.id, Attempt.quiz_id, Attempt.submitted_at, Attempt.score, Attempt.passed)
    .where(Attempt.person_id == bindparam("person_id"),
           Attempt.quiz_id.in_(bindparam("quiz_ids", expanding=True)))
    .order_by(Attempt.started_at, Attempt.id))


def summarise_attempts(session: Session, person_id: int, quiz_ids: Sequence[int],
                       attempts: Iterable[Attempt] | None = None) -> dict[int, AttemptSummary]:
    """One query for every quiz's attempt summary (no query per quiz); none when the page
    has loaded the person's ``attempts`` already (all of them at these quizzes, any order:
    a summary does not depend on it)."""
    if not quiz_ids:
        return {}
    if attempts is not None:
        rows: Iterable[tuple] = [(a.id, a.quiz_id, a.submitted_at, a.score, a.passed)
                                 for a in attempts]
    else:
        rows = session.execute(_ATTEMPT_SUMMARY,
                               {"person_id": person_id, "quiz_ids": list(quiz_ids)})
    return summarise_attempt_rows(quiz_ids, rows)


def summarise_attempt_rows(quiz_ids: Sequence[int], rows: Iterable[tuple]
                           ) -> dict[int, AttemptSummary]:
    """Each quiz's summary from the person's attempts as ``(id, quiz_id, submitted_at, score,
    passed)`` rows, in any order (attempts at other quizzes are left out)."""
    out: dict[int, AttemptSummary] = {qid: AttemptSummary() for qid in quiz_ids}
    for attempt_id, quiz_id, submitted_at, score, passed in rows:
        summary = out.get(quiz_id)
        if summary is None:
            continue
        summary.used += 1
        if submitted_at is None:
            summary.open_attempt_id = attempt_id
            continue
        if score is not None and (summary.best_score is None or score > summary.best_score):
            summary.best_score = score
        if passed:
            summary.passed = True
        elif summary.last_failed_at is None or submitted_at > summary.last_failed_at:
            summary.last_failed_at = submitted_at
    return out


def status_from_summary(version: QuizVersion, summary: AttemptSummary,
                        now: datetime) -> QuizStatus:
    status = QuizStatus(
        version=version,
        attempts_used=summary.used,
        best_score=summary.best_score,
        passed=summary.passed,
        open_attempt_id=summary.open_attempt_id,
        wait_until=None,
        can_start=True,
    )
    if summary.open_attempt_id is not None:
        status.can_start = False
        status.reason = _l("You have an attempt in progress.")
        return status
    if version.attempts_allowed and summary.used >= version.attempts_allowed:
        status.can_start = False
        status.reason = (_l("You have passed and used all your attempts.") if summary.passed
                         else _l("You have used all your attempts. Talk to your trainer."))
        return status
    if summary.last_failed_at and version.retake_wait_minutes and not summary.passed:
        wait_until = summary.last_failed_at + timedelta(minutes=version.retake_wait_minutes)
        if wait_until > now:
            status.wait_until = wait_until
            status.can_start = False
            status.reason = _l("You can take the quiz again once the wait after a failed "
                                "attempt is over.")
    return status


def quiz_status(session: Session, person_id: int, quiz: Quiz, now: datetime | None = None,
                attempts: Iterable[Attempt] | None = None) -> QuizStatus:
    """Whether the person may start ``quiz`` now, and why not; from ``attempts`` (all of
    theirs at it, already loaded) when given."""
    now = now or utcnow()
    summary = summarise_attempts(session, person_id, [quiz.id], attempts)[quiz.id]
    return status_from_summary(quiz.current_version, summary, now)


def question_count(session: Session, version: QuizVersion) -> int:
    """How many questions a version has, without loading them (the content cache counted
    them: a version's questions never change)."""
    return content(session).question_count(version)


def start_attempt(session: Session, person_id: int, quiz: Quiz, now: datetime | None = None,
                  rng: random.Random | None = None) -> Attempt:
    """Start an attempt, or return the one already in progress."""
    now = now or utcnow()
    if quiz.retired or quiz.current_version is None:
        raise QuizRuleError(_l("This quiz is not available."))
    status = quiz_status(session, person_id, quiz, now)
    if status.open_attempt_id is not None:
        return session.get(Attempt, status.open_attempt_id)
    if not status.can_start:
        raise QuizRuleError(status.reason or _l("You cannot start this quiz now."))
    version = content(session).with_questions(quiz.current_version)
    keys = [q.key for q in version.questions]
    if version.shuffle:
        (rng or random.SystemRandom()).shuffle(keys)
    attempt = Attempt(person_id=person_id, quiz_id=quiz.id, quiz_version_id=version.id,
                      question_order=keys, started_at=now)
    try:
        with session.begin_nested():  # rolled back to here on failure, so the session lives on
            session.add(attempt)
    except IntegrityError:
        # Another request opened an attempt at the same moment (one open attempt per person
        # and quiz is a unique index): use theirs.
        if attempt in session:
            session.expunge(attempt)
        open_id = quiz_status(session, person_id, quiz, now).open_attempt_id
        if open_id is None:
            raise
        return session.get(Attempt, open_id)
    return attempt


def ordered_questions(attempt: Attempt) -> list[Question]:
    by_key = {q.key: q for q in attempt.quiz_version.questions}
    return [by_key[key] for key in attempt.question_order if key in by_key]


def attempt_questions(session: Session, attempt: Attempt) -> list[Question]:
    """The attempt's questions in its order, its version's read once per process (the content
    cache): what the attempt page shows."""
    content(session).with_questions(attempt.quiz_version)
    return ordered_questions(attempt)


def parse_submission(attempt: Attempt, form: Mapping[str, Sequence[str]],
                     questions: Sequence[Question]) -> dict[str, list[str]]:
    """Check a submitted form against the attempt's ``questions``; raise on anything
    impossible."""
    if attempt.is_submitted:
        raise TamperedSubmission(_l("This attempt was already submitted."))
    by_key = {q.key: q for q in questions}
    responses: dict[str, list[str]] = {key: [] for key in by_key}
    for name, values in form.items():
        if not name.startswith(FIELD_PREFIX):
            continue
        key = name[len(FIELD_PREFIX):]
        question = by_key.get(key)
        if question is None:
            raise TamperedSubmission(_l("Question '%(key)s' is not in this quiz.", key=key))
        option_ids = [o["id"] for o in question.options]
        try:
            responses[key] = get_type(question.type).parse_response(list(values), option_ids)
        except ResponseError as exc:
            raise TamperedSubmission(_l("Question '%(key)s': %(problem)s.", key=key,
                                        problem=str(exc))) from None
    return responses


def submit_attempt(session: Session, person_id: int, attempt: Attempt,
                   form: Mapping[str, Sequence[str]], now: datetime | None = None) -> Attempt:
    """Score and store a submission. Only the server knows the key."""
    now = now or utcnow()
    if attempt.person_id != person_id:
        raise TamperedSubmission(_l("This attempt is not yours."))
    known = content(session)
    known.module_of_quiz(attempt.quiz_id)  # the current version, without a query
    # Its questions as read once per process, only read here: no copies in the session.
    questions = known.questions_to_score(attempt.quiz_version)
    responses = parse_submission(attempt, form, questions)
    missing = [key for key in attempt.question_order if not responses.get(key)]
    if missing:
        raise IncompleteSubmission(missing, responses)
    marks = {q.id: get_type(q.type).score(q.correct, responses[q.key]) for q in questions}
    score = round(100.0 * sum(marks.values()) / len(questions), 2) if questions else 0.0
    passed = score >= attempt.quiz_version.pass_mark
    # Close the attempt only if it is still open: of two submissions racing each other, exactly
    # one changes the row; the other is told the attempt was already submitted.
    closed = session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(submitted_at=now, score=score, passed=passed)
        .execution_options(synchronize_session=False))
    if closed.rowcount != 1:
        session.rollback()
        raise TamperedSubmission(_l("This attempt was already submitted."))
    # One executemany, not a statement per answer.
    session.execute(insert(Answer), [
        {"attempt_id": attempt.id, "question_id": question.id,
         "response": responses[question.key], "mark": marks[question.id]}
        for question in questions])
    session.flush()
    # What the UPDATE wrote, set as loaded (reading the row back would cost a query): the
    # instant as the column gives it back (UTC), whatever zone ``now`` came in. The answers
    # went in past the relationship, so a list already loaded is forgotten.
    for name, value in (("submitted_at", now.astimezone(UTC)), ("score", score),
                        ("passed", passed)):
        set_committed_value(attempt, name, value)
    session.expire(attempt, ["answers"])
    return attempt


def review_allowed(version: QuizVersion, status: QuizStatus) -> bool:
    """May the trainee see the key and rationales of an attempt at ``version``?

    ``status`` is where the trainee stands with the quiz now (its current version), so a pass
    at any version counts, and "no attempts left" means they cannot answer the quiz again.
    An unknown setting hides the key: failing closed is the safe side.
    """
    if version.review == REVIEW_ALWAYS:
        return True
    if version.review == REVIEW_AFTER_PASS:
        return status.passed
    if version.review == REVIEW_AFTER_LAST_ATTEMPT:
        out_of_attempts = status.attempts_left == 0 and status.open_attempt_id is None
        return status.passed or out_of_attempts
    return False


@dataclass
class ReviewItem:
    """One question of an attempt with the key: built only when the review is allowed."""

    number: int
    question: Question
    response: list[str]
    mark: float
    correct_ids: list[str] = field(default_factory=list)

    @property
    def is_correct(self) -> bool:
        return self.mark >= 1.0


@dataclass(frozen=True)
class WrongItem:
    """A question answered wrongly, as shown while the key is hidden: no options, no key."""

    number: int
    prompt_html: str


@dataclass(frozen=True)
class RereadLink:
    """Part of the module to read again: an objective, and its anchor on the module page if the
    module's HTML has an element with that objective's id (``## Heading {#objective-id}``)."""

    objective_id: str | None
    text: str | None  # None: the objective is no longer in the module; read it all
    anchor: str | None


@dataclass
class AttemptResult:
    attempt: Attempt
    status: QuizStatus
    show_key: bool
    right: int
    total: int
    #: Every question with the key and the answer given; empty unless ``show_key``.
    items: list[ReviewItem]
    #: The questions answered wrongly, in the order shown, without the key.
    wrong: list[WrongItem]
    reread: list[RereadLink]

    @property
    def review_rule(self) -> str:
        return self.attempt.quiz_version.review


def reread_links(module: Module, objective_ids: Sequence[str],
                 anchors: Collection[str] | None = None) -> list[RereadLink]:
    """The module's objectives behind ``objective_ids``, in the module's order, each once.
    ``anchors``: the ids in the module's page (``Content.anchors``), else found in its HTML."""
    wanted = set(objective_ids)
    if anchors is None:
        anchors = html_ids(module.body_html)
    links = [RereadLink(o["id"], o["text"], content_id(o["id"])
                        if content_id(o["id"]) in anchors else None)
             for o in module.objectives if o["id"] in wanted]
    if wanted - {o["id"] for o in module.objectives}:
        links.append(RereadLink(None, None, None))
    return links


_ANSWERS = select(Answer.question_id, Answer.response, Answer.mark).where(
    Answer.attempt_id == bindparam("attempt_id"))


def attempt_result(session: Session, attempt: Attempt,
                   now: datetime | None = None) -> AttemptResult:
    """Everything the result page of a submitted attempt shows, with the key only if allowed.

    The same number of queries whatever the number of questions or attempts: the attempt
    summary and the answers are one query each (the version's questions come from the
    content cache).
    """
    # The quiz, its module and current version from the content cache: the attempt's
    # ``quiz`` and ``quiz.module`` are then found in the session, not read again.
    known = content(session)
    known.module_of_quiz(attempt.quiz_id)
    known.with_questions(attempt.quiz_version)
    status = quiz_status(session, attempt.person_id, attempt.quiz, now)
    show_key = attempt.is_submitted and review_allowed(attempt.quiz_version, status)
    answers = {question_id: (response, mark) for question_id, response, mark in session.execute(
        _ANSWERS, {"attempt_id": attempt.id})}
    items: list[ReviewItem] = []
    wrong: list[WrongItem] = []
    wrong_objectives: list[str] = []
    right = 0
    questions = ordered_questions(attempt)
    for number, question in enumerate(questions, start=1):
        response, mark = answers.get(question.id, ([], 0.0))
        if mark >= 1.0:
            right += 1
        else:
            wrong.append(WrongItem(number, question.prompt_html))
            wrong_objectives.append(question.objective)
        if show_key:
            items.append(ReviewItem(number=number, question=question, response=list(response),
                                    mark=mark, correct_ids=list(question.correct)))
    return AttemptResult(attempt=attempt, status=status, show_key=show_key, right=right,
                         total=len(questions), items=items, wrong=wrong,
                         reread=reread_links(attempt.quiz.module, wrong_objectives,
                                             known.anchors(attempt.quiz.module)))


_HISTORY = select(Attempt).where(Attempt.person_id == bindparam("person_id")).order_by(
    Attempt.started_at.desc(), Attempt.id.desc())
_HISTORY_OF_QUIZ = _HISTORY.where(Attempt.quiz_id == bindparam("quiz_id"))


def attempt_history(session: Session, person_id: int,
                    quiz_id: int | None = None) -> list[Attempt]:
    """A person's attempts, newest first (at one quiz if ``quiz_id`` is given)."""
    if quiz_id is None:
        return list(session.scalars(_HISTORY, {"person_id": person_id}))
    return list(session.scalars(_HISTORY_OF_QUIZ, {"person_id": person_id, "quiz_id": quiz_id}))
