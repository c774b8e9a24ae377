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
from dataclasses import dataclass, field

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

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


def scoped_attempts(version_id: int, cohort_id: int | None, first_only: bool):
    """A subquery of the attempt ids that count (first per trainee unless ``first_only`` is off)."""
    base = select(Attempt.id.label("id"), Attempt.person_id, Attempt.started_at).where(
        Attempt.quiz_version_id == version_id, Attempt.submitted_at.is_not(None))
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
    """Two queries (the questions, then every counted answer), then arithmetic."""
    version = version or quiz.current_version
    questions = list(session.scalars(select(Question).where(
        Question.quiz_version_id == version.id).order_by(Question.position)))
    scope = scoped_attempts(version.id, cohort_id, first_only)
    # The response comes back as its JSON text: a quiz has few distinct responses, so each is
    # parsed once (see _parse) instead of once per answer.
    rows = session.execute(
        select(Answer.attempt_id, Answer.question_id, Answer.mark,
               cast(Answer.response, Text))
        .where(Answer.attempt_id.in_(select(scope.c.id)))).all()
    parsed: dict[str, list[str]] = {}

    totals: dict[int, float] = {}
    by_question: dict[int, dict[int, float]] = {q.id: {} for q in questions}
    chosen: dict[int, dict[str, int]] = {q.id: {o["id"]: 0 for o in q.options}
                                         for q in questions}
    for attempt_id, question_id, mark, response in rows:
        totals[attempt_id] = totals.get(attempt_id, 0.0) + mark
        by_question.setdefault(question_id, {})[attempt_id] = mark
        counts = chosen.setdefault(question_id, {})
        if response not in parsed:
            parsed[response] = json.loads(response) if response else []
        for option_id in parsed[response]:
            counts[option_id] = counts.get(option_id, 0) + 1

    results = []
    for question in questions:
        marks = by_question[question.id]
        n = len(marks)
        facility = (sum(marks.values()) / n) if n else None
        attempt_ids = list(marks)
        item_marks = [marks[a] for a in attempt_ids]
        rest = [totals[a] - marks[a] for a in attempt_ids]
        stats = QuestionStatistics(question, n, facility,
                                   pearson(item_marks, rest) if n else None,
                                   chosen[question.id],
                                   discriminative_efficiency(item_marks, rest) if n else None)
        stats.flags = flags_for(stats)
        results.append(stats)
    count = len(totals)
    mean = (100.0 * sum(totals.values()) / (count * len(questions))) \
        if count and questions else None
    return QuizStatistics(quiz, version, count, first_only, mean, results)


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
