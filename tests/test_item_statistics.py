"""Item statistics on a hand-computed example."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import Module, Quiz
from lms.models._types import utcnow
from lms.services import quizzes
from lms.services.item_statistics import (
    MIN_ATTEMPTS_FOR_FLAGS,
    discriminative_efficiency,
    pearson,
    quiz_statistics,
)

RIGHT = {"l1": ["b"], "l2": ["a", "c"], "l3": ["true"], "l4": ["x"]}
WRONG = {"l1": ["a"], "l2": ["a"], "l3": ["false"], "l4": ["y"]}


@pytest.fixture
def quiz(db, content):
    return db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "listening"))


def answer(db, person, quiz, right: set[str], now):
    form = {f"q-{key}": (RIGHT[key] if key in right else WRONG[key]) for key in RIGHT}
    attempt = quizzes.start_attempt(db, person.id, quiz, now=now)
    quizzes.submit_attempt(db, person.id, attempt, form, now=now)
    db.commit()


def test_hand_computed_facility_discrimination_and_options(db, quiz, make_person):
    now = utcnow()
    # Marks per trainee (l1, l2, l3, l4):  A 1111, B 1101, C 1001, D 0011.
    pattern = {"A": {"l1", "l2", "l3", "l4"}, "B": {"l1", "l2", "l4"},
               "C": {"l1", "l4"}, "D": {"l3", "l4"}}
    people = {name: make_person("trainee", name=name) for name in pattern}
    for name, right in pattern.items():
        answer(db, people[name], quiz, right, now)
    # A second attempt by A, all wrong: left out by default.
    answer(db, people["A"], quiz, set(), now + timedelta(days=1))

    stats = quiz_statistics(db, quiz)
    assert stats.attempts == 4 and stats.first_only
    by_key = {s.question.key: s for s in stats.questions}
    assert [by_key[k].n for k in ("l1", "l2", "l3", "l4")] == [4, 4, 4, 4]
    assert by_key["l1"].facility == 0.75
    assert by_key["l2"].facility == 0.5
    assert by_key["l3"].facility == 0.5
    assert by_key["l4"].facility == 1.0
    # Rest scores (total minus the item): l1 -> A2 B1 C0 D1: sxy = 0, r = 0.
    assert by_key["l1"].discrimination == pytest.approx(0.0)
    # l2 marks 1,1,0,0 vs rest 3,2,2,2: r = 0.5 / sqrt(1 * 0.75) = 0.57735.
    assert by_key["l2"].discrimination == pytest.approx(0.57735, abs=1e-5)
    # l3 marks 1,0,0,1 vs rest 3,3,2,1: r = -0.5 / sqrt(1 * 2.75) = -0.30151.
    assert by_key["l3"].discrimination == pytest.approx(-0.30151, abs=1e-5)
    assert by_key["l4"].discrimination is None  # everyone right: no spread, no correlation
    # Efficiency, 100 * covariance / the covariance of both sorted ascending (sums of products
    # of deviations; the n - 1 cancels). l2: actual 0.5; sorted marks 0,0,1,1 against sorted
    # rest 2,2,2,3 (mean 2.25) give 0.125 + 0.125 - 0.125 + 0.375 = 0.5: 100%, as good as a
    # question with these marks can be, though its index is only 0.577.
    assert by_key["l2"].discriminative_efficiency == pytest.approx(100.0)
    # l3: actual -0.5; sorted 0,0,1,1 against 1,2,3,3 (mean 2.25) give
    # 0.625 + 0.125 + 0.375 + 0.375 = 1.5: -0.5 / 1.5 = -33.3%.
    assert by_key["l3"].discriminative_efficiency == pytest.approx(-100 / 3)
    assert by_key["l1"].discriminative_efficiency == pytest.approx(0.0)
    assert by_key["l4"].discriminative_efficiency is None
    assert not any(s.enough_data for s in stats.questions)
    assert by_key["l1"].option_counts == {"a": 1, "b": 3, "c": 0}
    assert by_key["l2"].option_counts == {"a": 4, "b": 0, "c": 2}
    # Fewer than 10 attempts: nothing is flagged, even the negative discrimination.
    assert all(s.flags == [] for s in stats.questions)
    assert stats.mean_score == pytest.approx(100 * (4 + 3 + 2 + 2) / 16)

    every = quiz_statistics(db, quiz, first_only=False)
    assert every.attempts == 5
    assert {s.question.key: s.n for s in every.questions}["l1"] == 5


def test_flags_need_ten_attempts_and_give_reasons(db, quiz, make_person):
    now = utcnow()
    for n in range(10):
        right = {"l1", "l4"} | ({"l2"} if n == 0 else set()) | ({"l3"} if n < 5 else set())
        answer(db, make_person("trainee"), quiz, right, now)
    by_key = {s.question.key: s for s in quiz_statistics(db, quiz).questions}
    assert by_key["l1"].n == 10
    assert any(f.startswith("too easy") for f in by_key["l1"].flags)
    assert any(f.startswith("too hard") for f in by_key["l2"].flags)
    assert by_key["l3"].flags == []


def test_statistics_over_a_cohort_only(db, quiz, make_person, make_cohort):
    now = utcnow()
    inside, outside = make_person("trainee"), make_person("trainee")
    cohort = make_cohort(inside)
    answer(db, inside, quiz, set(RIGHT), now)
    answer(db, outside, quiz, set(), now)
    assert quiz_statistics(db, quiz, cohort_id=cohort.id).attempts == 1
    assert quiz_statistics(db, quiz).attempts == 2


def test_pearson():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson([1, 1, 1], [1, 2, 3]) is None
    assert pearson([1], [1]) is None


FIVE = {"A": {"l1", "l2", "l3", "l4"}, "B": {"l1", "l2", "l3"}, "C": {"l2", "l3"},
        "D": {"l1"}, "E": {"l2"}}


def test_hand_computed_discriminative_efficiency(db, quiz, make_person):
    now = utcnow()
    for name, right in FIVE.items():
        answer(db, make_person("trainee", name=name), quiz, right, now)
    # l1 marks A..E: 1 1 0 1 0 (mean 0.6); rest of the quiz: 3 2 2 0 1 (mean 1.6).
    # Deviations: marks .4 .4 -.6 .4 -.6; rest 1.4 .4 .4 -1.6 -.6.
    # Actual sum of products: .56 + .16 - .24 - .64 + .36 = 0.20.
    # Sorted marks 0 0 1 1 1 against sorted rest 0 1 2 2 3: deviations -.6 -.6 .4 .4 .4 and
    # -1.6 -.6 .4 .4 1.4; products .96 + .36 + .16 + .16 + .56 = 2.20 (the most possible).
    # Efficiency: 100 * 0.20 / 2.20 = 100 / 11 = 9.09%.
    # The index: sxx = 3(.16) + 2(.36) = 1.2, syy = 1.96 + .16 + .16 + 2.56 + .36 = 5.2,
    # r = 0.2 / sqrt(6.24) = 0.0801: weak, but the most these marks allow is 2.2 / sqrt(6.24)
    # = 0.881, so the question reaches 9% of what it could.
    by_key = {s.question.key: s for s in quiz_statistics(db, quiz).questions}
    l1 = by_key["l1"]
    assert l1.discriminative_efficiency == pytest.approx(100 / 11)
    assert l1.discrimination == pytest.approx(0.2 / 6.24 ** 0.5)
    # Five attempts: below the minimum, so not enough data and no flag, even below 15%.
    assert l1.n == 5 < MIN_ATTEMPTS_FOR_FLAGS and not l1.enough_data and l1.flags == []


def test_low_efficiency_is_flagged_from_the_minimum(db, quiz, make_person):
    now = utcnow()
    # The same five patterns twice: every deviation repeats, so both sums double and the
    # efficiency stays 100 / 11 = 9.09% (below 15%), now over 10 attempts.
    for _round in range(2):
        for right in FIVE.values():
            answer(db, make_person("trainee"), quiz, right, now)
    l1 = {s.question.key: s for s in quiz_statistics(db, quiz).questions}["l1"]
    assert l1.n == 10 and l1.enough_data
    assert l1.discriminative_efficiency == pytest.approx(100 / 11)
    assert [f for f in l1.flags if f.startswith("barely discriminates")] == [
        "barely discriminates: efficiency 9% (below 15%): stronger and weaker trainees do "
        "about as well; check the wording and the options"]


def test_discriminative_efficiency_edges():
    assert discriminative_efficiency([0, 1], [0, 1]) == pytest.approx(100.0)
    assert discriminative_efficiency([0, 1], [1, 0]) == pytest.approx(-100.0)
    assert discriminative_efficiency([1, 1, 1], [0, 1, 2]) is None  # no spread in the marks
    assert discriminative_efficiency([0, 1, 1], [2, 2, 2]) is None  # no spread in the rest
    assert discriminative_efficiency([1], [1]) is None


def test_statistics_page_says_not_enough_data_and_shows_efficiency(db, quiz, make_person, app):
    from tests.conftest import log_in

    now = utcnow()
    for right in FIVE.values():
        answer(db, make_person("trainee"), quiz, right, now)
    client = app.test_client()
    log_in(client, make_person("admin"))
    page = client.get("/cohorts/statistics/listening").get_data(as_text=True)
    assert "discrimination and efficiency: not enough data" in page
    assert "first attempt at this version counts as a first attempt" in page
    for right in FIVE.values():
        answer(db, make_person("trainee"), quiz, right, now)
    page = client.get("/cohorts/statistics/listening").get_data(as_text=True)
    assert "efficiency: not enough data" not in page and "efficiency 9%" in page


def test_the_database_histograms_agree_with_the_figures_from_every_answer(db, quiz,
                                                                          make_person):
    """The statistics come from grouped counts; the reference is every answer in a list."""
    import random

    from lms.models import Answer, Attempt

    rng = random.Random(5)
    now = utcnow()
    for number in range(40):
        person = make_person("trainee", name=f"T{number}")
        # Stronger trainees get more right, so the figures are not all zero.
        right = {key for key in RIGHT if rng.random() < 0.3 + number / 80}
        answer(db, person, quiz, right, now)
        if number % 3 == 0:  # a second attempt: counted only with first_only=False
            answer(db, person, quiz, set(RIGHT) - right, now + timedelta(hours=1))
    for first_only in (True, False):
        stats = quiz_statistics(db, quiz, first_only=first_only)
        rows = db.execute(select(Answer.attempt_id, Answer.question_id, Answer.mark)
                          .join(Attempt, Attempt.id == Answer.attempt_id)
                          .where(Attempt.quiz_id == quiz.id)
                          .order_by(Attempt.started_at, Attempt.id)).all()
        firsts: dict[int, int] = {}
        if first_only:
            for attempt_id, person_id in db.execute(
                    select(Attempt.id, Attempt.person_id).where(Attempt.quiz_id == quiz.id)
                    .order_by(Attempt.started_at, Attempt.id)):
                firsts.setdefault(person_id, attempt_id)
            rows = [r for r in rows if r.attempt_id in set(firsts.values())]
        totals: dict[int, float] = {}
        for row in rows:
            totals[row.attempt_id] = totals.get(row.attempt_id, 0.0) + row.mark
        assert stats.attempts == len(totals) == (40 if first_only else 54)
        for item in stats.questions:
            mine = [r for r in rows if r.question_id == item.question.id]
            xs = [r.mark for r in mine]
            ys = [totals[r.attempt_id] - r.mark for r in mine]
            assert item.n == len(xs)
            assert item.facility == pytest.approx(sum(xs) / len(xs))
            assert item.discrimination == pytest.approx(pearson(xs, ys))
            assert item.discriminative_efficiency == pytest.approx(
                discriminative_efficiency(xs, ys))


def test_figures_are_remembered_until_an_attempt_or_the_cohort_changes(db, quiz, make_person,
                                                                       make_cohort,
                                                                       count_queries):
    now = utcnow()
    people = [make_person("trainee", name=f"P{n}") for n in range(3)]
    cohort = make_cohort(*people[:2])
    answer(db, people[0], quiz, {"l1", "l2"}, now)
    answer(db, people[1], quiz, {"l1"}, now)
    answer(db, people[2], quiz, set(), now)
    assert quiz_statistics(db, quiz).attempts == 3
    with count_queries() as again:
        stats = quiz_statistics(db, quiz)
    assert stats.attempts == 3
    assert len(again) == 2  # the questions, and whether the attempts counted have changed
    # A new submission is counted at once.
    answer(db, make_person("trainee", name="P3"), quiz, set(RIGHT), now)
    stats = quiz_statistics(db, quiz)
    assert stats.attempts == 4
    assert {s.question.key: s.facility for s in stats.questions}["l3"] == 0.25
    # A cohort's figures follow its members.
    assert quiz_statistics(db, quiz, cohort_id=cohort.id).attempts == 2
    from lms.models import Enrolment

    db.add(Enrolment(cohort_id=cohort.id, person_id=people[2].id, enrolled_on=now.date()))
    db.commit()
    assert quiz_statistics(db, quiz, cohort_id=cohort.id).attempts == 3


def test_new_submissions_are_added_to_what_is_remembered_exactly(db, quiz, make_person,
                                                                 make_cohort, monkeypatch):
    """Adding the new attempts' answers gives the same figures as working everything out."""
    from lms.services import item_statistics

    now = utcnow()
    people = [make_person("trainee", name=f"Q{n}") for n in range(6)]
    cohort = make_cohort(*people)
    for number, person in enumerate(people[:4]):
        answer(db, person, quiz, set(list(RIGHT)[:number + 1]), now)
    for first_only in (True, False):
        for scope in (None, cohort.id):
            quiz_statistics(db, quiz, first_only=first_only, cohort_id=scope)
    # A retake (not a first attempt) and two newcomers' first attempts.
    answer(db, people[0], quiz, set(RIGHT), now + timedelta(hours=2))
    answer(db, people[4], quiz, {"l1"}, now + timedelta(hours=3))
    answer(db, people[5], quiz, {"l2", "l3"}, now + timedelta(hours=4))

    def figures(first_only, scope):
        stats = quiz_statistics(db, quiz, first_only=first_only, cohort_id=scope)
        return (stats.attempts, stats.mean_score,
                [(s.n, s.facility, s.discrimination, s.discriminative_efficiency,
                  s.option_counts) for s in stats.questions])

    def never(*_args, **_kwargs):
        raise AssertionError("worked out again instead of adding the new attempts")

    scopes = [(first_only, scope) for first_only in (True, False) for scope in (None, cohort.id)]
    with monkeypatch.context() as patched:
        patched.setattr(item_statistics, "_figures", never)
        added = {key: figures(*key) for key in scopes}
    item_statistics._remembered.clear()
    for key in scopes:
        assert added[key] == figures(*key), key
        assert added[key][0] == (6 if key[0] else 7)


def test_a_submission_committed_while_the_figures_are_worked_out_counts_once(
        db, quiz, make_person, monkeypatch):
    """Another worker's submission lands between the fingerprint and the figures."""
    from lms.services import item_statistics

    now = utcnow()
    for number in range(3):
        answer(db, make_person("trainee", name=f"R{number}"), quiz, {"l1"}, now)
    real = item_statistics._figures
    late = make_person("trainee", name="Late")

    def meanwhile(*args, **kwargs):
        answer(db, late, quiz, set(RIGHT), now + timedelta(minutes=1))
        return real(*args, **kwargs)

    monkeypatch.setattr(item_statistics, "_figures", meanwhile)
    assert quiz_statistics(db, quiz).attempts == 3  # what the fingerprint saw
    monkeypatch.setattr(item_statistics, "_figures", real)
    again = quiz_statistics(db, quiz)
    assert again.attempts == 4
    item_statistics._remembered.clear()
    fresh = quiz_statistics(db, quiz)
    assert [s.facility for s in again.questions] == [s.facility for s in fresh.questions]
