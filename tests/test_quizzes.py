"""Scoring, attempts, limits and retake waits (the service, without the web)."""

from __future__ import annotations

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from lms.content.markdown import render_markdown
from lms.models import Answer, Attempt, Module, Quiz, QuizVersion
from lms.models._types import utcnow
from lms.question_types import QUESTION_TYPES, ResponseError
from lms.services import quizzes

RIGHT = {"q-l1": ["b"], "q-l2": ["a", "c"], "q-l3": ["true"], "q-l4": ["x"]}


@pytest.fixture
def listening(db, content):
    return db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "listening"))


def submit(db, person, quiz, answers, now=None):
    attempt = quizzes.start_attempt(db, person.id, quiz, now=now)
    quizzes.submit_attempt(db, person.id, attempt, answers, now=now)
    db.commit()
    return attempt


def test_all_right_scores_100_and_passes(db, trainee, listening):
    attempt = submit(db, trainee, listening, RIGHT)
    assert attempt.score == 100.0 and attempt.passed is True
    assert db.scalar(select(func.count()).select_from(Answer)) == 4


def test_multiple_choice_is_all_or_nothing(db, trainee, listening):
    attempt = submit(db, trainee, listening, {**RIGHT, "q-l2": ["a"]})
    assert attempt.score == 75.0
    assert attempt.passed is True  # pass mark 75: exactly on the mark passes


def test_below_the_pass_mark_fails(db, trainee, listening):
    attempt = submit(db, trainee, listening, {**RIGHT, "q-l2": ["a"], "q-l3": ["false"]})
    assert attempt.score == 50.0 and attempt.passed is False


def test_attempt_limit_is_enforced(db, trainee, listening):
    now = utcnow()
    submit(db, trainee, listening, {**RIGHT, "q-l1": ["a"], "q-l2": ["b"]}, now=now)
    later = now + timedelta(hours=1)
    submit(db, trainee, listening, {**RIGHT, "q-l1": ["a"], "q-l2": ["b"]}, now=later)
    with pytest.raises(quizzes.QuizRuleError, match="used all your attempts"):
        quizzes.start_attempt(db, trainee.id, listening, now=later + timedelta(hours=1))


def test_retake_wait_is_enforced(db, trainee, listening):
    now = utcnow()
    submit(db, trainee, listening, {**RIGHT, "q-l1": ["a"], "q-l2": ["b"]}, now=now)
    with pytest.raises(quizzes.QuizRuleError, match="once the wait after a failed attempt"):
        quizzes.start_attempt(db, trainee.id, listening, now=now + timedelta(minutes=29))
    status = quizzes.quiz_status(db, trainee.id, listening, now=now + timedelta(minutes=29))
    assert status.wait_until == now + timedelta(minutes=30)
    attempt = quizzes.start_attempt(db, trainee.id, listening, now=now + timedelta(minutes=31))
    assert attempt.id is not None


def test_starting_twice_resumes_the_open_attempt(db, trainee, listening):
    first = quizzes.start_attempt(db, trainee.id, listening)
    db.commit()
    again = quizzes.start_attempt(db, trainee.id, listening)
    assert again.id == first.id


def test_second_submission_is_refused(db, trainee, listening):
    attempt = submit(db, trainee, listening, RIGHT)
    with pytest.raises(quizzes.TamperedSubmission, match="already submitted"):
        quizzes.submit_attempt(db, trainee.id, attempt, RIGHT)


def test_a_submitted_attempt_holds_what_the_database_holds(db, trainee, listening):
    # The submission sets the attempt's new fields without reading the row back: they must
    # be what a fresh read gives (UTC, whatever zone "now" came in; the new answers).
    attempt = quizzes.start_attempt(db, trainee.id, listening)
    assert attempt.answers == []  # loaded before the submission
    now = utcnow().astimezone(ZoneInfo("Africa/Nairobi"))
    quizzes.submit_attempt(db, trainee.id, attempt, RIGHT, now=now)
    held = (attempt.submitted_at, attempt.score, attempt.passed, len(attempt.answers))
    assert attempt.submitted_at.utcoffset() == timedelta(0)
    db.commit()
    db.expire_all()
    fresh = db.get(Attempt, attempt.id)
    assert held == (fresh.submitted_at, fresh.score, fresh.passed, len(fresh.answers))
    assert held[1:] == (100.0, True, len(attempt.question_order))


def test_unknown_option_and_unknown_question_are_refused(db, trainee, listening):
    attempt = quizzes.start_attempt(db, trainee.id, listening)
    with pytest.raises(quizzes.TamperedSubmission, match="unknown option"):
        quizzes.submit_attempt(db, trainee.id, attempt, {**RIGHT, "q-l1": ["zz"]})
    with pytest.raises(quizzes.TamperedSubmission, match="not in this quiz"):
        quizzes.submit_attempt(db, trainee.id, attempt, {**RIGHT, "q-p1": ["true"]})
    with pytest.raises(quizzes.TamperedSubmission, match="one answer"):
        quizzes.submit_attempt(db, trainee.id, attempt, {**RIGHT, "q-l1": ["a", "b"]})
    assert attempt.submitted_at is None


def test_unanswered_questions_are_reported_with_the_answers_given(db, trainee, listening):
    attempt = quizzes.start_attempt(db, trainee.id, listening)
    with pytest.raises(quizzes.IncompleteSubmission) as info:
        quizzes.submit_attempt(db, trainee.id, attempt, {"q-l1": ["b"]})
    assert sorted(info.value.missing) == ["l2", "l3", "l4"]
    assert info.value.responses["l1"] == ["b"]


def test_shuffle_orders_questions_per_attempt(db, content, make_person):
    quiz = db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "privacy"))
    orders = set()
    for seed in range(12):
        person = make_person()
        attempt = quizzes.start_attempt(db, person.id, quiz, rng=random.Random(seed))
        orders.add(tuple(attempt.question_order))
    assert orders == {("p1", "p2"), ("p2", "p1")}


def test_review_gives_key_and_marks_after_a_pass(db, trainee, listening):
    attempt = submit(db, trainee, listening, {**RIGHT, "q-l1": ["a"]})  # 75%: passed
    result = quizzes.attempt_result(db, attempt)
    assert result.show_key and (result.right, result.total) == (3, 4)
    items = result.items
    assert [i.question.key for i in items] == ["l1", "l2", "l3", "l4"]
    assert [i.number for i in items] == [1, 2, 3, 4]
    assert items[0].is_correct is False and items[0].correct_ids == ["b"]
    assert items[0].response == ["a"]


@pytest.mark.parametrize("name", sorted(QUESTION_TYPES))
def test_each_question_type_refuses_options_it_does_not_have(name):
    qtype = QUESTION_TYPES[name]
    with pytest.raises(ResponseError):
        qtype.parse_response(["nope"], ["a", "b"])


def test_racing_submissions_store_one_result(app, db, trainee, module):
    quiz = module("listening").quiz
    attempt = quizzes.start_attempt(db, trainee.id, quiz)
    db.commit()
    # A second request loads the open attempt before the first one closes it.
    other = app.extensions["lms"].db.session()
    stale = other.get(Attempt, attempt.id)
    assert stale.submitted_at is None and len(stale.quiz_version.questions) == 4
    other.commit()  # end its read transaction; the object keeps its stale state
    quizzes.submit_attempt(db, trainee.id, attempt, {k: [v] if isinstance(v, str) else v
                                                     for k, v in RIGHT.items()})
    db.commit()
    with pytest.raises(quizzes.TamperedSubmission, match="already submitted"):
        quizzes.submit_attempt(other, trainee.id, stale, {"q-l1": ["a"], "q-l2": ["a"],
                                                          "q-l3": ["false"], "q-l4": ["y"]})
    other.close()
    db.expire_all()
    assert db.get(Attempt, attempt.id).score == 100.0


def test_one_open_attempt_per_person_and_quiz(db, trainee, module):
    from sqlalchemy.exc import IntegrityError

    quiz = module("listening").quiz
    quizzes.start_attempt(db, trainee.id, quiz)
    db.commit()
    db.add(Attempt(person_id=trainee.id, quiz_id=quiz.id,
                   quiz_version_id=quiz.current_version_id, question_order=[]))
    with pytest.raises(IntegrityError):
        db.flush()


def test_open_attempt_counts_towards_the_limit(db, trainee, module):
    quiz = module("listening").quiz  # two attempts allowed
    now = utcnow()
    first = quizzes.start_attempt(db, trainee.id, quiz, now=now)
    quizzes.submit_attempt(db, trainee.id, first, {"q-l1": ["a"], "q-l2": ["b"],
                                                   "q-l3": ["false"], "q-l4": ["y"]}, now=now)
    later = now + timedelta(hours=1)
    quizzes.start_attempt(db, trainee.id, quiz, now=later)  # the second, left open
    db.commit()
    status = quizzes.quiz_status(db, trainee.id, quiz, now=later)
    assert status.attempts_used == 2 and status.attempts_left == 0
    assert status.open_attempt_id is not None


# --- when the key may be shown (QuizVersion.review) ---------------------------------------

WRONG = {"q-l1": ["a"], "q-l2": ["b"], "q-l3": ["false"], "q-l4": ["y"]}


def set_review(db, quiz, rule):
    quiz.current_version.review = rule
    db.commit()


def test_after_pass_hides_the_key_of_a_failed_attempt(db, trainee, listening):
    assert listening.current_version.review == "after_pass"  # the default
    attempt = submit(db, trainee, listening, {**RIGHT, "q-l1": ["a"], "q-l2": ["a"]})
    result = quizzes.attempt_result(db, attempt)
    assert not result.show_key and result.items == []
    assert (result.right, result.total) == (2, 4)
    assert [(w.number, w.prompt_html) for w in result.wrong] == [
        (1, "<p>What helps most?</p>"),
        (2, "<p>Which are reflections? Choose all that apply.</p>")]
    # Nothing in the result carries the key: wrong items have a number and a prompt only.
    assert all(set(vars(w)) == {"number", "prompt_html"} for w in result.wrong)


def test_after_pass_shows_every_attempt_once_passed(db, trainee, listening):
    now = utcnow()
    failed = submit(db, trainee, listening, WRONG, now=now)
    submit(db, trainee, listening, RIGHT, now=now + timedelta(hours=1))
    result = quizzes.attempt_result(db, failed)
    assert result.show_key and [i.correct_ids for i in result.items][0] == ["b"]


def test_after_last_attempt_shows_the_key_when_no_attempts_are_left(db, trainee, listening):
    set_review(db, listening, "after_last_attempt")  # two attempts allowed
    now = utcnow()
    first = submit(db, trainee, listening, WRONG, now=now)
    assert not quizzes.attempt_result(db, first, now=now).show_key
    # The last attempt open: it is being answered, so the first one's key stays hidden.
    later = now + timedelta(hours=1)
    last = quizzes.start_attempt(db, trainee.id, listening, now=later)
    db.commit()
    assert not quizzes.attempt_result(db, first, now=later).show_key
    quizzes.submit_attempt(db, trainee.id, last, WRONG, now=later)
    db.commit()
    assert quizzes.attempt_result(db, first, now=later).show_key
    assert quizzes.attempt_result(db, last, now=later).show_key


def test_after_last_attempt_shows_the_key_after_a_pass(db, trainee, listening):
    set_review(db, listening, "after_last_attempt")
    attempt = submit(db, trainee, listening, RIGHT)
    assert quizzes.attempt_result(db, attempt).show_key


def test_after_last_attempt_with_unlimited_attempts_waits_for_a_pass(db, trainee, module):
    quiz = module("privacy").quiz  # attempts_allowed: 0 (no limit)
    set_review(db, quiz, "after_last_attempt")
    attempt = submit(db, trainee, quiz, {"q-p1": ["true"], "q-p2": ["b"]})
    assert not quizzes.attempt_result(db, attempt).show_key


def test_always_shows_the_key_after_a_fail(db, trainee, listening):
    set_review(db, listening, "always")
    attempt = submit(db, trainee, listening, WRONG)
    result = quizzes.attempt_result(db, attempt)
    assert result.show_key and len(result.items) == 4


def test_an_unknown_review_setting_hides_the_key(db, trainee, listening):
    set_review(db, listening, "whenever")
    attempt = submit(db, trainee, listening, WRONG)
    assert not quizzes.attempt_result(db, attempt).show_key


def test_the_attempts_own_version_decides(db, trainee, listening):
    # An attempt at a version that said "always" keeps showing its key after a new version
    # with the default; an attempt at the new version does not.
    set_review(db, listening, "always")
    now = utcnow()
    old = submit(db, trainee, listening, WRONG, now=now)
    assert quizzes.attempt_result(db, old, now=now).show_key
    old_version = listening.current_version
    new_version = QuizVersion(quiz_id=listening.id, number=2, content_hash="x", pass_mark=75,
                              attempts_allowed=3, retake_wait_minutes=0, shuffle=False)
    db.add(new_version)
    db.flush()
    listening.current_version_id = new_version.id
    db.commit()
    db.refresh(listening)
    assert old.quiz_version_id == old_version.id
    assert quizzes.attempt_result(db, old, now=now).show_key
    assert new_version.review == "after_pass"


def test_reread_links_follow_the_module_objectives_and_anchors(db, trainee, listening, module):
    listening_module = module("listening")
    # Only listen-two has an element with its id on the module page.
    listening_module.body_html += render_markdown("## Reflecting {#listen-two}")
    db.commit()
    attempt = submit(db, trainee, listening, {**RIGHT, "q-l2": ["a"], "q-l4": ["y"],
                                              "q-l1": ["a"]})
    links = quizzes.attempt_result(db, attempt).reread
    # Wrong: l1 (listen-one), l2 and l4 (listen-two); each objective once, in module order.
    assert [(r.objective_id, r.text, r.anchor) for r in links] == [
        ("listen-one", "Listen well.", None), ("listen-two", "Reflect back.", "c-listen-two")]


def test_reread_link_for_an_objective_the_module_no_longer_has(db, module):
    links = quizzes.reread_links(module("listening"), ["gone"])
    assert [(r.objective_id, r.text, r.anchor) for r in links] == [(None, None, None)]


def test_a_summary_from_loaded_attempts_equals_the_databases(db, trainee, make_person,
                                                            listening, count_queries):
    # The quiz and progress pages load the attempts to list them, and summarise those rather
    # than asking again: the answer must be the same, whatever the order they came in.
    now = utcnow() - timedelta(days=2)
    other = make_person("trainee", name="Someone Else")
    submit(db, trainee, listening, {**RIGHT, "q-l1": ["a"], "q-l2": ["b"]}, now=now)
    submit(db, other, listening, RIGHT, now=now)
    quizzes.start_attempt(db, trainee.id, listening, now=now + timedelta(hours=1))
    db.commit()
    asked = quizzes.summarise_attempts(db, trainee.id, [listening.id])
    loaded = quizzes.attempt_history(db, trainee.id)
    with count_queries() as statements:
        from_loaded = quizzes.summarise_attempts(db, trainee.id, [listening.id],
                                                 list(reversed(loaded)))
        status = quizzes.quiz_status(db, trainee.id, listening, attempts=loaded)
    assert statements == []
    assert from_loaded == asked
    assert (asked[listening.id].used, asked[listening.id].best_score) == (2, 50.0)
    assert asked[listening.id].open_attempt_id is not None
    assert status == quizzes.quiz_status(db, trainee.id, listening)


def test_the_quiz_page_reads_the_attempts_once(trainee, login, count_queries):
    client = login(trainee)
    client.get("/modules/listening/quiz")
    with count_queries() as statements:
        assert client.get("/modules/listening/quiz").status_code == 200
    assert sum("FROM lms_attempt" in s for s in statements) == 1


def test_a_summary_leaves_out_attempts_at_other_quizzes(db, trainee, listening):
    # The dashboard hands over every row its one statement read; a quiz not asked about (a
    # retired one, another curriculum's) must not count, nor be given a summary.
    now = utcnow() - timedelta(days=2)
    rows = [(1, listening.id, now, 50.0, False), (2, listening.id + 1000, now, 100.0, True),
            (3, listening.id, None, None, None)]
    found = quizzes.summarise_attempt_rows([listening.id], rows)
    assert list(found) == [listening.id]
    summary = found[listening.id]
    assert (summary.used, summary.best_score, summary.passed) == (2, 50.0, False)
    assert (summary.open_attempt_id, summary.last_failed_at) == (3, now)
