"""Quiz item statistics: facility, discrimination and distractor analysis, in bulk.

Definitions (after Moodle's quiz statistics):

* facility index: the mean mark on the question as a share of its maximum (0 to 1): the share
  of attempts that answered it correctly, since every question here is worth one mark;
* discrimination index: the Pearson correlation between the mark on the question and the
  score on the rest of the quiz (the total without this question), over the attempts counted.
  Leaving the question out of the total stops it correlating with itself. It runs from -1 to 1;
  a negative value means stronger trainees tend to get the question wrong;
* discriminative efficiency: the discrimination as a percentage of the most the question could
  have with these marks. Sort the question's marks and the rest-of-quiz scores separately and
  pair them off by rank: that pairing gives the largest covariance the two score distributions
  allow. The efficiency is the actual covariance over that maximum, times 100. An easy
  all-or-nothing question can never reach a discrimination of 1, so the index alone understates
  it; the efficiency says how much of its possible discrimination it achieves. Below
  ``LOW_EFFICIENCY_BELOW`` percent the question barely tells stronger and weaker trainees apart
  (Moodle marks such questions as dubious);
* distractor analysis: how many attempts chose each option.

By default each trainee's first submitted attempt at the quiz version counts; all attempts is
an option. Statistics are per version, so a trainee's first attempt at a new version counts as
a first attempt even after attempts at the previous one. Every figure carries n, the number of
attempts behind it. On fewer than ``MIN_ATTEMPTS_FOR_FLAGS`` attempts nothing is flagged and the
discrimination and its efficiency are shown as not enough data (they are still computed).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Text, and_, cast, exists, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased

from lms.models import Answer, Attempt, Enrolment, Question, Quiz, QuizVersion

MIN_ATTEMPTS_FOR_FLAGS = 10
TOO_EASY_ABOVE = 0.90
TOO_HARD_BELOW = 0.30
LOW_EFFICIENCY_BELOW = 15.0  # percent


@dataclass
class QuestionStatistics:
    question: Question
    n: int
    facility: float | None
    discrimination: float | None
    option_counts: dict[str, int]
    discriminative_efficiency: float | None = None  # percent
    flags: list[str] = field(default_factory=list)

    @property
    def enough_data(self) -> bool:
        """Enough attempts to read the discrimination figures and to flag anything."""
        return self.n >= MIN_ATTEMPTS_FOR_FLAGS


@dataclass
class QuizStatistics:
    quiz: Quiz
    version: QuizVersion
    attempts: int
    first_only: bool
    mean_score: float | None
    questions: list[QuestionStatistics]


def pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None  # no spread: the correlation is undefined
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


def discriminative_efficiency(xs: list[float], ys: list[float]) -> float | None:
    """The covariance of ``xs`` and ``ys`` as a percentage of the largest covariance any pairing
    of the same values could have (both sorted, paired by rank). None without spread."""
    n = len(xs)
    if n < 2:
        return None
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    actual = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    # The rearrangement inequality: pairing both in ascending order maximises the sum.
    most = sum((x - mean_x) * (y - mean_y) for x, y in zip(sorted(xs), sorted(ys), strict=True))
    if math.isclose(most, 0.0, abs_tol=1e-12):
        return None  # one side has no spread: no discrimination is possible
    return 100.0 * actual / most


def scoped_attempts(version_id: int, cohort_id: int | None, first_only: bool,
                    until: datetime | None = None):
    """A subquery of the attempt ids that count (first per trainee unless ``first_only`` is off),
    of those submitted by ``until`` when it is given."""
    base = select(Attempt.id.label("id"), Attempt.person_id, Attempt.started_at).where(
        Attempt.quiz_version_id == version_id, Attempt.submitted_at.is_not(None))
    if until is not None:
        base = base.where(Attempt.submitted_at <= until)
    if cohort_id is not None:
        base = base.where(Attempt.person_id.in_(
            select(Enrolment.person_id).where(Enrolment.cohort_id == cohort_id)))
    if not first_only:
        return base.subquery()
    ranked = base.add_columns(func.row_number().over(
        partition_by=Attempt.person_id, order_by=(Attempt.started_at, Attempt.id)
    ).label("rank")).subquery()
    return select(ranked.c.id).where(ranked.c.rank == 1).subquery()


def quiz_statistics(session: Session, quiz: Quiz, *, version: QuizVersion | None = None,
                    cohort_id: int | None = None, first_only: bool = True) -> QuizStatistics:
    """The questions (one query), then the figures: from this process's memory when the
    attempts counted are as they were when it last worked them out (one small query says so),
    else from four queries whatever the number of attempts (see ``_figures``)."""
    version = version or quiz.current_version
    questions = list(session.scalars(select(Question).where(
        Question.quiz_version_id == version.id).order_by(Question.position)))
    count, marks, items, chosen_rows = _remembered_figures(session, version.id, cohort_id,
                                                           first_only)
    chosen: dict[int, dict[str, int]] = {q.id: {o["id"]: 0 for o in q.options}
                                         for q in questions}
    for (question_id, response), times in chosen_rows.items():
        counts = chosen.setdefault(question_id, {})
        for option_id in (json.loads(response) if response else []):
            counts[option_id] = counts.get(option_id, 0) + times
    results = []
    for question in questions:
        item = items.get(question.id) or _Item()
        stats = QuestionStatistics(question, item.n, item.facility(), item.discrimination(),
                                   chosen[question.id], item.efficiency())
        stats.flags = flags_for(stats)
        results.append(stats)
    mean = (100.0 * float(marks) / (count * len(questions))) if count and questions else None
    return QuizStatistics(quiz, version, count, first_only, mean, results)


# The attempts counted, their total marks, each question's histogram, and how many times each
# (question, response as JSON text) was given.
_Figures = tuple[int, float, dict[int, "_Item"], dict[tuple[int, str], int]]
# (engine, version, cohort, first only) -> (what the attempts counted were, their figures).
# Submitted attempts and their answers never change, so the same attempts give the same
# figures, and new submissions only add to them: the programme-wide statistics of a quiz with
# 20,000 first attempts take about a second to work out once, then the answers of each new
# submission are added to what this process remembers (``_with_new_attempts``).
_remembered: WeakKeyDictionary[Engine, dict[tuple, tuple[tuple, _Figures]]] = \
    WeakKeyDictionary()
_REMEMBERED_PER_DATABASE = 1000


def _submitted(version_id: int, cohort_id: int | None) -> list:
    """The conditions on the submitted attempts at a version (of a cohort's members)."""
    conditions = [Attempt.quiz_version_id == version_id, Attempt.submitted_at.is_not(None)]
    if cohort_id is not None:
        conditions.append(Attempt.person_id.in_(
            select(Enrolment.person_id).where(Enrolment.cohort_id == cohort_id)))
    return conditions


def _remembered_figures(session: Session, version_id: int, cohort_id: int | None,
                        first_only: bool) -> _Figures:
    attempts = select(func.count(Attempt.id), func.coalesce(func.sum(Attempt.id), 0),
                      func.max(Attempt.submitted_at)).where(*_submitted(version_id, cohort_id))
    if cohort_id is not None:
        # Who is in the cohort matters too: an enrolment or a withdrawal changes the figures.
        in_cohort = Enrolment.cohort_id == cohort_id
        attempts = attempts.add_columns(
            select(func.count()).where(in_cohort).scalar_subquery(),
            select(func.coalesce(func.sum(Enrolment.person_id), 0)).where(in_cohort)
            .scalar_subquery())
    fingerprint = tuple(session.execute(attempts).one())
    key = (version_id, cohort_id, first_only)
    known = _remembered.setdefault(session.get_bind(), {})
    found = known.get(key)
    if found is not None and found[0] == fingerprint:
        return found[1]
    # Every figure counts only what the fingerprint saw (submitted by its latest time): a
    # submission committed while they are worked out is added next time, never twice.
    until = fingerprint[2]
    figures = None
    if found is not None and found[0][3:] == fingerprint[3:]:  # the same members
        figures = _with_new_attempts(session, found, version_id, cohort_id, first_only, until)
    if figures is None:
        figures = _figures(session, version_id, cohort_id, first_only, until)
    if len(known) >= _REMEMBERED_PER_DATABASE:
        known.clear()  # rare: that many quiz versions and cohorts looked at in one process
    known[key] = (fingerprint, figures)
    return figures


def _with_new_attempts(session: Session, found: tuple[tuple, _Figures], version_id: int,
                       cohort_id: int | None, first_only: bool,
                       until: datetime | None) -> _Figures | None:
    """The remembered figures plus the attempts submitted since, or None when anything else
    changed (then everything is worked out again). Three small queries."""
    (count_before, ids_before, last_before, *_members), figures = found
    if last_before is None:
        return None
    conditions = _submitted(version_id, cohort_id)
    # Every attempt counted before is still there: the same number with the same ids.
    still = session.execute(select(func.count(Attempt.id), func.coalesce(func.sum(Attempt.id), 0))
                            .where(*conditions, Attempt.submitted_at <= last_before)).one()
    if tuple(still) != (count_before, ids_before):
        return None
    if until is None:
        return None
    new = select(Attempt.id).where(*conditions, Attempt.submitted_at > last_before,
                                   Attempt.submitted_at <= until)
    if first_only:
        # Counted only if it is the trainee's first attempt at the version (attempts at one
        # quiz never overlap, so an earlier start was submitted earlier and counted before).
        earlier = aliased(Attempt)
        new = new.where(~exists().where(
            earlier.quiz_version_id == version_id, earlier.person_id == Attempt.person_id,
            earlier.submitted_at.is_not(None),
            or_(earlier.started_at < Attempt.started_at,
                and_(earlier.started_at == Attempt.started_at, earlier.id < Attempt.id))))
    answers: dict[int, list[tuple[int, float, str]]] = {}
    for attempt_id, question_id, mark, response in session.execute(
            select(Answer.attempt_id, Answer.question_id, Answer.mark,
                   cast(Answer.response, Text)).where(Answer.attempt_id.in_(new))):
        answers.setdefault(attempt_id, []).append((question_id, float(mark), response))
    count, marks, items, chosen = figures
    items = {qid: replace(item, xs=dict(item.xs), ys=dict(item.ys))
             for qid, item in items.items()}  # never change what another request may read
    chosen = dict(chosen)
    for rows in answers.values():
        total = sum(mark for _question, mark, _response in rows)
        count, marks = count + 1, marks + total
        for question_id, mark, response in rows:
            items.setdefault(question_id, _Item()).add(mark, total - mark, 1)
            chosen[question_id, response] = chosen.get((question_id, response), 0) + 1
    return count, marks, items, chosen


def _figures(session: Session, version_id: int, cohort_id: int | None,
             first_only: bool, until: datetime | None = None) -> _Figures:
    """Three queries whatever the number of attempts: the attempts' count and total marks, a
    histogram of (question, mark, rest of the quiz), and the responses chosen.

    The database sums and counts; Python works only on the histograms (a few hundred rows for
    20,000 attempts), from which every figure follows exactly (see ``_Item``)."""
    scope = scoped_attempts(version_id, cohort_id, first_only, until)
    counted = Answer.attempt_id.in_(select(scope.c.id))
    totals = (select(Answer.attempt_id.label("attempt_id"), func.sum(Answer.mark).label("total"))
              .where(counted).group_by(Answer.attempt_id).subquery())
    count, marks = session.execute(
        select(func.count(), func.coalesce(func.sum(totals.c.total), 0.0))).one()
    rest = (totals.c.total - Answer.mark).label("rest")
    items: dict[int, _Item] = {}
    for question_id, mark, rest_of_quiz, times in session.execute(
            select(Answer.question_id, Answer.mark, rest, func.count())
            .join(totals, totals.c.attempt_id == Answer.attempt_id)
            .group_by(Answer.question_id, Answer.mark, rest)):
        items.setdefault(question_id, _Item()).add(float(mark), float(rest_of_quiz), int(times))
    # The response comes back as its JSON text, counted per distinct text: a quiz has few
    # distinct responses, so each is parsed once instead of once per answer.
    chosen = {(question_id, response): int(times) for question_id, response, times in
              session.execute(
                  select(Answer.question_id, cast(Answer.response, Text), func.count())
                  .where(counted).group_by(Answer.question_id, cast(Answer.response, Text)))}
    return int(count), float(marks), items, chosen


@dataclass
class _Item:
    """One question's marks (x) and rest-of-quiz scores (y) as a histogram of (x, y) pairs.

    Pearson's r needs only the sums below. The discriminative efficiency's largest possible
    covariance pairs the sorted x with the sorted y, which the two marginal histograms give
    without listing any attempt."""

    n: int = 0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    syy: float = 0.0
    sxy: float = 0.0
    xs: dict[float, int] = field(default_factory=dict)
    ys: dict[float, int] = field(default_factory=dict)

    def add(self, x: float, y: float, times: int) -> None:
        self.n += times
        self.sx += x * times
        self.sy += y * times
        self.sxx += x * x * times
        self.syy += y * y * times
        self.sxy += x * y * times
        self.xs[x] = self.xs.get(x, 0) + times
        self.ys[y] = self.ys.get(y, 0) + times

    def facility(self) -> float | None:
        return self.sx / self.n if self.n else None

    def _spread(self, total: float, squares: float) -> float:
        spread = squares - total * total / self.n
        # Sums of squares cancel: what is left below rounding noise is no spread at all.
        return 0.0 if spread <= 1e-12 * max(1.0, squares) else spread

    def discrimination(self) -> float | None:
        if self.n < 2:
            return None
        sxx, syy = self._spread(self.sx, self.sxx), self._spread(self.sy, self.syy)
        if sxx == 0 or syy == 0:
            return None  # no spread: the correlation is undefined
        return (self.sxy - self.sx * self.sy / self.n) / math.sqrt(sxx * syy)

    def efficiency(self) -> float | None:
        if self.n < 2:
            return None
        paired = 0.0  # the sum of x * y with both sorted ascending, paired by rank
        ys = iter(sorted(self.ys.items()))
        y, y_left = next(ys)
        for x, x_left in sorted(self.xs.items()):
            while x_left:
                if not y_left:
                    y, y_left = next(ys)
                step = min(x_left, y_left)
                paired += x * y * step
                x_left -= step
                y_left -= step
        centre = self.sx * self.sy / self.n
        most = paired - centre
        if abs(most) <= 1e-12 * max(1.0, abs(paired)):
            return None  # one side has no spread: no discrimination is possible
        return 100.0 * (self.sxy - centre) / most


def flags_for(stats: QuestionStatistics) -> list[str]:
    if not stats.enough_data:
        return []
    flags = []
    if stats.facility is not None and stats.facility > TOO_EASY_ABOVE:
        flags.append(f"too easy: {stats.facility:.0%} answered correctly "
                     f"(above {TOO_EASY_ABOVE:.0%})")
    if stats.facility is not None and stats.facility < TOO_HARD_BELOW:
        flags.append(f"too hard: {stats.facility:.0%} answered correctly "
                     f"(below {TOO_HARD_BELOW:.0%})")
    if stats.discrimination is not None and stats.discrimination < 0:
        flags.append(f"discriminates negatively ({stats.discrimination:.2f}): stronger "
                     "trainees tend to get it wrong; check the key and the wording")
    elif (stats.discriminative_efficiency is not None
          and stats.discriminative_efficiency < LOW_EFFICIENCY_BELOW):
        # A negative efficiency is flagged above already, as negative discrimination.
        flags.append(f"barely discriminates: efficiency {stats.discriminative_efficiency:.0f}% "
                     f"(below {LOW_EFFICIENCY_BELOW:.0f}%): stronger and weaker trainees do "
                     "about as well; check the wording and the options")
    return flags
