"""The trainee's journey through the web pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.content.markdown import render_markdown
from lms.models import Answer, Attempt, ModuleProgress
from lms.models._types import utcnow
from lms.services import progress, quizzes
from tests.conftest import field_names, log_in

RIGHT = {"q-l1": "b", "q-l2": ["a", "c"], "q-l3": "true", "q-l4": "x"}


def start(client, slug="listening"):
    response = client.post(f"/modules/{slug}/quiz")
    assert response.status_code == 302
    match = re.search(r"/attempts/(\d+)$", response.location)
    assert match, response.location
    return int(match.group(1))


def test_dashboard_shows_states_and_next_step(trainee, login):
    client = login(trainee)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Mini curriculum" in page
    assert page.count("Not started") == 3
    assert "Read “Listening”" in page  # the next step


def test_module_page_has_content_objectives_time_and_neighbours(trainee, login):
    page = login(trainee).get("/modules/privacy").get_data(as_text=True)
    assert "What is said stays here" in page
    assert "Keep things private." in page
    assert "About 15 minutes" in page
    assert 'rel="prev" href="/modules/listening"' in page
    assert 'rel="next" href="/modules/wellbeing"' in page
    assert "Mark as read" in page


def test_mark_as_read_is_stored_and_moves_on(db, trainee, login):
    client = login(trainee)
    response = client.post("/modules/listening/read")
    assert response.status_code == 302 and response.location.endswith("/modules/listening/quiz")
    assert db.scalar(select(func.count()).select_from(ModuleProgress)) == 1
    client.post("/modules/listening/read")  # idempotent
    assert db.scalar(select(func.count()).select_from(ModuleProgress)) == 1
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Read · quiz to do" in page
    assert "Take the quiz for “Listening”" in page


def test_module_without_quiz_is_complete_once_read(trainee, login):
    client = login(trainee)
    response = client.post("/modules/wellbeing/read")
    assert response.location.endswith("/dashboard")
    assert "1 of 3 modules done" in client.get("/dashboard").get_data(as_text=True)


def test_unknown_module_is_a_404_page(trainee, login):
    response = login(trainee).get("/modules/nope")
    assert response.status_code == 404
    assert "There is no module with that name" in response.get_data(as_text=True)


def test_module_of_a_curriculum_not_enrolled_is_a_404(make_person, login, content):
    outsider = make_person("trainee")  # enrolled nowhere
    client = login(outsider)
    assert client.get("/modules/listening").status_code == 404
    assert client.post("/modules/listening/quiz").status_code == 404
    assert "not enrolled" in client.get("/dashboard").get_data(as_text=True)


def test_quiz_page_never_contains_the_key_or_rationales(trainee, login):
    client = login(trainee)
    attempt_id = start(client)
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert set(field_names(page)) == {"q-l1", "q-l2", "q-l3", "q-l4"}
    assert "RATIONALE" not in page
    assert "correct" not in page.lower()
    assert "answer: " not in page


def test_full_quiz_flow_scores_and_shows_feedback(db, trainee, login):
    client = login(trainee)
    attempt_id = start(client)
    response = client.post(f"/attempts/{attempt_id}", data={**RIGHT, "q-l3": "false"})
    assert response.status_code == 302
    assert response.location.endswith(f"/attempts/{attempt_id}/result")
    page = client.get(response.location).get_data(as_text=True)
    assert "75%" in page and "Passed" in page
    assert "3 of 4 right" in page
    assert "RATIONALE-L3" in page  # rationale shown after submission
    attempt = db.get(Attempt, attempt_id)
    assert attempt.score == 75.0 and attempt.passed
    assert attempt.quiz_version_id is not None
    assert db.scalar(select(func.count()).select_from(Answer)) == 4
    progress = client.get("/progress").get_data(as_text=True)
    assert "75%" in progress and "Quiz passed" in progress


def test_failed_quiz_shows_attempts_left(trainee, login):
    client = login(trainee)
    attempt_id = start(client)
    client.post(f"/attempts/{attempt_id}", data={**RIGHT, "q-l1": "a", "q-l2": "a"})
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Quiz not passed yet · 50% · 1 attempt left" in page
    # The retake wait (30 minutes) is enforced on the web too.
    response = client.post("/modules/listening/quiz")
    assert response.status_code == 302 and response.location.endswith("/modules/listening/quiz")
    page = client.get(response.location).get_data(as_text=True)
    assert page.count("once the wait after a failed attempt") == 1  # said once, not twice


def test_unanswered_question_rerenders_with_what_was_chosen(db, trainee, login):
    client = login(trainee)
    attempt_id = start(client)
    response = client.post(f"/attempts/{attempt_id}", data={"q-l1": "b", "q-l2": ["a", "c"]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "2 questions still need an answer" in page
    assert re.search(r'name="q-l1" value="b" checked', page)
    assert re.search(r'name="q-l2" value="a" checked', page)
    assert re.search(r'name="q-l2" value="c" checked', page)
    assert not re.search(r'name="q-l2" value="b" checked', page)
    assert db.get(Attempt, attempt_id).submitted_at is None
    assert db.scalar(select(func.count()).select_from(Answer)) == 0


@pytest.mark.parametrize("tampered, reason", [
    ({**RIGHT, "q-l1": "zz"}, "unknown option"),
    ({**RIGHT, "q-nope": "a"}, "is not in this quiz"),
    ({**RIGHT, "q-l1": ["a", "b"]}, "takes one answer"),
])
def test_tampered_submission_is_a_400_and_stores_nothing(db, trainee, login, tampered, reason):
    client = login(trainee)
    attempt_id = start(client)
    response = client.post(f"/attempts/{attempt_id}", data=tampered)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Attempt, attempt_id).submitted_at is None
    assert db.scalar(select(func.count()).select_from(Answer)) == 0


def test_a_second_submission_of_the_same_attempt_gets_the_first_ones_result(db, trainee,
                                                                             login):
    client = login(trainee)
    attempt_id = start(client)
    assert client.post(f"/attempts/{attempt_id}", data=RIGHT).status_code == 302
    response = client.post(f"/attempts/{attempt_id}", data={**RIGHT, "q-l1": "a"})
    assert response.status_code == 302  # a double-click, or the back button: the first counts
    assert response.location.endswith(f"/attempts/{attempt_id}/result")
    db.expire_all()
    assert db.get(Attempt, attempt_id).score == 100.0
    assert db.scalar(select(func.count()).select_from(Answer)) == 4


def test_a_submission_reads_only_what_it_must(db, trainee, login, count_queries):
    client = login(trainee)
    attempt_id = start(client)
    with count_queries() as statements:
        assert client.post(f"/attempts/{attempt_id}", data=RIGHT).status_code == 302
    # The log-in session (with whether the trainee came by LTI) and the attempt; then
    # closing the attempt and the answers (one executemany). The quiz version and its
    # questions come from the content cache (the questions were read when the attempt
    # started), and the attempt's new fields are known without reading it back.
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2, reads
    assert len(statements) == 4, statements
    assert not [s for s in statements if "FROM lms_question" in s]
    assert not [s for s in statements if s.lstrip().startswith("SELECT EXISTS")]
    db.expire_all()
    assert db.get(Attempt, attempt_id).score == 100.0


def test_a_submission_scores_without_copying_the_questions(db, trainee, login, monkeypatch):
    # Scoring only reads the questions: the process's cached ones, not a copy per question
    # merged into the request's session (about a sixth of a submission's CPU time).
    from lms.models import Question
    from lms.services import content_cache

    client = login(trainee)
    attempt_id = start(client)
    copied: list[type] = []
    attach = content_cache.Content._attach

    def noting(self, item):
        copied.append(type(item))
        return attach(self, item)

    monkeypatch.setattr(content_cache.Content, "_attach", noting)
    wrong = {**RIGHT, "q-l2": ["a"]}  # a multiple choice half right scores nothing
    assert client.post(f"/attempts/{attempt_id}", data=wrong).status_code == 302
    assert Question not in copied
    db.expire_all()
    attempt = db.get(Attempt, attempt_id)
    assert (attempt.score, attempt.passed) == (75.0, True)
    marks = dict(db.execute(select(Answer.question_id, Answer.mark)
                            .where(Answer.attempt_id == attempt_id)).all())
    assert sorted(marks.values()) == [0.0, 1.0, 1.0, 1.0]


def test_another_trainees_attempt_is_refused(db, trainee, make_person, make_cohort, app):
    client = app.test_client()
    from tests.conftest import log_in

    log_in(client, trainee)
    attempt_id = start(client)
    client.post(f"/attempts/{attempt_id}", data=RIGHT)

    other = make_person("trainee")
    make_cohort(other)
    other_client = app.test_client()
    log_in(other_client, other)
    for url in (f"/attempts/{attempt_id}", f"/attempts/{attempt_id}/result"):
        response = other_client.get(url)
        assert response.status_code == 404
        assert "RATIONALE" not in response.get_data(as_text=True)
    assert other_client.post(f"/attempts/{attempt_id}", data=RIGHT).status_code == 404
    assert "Tess Trainee" not in other_client.get("/progress").get_data(as_text=True)


def test_dashboard_query_count_does_not_grow_with_attempts(db, trainee, login, count_queries):
    client = login(trainee)
    client.get("/dashboard")
    with count_queries() as few:
        client.get("/dashboard")
    attempt_id = start(client)
    client.post(f"/attempts/{attempt_id}", data=RIGHT)
    for slug in ("listening", "privacy", "wellbeing"):
        client.post(f"/modules/{slug}/read")
    with count_queries() as many:
        client.get("/dashboard")
    assert len(many) == len(few)


def test_dashboard_reads_reads_and_attempts_in_one_statement(db, trainee, module, login,
                                                            count_queries):
    # One round trip for both on PostgreSQL; the module states still come out right: read,
    # passed, failed with attempts left, and an attempt in progress.
    listening, privacy, wellbeing = (module(s) for s in ("listening", "privacy", "wellbeing"))
    progress.mark_read(db, trainee.id, listening)
    passed = quizzes.start_attempt(db, trainee.id, listening.quiz)
    quizzes.submit_attempt(db, trainee.id, passed, {"q-l1": ["b"], "q-l2": ["a", "c"],
                                                    "q-l3": ["true"], "q-l4": ["x"]})
    quizzes.start_attempt(db, trainee.id, privacy.quiz)
    db.commit()
    client = login(trainee)
    client.get("/dashboard")
    with count_queries() as statements:
        page = client.get("/dashboard").get_data(as_text=True)
    reading = [s for s in statements if "lms_module_progress" in s]
    assert len(reading) == 1 and "lms_attempt" in reading[0] and "UNION ALL" in reading[0]
    assert len(statements) == 5  # log-in, enrolments, sessions, reads with attempts, readiness
    assert "Quiz in progress" in page
    states = {s.module.slug: s for c in progress.trainee_progress(db, trainee.id)
              for s in c.modules}
    assert states["listening"].is_read and states["listening"].quiz.passed
    assert states["listening"].quiz.best_score == 100
    assert states["privacy"].quiz.open_attempt_id is not None and not states["privacy"].is_read
    assert states["wellbeing"].quiz is None or states["wellbeing"].quiz.attempts_used == 0


def test_progress_page_shows_only_own_attempts(app, db, trainee, make_person, make_cohort,
                                               module):
    other = make_person("trainee")
    make_cohort(other)
    quiz = module("listening").quiz
    attempt = quizzes.start_attempt(db, other.id, quiz)
    quizzes.submit_attempt(db, other.id, attempt, {"q-l1": ["a"], "q-l2": ["b"],
                                                   "q-l3": ["true"], "q-l4": ["x"]})
    db.commit()
    client = app.test_client()
    log_in(client, trainee)
    page = client.get("/progress").get_data(as_text=True)
    assert "50%" not in page and "No quiz attempts yet." in page


def test_staff_can_preview_modules(client, make_person, content):
    log_in(client, make_person("supervisor"))
    response = client.get("/modules/listening")
    assert response.status_code == 200 and "Listen with care." in response.get_data(as_text=True)
    assert "Mark as read" not in response.get_data(as_text=True)


def test_last_open_attempt_is_in_progress_not_locked(db, trainee, module, login):
    quiz = module("listening").quiz
    now = utcnow() - timedelta(hours=2)
    first = quizzes.start_attempt(db, trainee.id, quiz, now=now)
    quizzes.submit_attempt(db, trainee.id, first, {"q-l1": ["a"], "q-l2": ["b"],
                                                   "q-l3": ["false"], "q-l4": ["y"]}, now=now)
    quizzes.start_attempt(db, trainee.id, quiz)
    db.commit()
    page = login(trainee).get("/dashboard").get_data(as_text=True)
    assert "Quiz in progress" in page and "no attempts left" not in page


def test_attempt_page_follows_the_shuffled_order(db, trainee, module, login):
    quiz = module("privacy").quiz  # shuffled
    attempt = quizzes.start_attempt(db, trainee.id, quiz)
    attempt.question_order = ["p2", "p1"]
    db.commit()
    page = login(trainee).get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert page.index('name="q-p2"') < page.index('name="q-p1"')


def test_changed_module_can_be_read_again(db, trainee, module, login):
    client = login(trainee)
    client.post("/modules/wellbeing/read")
    wellbeing = module("wellbeing")
    wellbeing.version += 1
    db.commit()
    page = client.get("/modules/wellbeing").get_data(as_text=True)
    assert "has changed since you read it" in page and "Mark as read" in page
    client.post("/modules/wellbeing/read")
    assert "You have marked this module as read." in client.get("/modules/wellbeing").get_data(
        as_text=True)


def test_my_progress_query_count_does_not_grow(db, trainee, login, count_queries):
    client = login(trainee)
    client.get("/progress")
    with count_queries() as few:
        client.get("/progress")
    for slug in ("listening", "privacy"):
        attempt_url = client.post(f"/modules/{slug}/quiz").location
        client.post(attempt_url, data={"q-l1": "a"})
    with count_queries() as many:
        client.get("/progress")
    assert len(many) == len(few)


# --- the result page: the key only when the quiz's review setting allows it ---------------

# Everything on a result page that gives the key away: rationales, the key's marking and the
# options (a wrong answer to a two-option question names the right one).
KEY_MARKERS = ("RATIONALE", 'class="key', "right answer", "Why:", "Interrupting", "Listening helps",
               "So you felt alone.", "It sounds like a hard week.", "Pulls things together",
               "your answer")
FAILING = {"q-l1": ["a"], "q-l2": ["b"], "q-l3": ["true"], "q-l4": ["x"]}  # 2 of 4: 50%


def failed_attempt(db, person, quiz, now=None):
    attempt = quizzes.start_attempt(db, person.id, quiz, now=now)
    quizzes.submit_attempt(db, person.id, attempt, FAILING, now=now)
    db.commit()
    return attempt


def test_failed_result_page_hides_the_key_and_says_what_to_reread(db, trainee, login, module):
    listening = module("listening")
    listening.body_html += render_markdown("## Reflecting {#listen-two}")
    db.commit()
    client = login(trainee)
    attempt_id = start(client)
    client.post(f"/attempts/{attempt_id}", data={k: v for k, v in FAILING.items()})
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "50%" in page and "2 of 4 right" in page
    for marker in KEY_MARKERS:
        assert marker not in page, marker
    # The wrong questions by number and prompt, and the sections to reread.
    assert "Question 1." in page and "What helps most?" in page
    assert "Question 2." in page and "Which are reflections?" in page
    assert "Silence can help." not in page  # right: not listed
    assert 'href="/modules/listening"' in page  # listen-one: no anchor on the page
    assert 'href="/modules/listening#c-listen-two">Reflect back.' in page
    assert "once you pass this quiz" in page


def test_result_page_shows_the_key_after_a_pass(db, trainee, login, module):
    quiz = module("listening").quiz
    failed = failed_attempt(db, trainee, quiz, now=utcnow() - timedelta(hours=2))
    client = login(trainee)
    attempt_id = start(client)
    client.post(f"/attempts/{attempt_id}", data=RIGHT)
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "RATIONALE-L1" in page and 'class="key' in page
    # Now the earlier failed attempt's review opens too.
    earlier = client.get(f"/attempts/{failed.id}/result").get_data(as_text=True)
    assert "RATIONALE-L2" in earlier and "right answer" in earlier


def test_result_page_after_last_attempt(db, trainee, login, module):
    quiz = module("listening").quiz  # two attempts
    quiz.current_version.review = "after_last_attempt"
    db.commit()
    first = failed_attempt(db, trainee, quiz, now=utcnow() - timedelta(hours=3))
    client = login(trainee)
    page = client.get(f"/attempts/{first.id}/result").get_data(as_text=True)
    assert "RATIONALE" not in page and 'class="key' not in page
    assert "or have used all your attempts" in page
    last = failed_attempt(db, trainee, quiz, now=utcnow() - timedelta(hours=1))
    for attempt in (first, last):
        page = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
        assert "RATIONALE-L1" in page and 'class="key' in page


def test_result_page_always_shows_the_key(db, trainee, login, module):
    quiz = module("listening").quiz
    quiz.current_version.review = "always"
    db.commit()
    attempt = failed_attempt(db, trainee, quiz)
    page = login(trainee).get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "RATIONALE-L1" in page and "Not passed yet" in page


def test_no_other_trainee_page_shows_the_key(db, trainee, login, module):
    quiz = module("listening").quiz
    attempt = failed_attempt(db, trainee, quiz)
    client = login(trainee)
    for url in ("/dashboard", "/progress", "/modules/listening", "/modules/listening/quiz",
                f"/attempts/{attempt.id}"):  # a submitted attempt redirects to its result
        response = client.get(url, follow_redirects=True)
        page = response.get_data(as_text=True)
        for marker in KEY_MARKERS:
            assert marker not in page, (url, marker)


def test_result_page_query_count_does_not_grow(db, trainee, login, module, count_queries):
    # The key hidden on both: a 2-question quiz after one attempt, then a 4-question quiz
    # after two.
    small = quizzes.start_attempt(db, trainee.id, module("privacy").quiz)
    quizzes.submit_attempt(db, trainee.id, small, {"q-p1": ["true"], "q-p2": ["b"]})
    db.commit()
    failed_attempt(db, trainee, module("listening").quiz, now=utcnow() - timedelta(hours=3))
    big = failed_attempt(db, trainee, module("listening").quiz, now=utcnow() - timedelta(hours=1))
    client = login(trainee)
    # Each module's anchors (for the links to reread) are found in its text once per process.
    for attempt in (small, big):
        with count_queries() as first:
            client.get(f"/attempts/{attempt.id}/result")
        assert [s for s in first if "lms_module.body_html" in s]
    with count_queries() as few:
        client.get(f"/attempts/{small.id}/result")
    with count_queries() as many:
        page = client.get(f"/attempts/{big.id}/result").get_data(as_text=True)
    assert "Question 2." in page  # the key hidden on both pages
    assert len(many) == len(few)
    # The quiz and its module come from the content cache, not from the database, and the
    # module's text is not read again.
    assert not [s for s in many if "lms_quiz.retired" in s or "lms_module.slug" in s
                or "lms_module.body_html" in s]


def test_quiz_page_states_the_wait_and_when_the_key_is_shown(db, trainee, login, module):
    client = login(trainee)
    page = client.get("/modules/listening/quiz").get_data(as_text=True)
    assert "wait 30 minutes" in page and "once you pass." in page
    version = module("listening").quiz.current_version
    version.retake_wait_minutes, version.review = 1440, "after_last_attempt"
    db.commit()
    page = client.get("/modules/listening/quiz").get_data(as_text=True)
    assert "wait 1 day before" in page and "or have used all your attempts" in page


def test_quiz_page_counts_the_questions_without_loading_them(trainee, login, count_queries):
    client = login(trainee)
    client.get("/modules/listening/quiz")  # the content cache is read once per process
    with count_queries() as statements:
        page = client.get("/modules/listening/quiz").get_data(as_text=True)
    assert "4 questions" in page  # the listening quiz's four questions (RIGHT answers them)
    assert not [s for s in statements if "FROM lms_question" in s]


def test_the_attempt_page_shows_its_questions_in_order_without_reading_them_again(
        db, trainee, login, count_queries):
    client = login(trainee)
    attempt_id = start(client)
    order = db.get(Attempt, attempt_id).question_order
    with count_queries() as statements:
        page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    # The version's questions were read when the attempt started (the content cache).
    assert not [s for s in statements if "FROM lms_question" in s]
    shown = re.findall(r'name="q-([^"]+)"', page)
    assert list(dict.fromkeys(shown)) == order
