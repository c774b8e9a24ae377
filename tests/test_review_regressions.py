"""Defects found in review, each pinned by a test that fails if it comes back."""

from __future__ import annotations

import io
import shutil
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from lms.content.loader import ContentError, load_content
from lms.models import Attempt, CohortStaff, Enrolment, Module, Person, Quiz
from lms.models._types import utcnow
from lms.services import agenda, attendance, content_sync, login_throttle, quizzes
from lms.services.agenda import AgendaError, SessionInput
from tests.conftest import TEST_CONTENT, log_in
from tests.factories import PASSWORD

RIGHT = {"q-l1": "b", "q-l2": ["a", "c"], "q-l3": "true", "q-l4": "x"}


# --- bad input never ends in a 500 ----------------------------------------------------------

@pytest.mark.parametrize("url", ["/attempts/99999999999999999999999", "/attempts/2147483648",
                                 "/admin/people/99999999999", "/cohorts/2147483648"])
def test_ids_too_big_for_the_database_are_404(client, make_person, url):
    log_in(client, make_person("trainee", "admin", "trainer"))
    assert client.get(url).status_code == 404


def test_nul_bytes_are_a_400(client, trainee):
    assert client.post("/login", data={"email": "a\x00@b.org", "password": "x"}
                       ).status_code == 400
    log_in(client, trainee)
    assert client.get("/modules/a%00b").status_code == 400


@pytest.mark.parametrize("zone", ["America", "Etc", "../../etc/passwd", "Mars/Base"])
def test_time_zone_that_is_a_folder_is_a_form_error(content, make_person, client, zone):
    log_in(client, make_person("trainer"))
    response = client.post("/cohorts/new", data={"name": "Z", "curriculum_id": str(content.id),
                                                 "timezone": zone})
    assert response.status_code == 422 and "Unknown time zone" in response.get_data(as_text=True)


def test_far_future_dates_are_refused(db, content, make_person, make_cohort):
    cohort = make_cohort()
    with pytest.raises(AgendaError, match="between 2000 and 2100"):
        agenda.add_session(db, cohort, SessionInput("Far", date(9999, 12, 31), time(23),
                                                    60))
    agenda.add_session(db, cohort, SessionInput("Now", date(2026, 1, 5), time(9), 60))
    target = make_cohort()
    with pytest.raises(AgendaError, match="between 2000 and 2100"):
        agenda.copy_agenda(db, cohort, target, date(9999, 1, 1))


def test_calendar_lines_cannot_be_injected(db, content, make_cohort):
    cohort = make_cohort()
    with pytest.raises(AgendaError) as info:
        agenda.add_session(db, cohort, SessionInput(
            "Title\r\nBEGIN:VALARM", date(2026, 1, 5), time(9), 60,
            venue="Hall\nX-EVIL:1", online_link="https://x.example/\r\nBEGIN:VALARM"))
    assert set(info.value.problems) == {"title", "venue", "online_link"}


def test_environment_numbers_are_numbers(monkeypatch, tmp_path):
    from lms import create_app
    from lms.app import ConfigurationError

    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LMS_LOGIN_THROTTLE_PER_ACCOUNT", "10")
    monkeypatch.setenv("LMS_DEMO", "1")
    app = create_app({"SECRET_KEY": "x", "LMS_DATABASE_URI": "sqlite://",
                      "LMS_AUTO_UPGRADE": False})
    assert app.config["LMS_LOGIN_THROTTLE_PER_ACCOUNT"] == 10
    assert app.config["LMS_DEMO"] is True
    assert app.config["MAX_CONTENT_LENGTH"] == 8 * 1024 * 1024
    monkeypatch.setenv("LMS_LOGIN_THROTTLE_PER_ACCOUNT", "ten")
    with pytest.raises(ConfigurationError, match="whole number"):
        create_app({"SECRET_KEY": "x", "LMS_DATABASE_URI": "sqlite://",
                    "LMS_AUTO_UPGRADE": False})


def test_person_without_roles_can_still_log_out(client, make_person):
    person = make_person("trainee")
    person.role_rows.clear()
    from tests.factories import _Session

    _Session.current.commit()
    log_in(client, person)
    assert client.post("/logout").status_code == 302


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


# --- host mode ------------------------------------------------------------------------------

@pytest.mark.settings(LMS_CURRENT_PERSON=lambda: None)
def test_host_mode_has_no_lms_log_in(client):
    assert client.get("/login").status_code == 404
    assert client.post("/logout").status_code in (401, 404)
    assert client.get("/dashboard").status_code == 401


# --- who may see what -----------------------------------------------------------------------

def test_trainer_cannot_pull_another_cohorts_trainee_into_their_cohort(
        db, app, make_person, make_cohort, trainee):
    trainer = make_person("trainer")
    mine = make_cohort()
    db.add(CohortStaff(cohort_id=mine.id, person_id=trainer.id, role="trainer"))
    db.commit()
    client = app.test_client()
    log_in(client, trainer)
    response = client.post(f"/cohorts/{mine.id}/enrol", data={
        "one-name": "X", "one-email": trainee.email, "one-supervisor_id": "0"})
    assert response.status_code == 422
    assert "already has an account; ask an admin" in response.get_data(as_text=True)
    staff_email = make_person("supervisor").email
    response = client.post(f"/cohorts/{mine.id}/enrol", data={
        "one-name": "X", "one-email": staff_email, "one-supervisor_id": "0"})
    assert "already has an account; ask an admin" in response.get_data(as_text=True)
    assert db.scalar(select(Enrolment).where(Enrolment.cohort_id == mine.id)) is None


def test_trainee_sees_only_their_curricula(db, client, make_person, make_cohort, tmp_path):
    outsider = make_person("trainee")
    log_in(client, outsider)
    assert "Mini curriculum" not in client.get("/curricula").get_data(as_text=True)


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


def test_switched_off_account_loses_its_session(app, db, trainee):
    client = app.test_client()
    log_in(client, trainee)
    db.get(Person, trainee.id).active = False
    db.commit()
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.location


def test_staff_can_preview_modules(client, make_person, content):
    log_in(client, make_person("supervisor"))
    response = client.get("/modules/listening")
    assert response.status_code == 200 and "Listen with care." in response.get_data(as_text=True)
    assert "Mark as read" not in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example"])
def test_next_never_leaves_the_site(client, trainee, target):
    response = client.post(f"/login?next={target}",
                           data={"email": trainee.email, "password": PASSWORD})
    from urllib.parse import urlsplit

    assert response.status_code == 302
    parts = urlsplit(response.location)
    assert not parts.scheme and not parts.netloc and not response.location.startswith("//")


def test_admin_cannot_switch_off_own_account(client, db, make_person):
    admin = make_person("admin")
    log_in(client, admin)
    response = client.post(f"/admin/people/{admin.id}", data={
        "name": admin.name, "roles": ["admin"], "cohort_id": "0"})
    assert response.status_code == 422
    assert "cannot switch off your own account" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Person, admin.id).active


def test_copy_from_a_cohort_you_do_not_train_is_refused(db, app, make_person, make_cohort,
                                                        make_session):
    trainer = make_person("trainer")
    mine, theirs = make_cohort(), make_cohort()
    make_session(theirs, utcnow() - timedelta(days=3), 60)
    db.add(CohortStaff(cohort_id=mine.id, person_id=trainer.id, role="trainer"))
    db.commit()
    client = app.test_client()
    log_in(client, trainer)
    response = client.post(f"/cohorts/{mine.id}/agenda/copy",
                           data={"source_id": str(theirs.id), "first_date": "2027-01-04"})
    assert response.status_code in (403, 422)
    assert agenda.agenda(db, mine.id) == []


def test_make_up_must_come_from_another_cohort(db, trainee, make_person, make_session, module):
    trainer = make_person("trainer")
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    enrolment.enrolled_on = (utcnow() - timedelta(days=30)).date()
    now = utcnow()
    missed = make_session(enrolment.cohort, now - timedelta(days=5), 60,
                          modules=[module("listening")], core=True)
    same = make_session(enrolment.cohort, now - timedelta(days=2), 60,
                        modules=[module("listening")])
    attendance.record_register(db, missed, [attendance.Mark(trainee.id, "absent")], trainer)
    with pytest.raises(attendance.AttendanceError, match="another cohort"):
        attendance.record_make_up(db, trainee, missed, recorder=trainer, via=same)


# --- quiz states ----------------------------------------------------------------------------

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


# --- content ----------------------------------------------------------------------------------

@pytest.fixture
def tree(tmp_path):
    shutil.copytree(TEST_CONTENT, tmp_path / "content")
    return tmp_path / "content"


def problems(tree):
    with pytest.raises(ContentError) as info:
        load_content(tree / "curricula", tree / "quizzes", root=tree)
    return [str(p) for p in info.value.problems]


def test_second_quiz_file_for_a_module(tree):
    shutil.copy(tree / "quizzes" / "privacy.yaml", tree / "quizzes" / "privacy.yml")
    assert problems(tree) == [
        "quizzes/privacy.yml:1: a second quiz for module 'privacy' (the first is "
        "quizzes/privacy.yaml)"]


def test_yaml_aliases_are_refused_with_their_line(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    text = quiz.read_text()
    quiz.write_text(text + "extra: &a [*a]\n")
    found = problems(tree)
    assert len(found) == 1 and "anchors and aliases" in found[0]
    assert found[0].startswith(f"quizzes/privacy.yaml:{text.count(chr(10)) + 1}:")


def test_too_long_title_and_bad_folder_name(tree):
    path = tree / "curricula" / "mini" / "privacy.md"
    path.write_text(path.read_text().replace("title: Privacy", "title: " + "P" * 201))
    (tree / "curricula" / "mini").rename(tree / "curricula" / "Mini Course")
    found = problems(tree)
    assert any("privacy.md:3: 'title'" in f for f in found)
    assert any("folder name 'Mini Course'" in f for f in found)


def test_byte_order_mark_is_fine(tree):
    path = tree / "curricula" / "mini" / "privacy.md"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    load_content(tree / "curricula", tree / "quizzes", root=tree)


def test_unknown_option_field_is_reported(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("        text: Your supervisor",
                                             "        text: Your supervisor\n"
                                             "        correct: true"))
    assert any("unknown field 'correct' in an option" in f for f in problems(tree))


def test_quiz_prompts_options_and_rationales_are_sanitised_at_sync(db, tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text()
                    .replace("prompt: Who may you", "prompt: <script>alert(1)</script>Who may you")
                    .replace("text: Your neighbour", "text: '<img src=x onerror=alert(2)>'")
                    .replace("rationale: Never.", "rationale: '[x](javascript:alert(3))'"))
    content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    quiz_row = db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "privacy"))
    html = " ".join(q.prompt_html + q.rationale_html + str(q.options)
                    for q in quiz_row.current_version.questions)
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html


def test_sync_retires_a_removed_quiz_and_restores_a_returning_module(db, tree):
    content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    saved = (tree / "quizzes" / "privacy.yaml").read_text()
    (tree / "quizzes" / "privacy.yaml").unlink()
    report = content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    assert "quiz privacy" in report.retired
    (tree / "quizzes" / "privacy.yaml").write_text(saved)
    module_file = tree / "curricula" / "mini" / "wellbeing.md"
    module_text = module_file.read_text()
    module_file.unlink()
    curriculum = tree / "curricula" / "mini" / "curriculum.yaml"
    curriculum_text = curriculum.read_text()
    curriculum.write_text(curriculum_text.replace("  - wellbeing\n", ""))
    content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    module_file.write_text(module_text)
    curriculum.write_text(curriculum_text)
    content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    assert db.scalar(select(Module).where(Module.slug == "wellbeing")).retired is False
    quiz_row = db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "privacy"))
    assert quiz_row.retired is False


def test_throttle_forgets_failures_outside_the_window(db):
    policy = login_throttle.ThrottlePolicy(per_account=2, window=timedelta(minutes=15))
    now = utcnow()
    for _ in range(2):
        login_throttle.record_failure(db, "a@b.org", "1.2.3.4", now - timedelta(minutes=20))
    assert not login_throttle.check(db, "a@b.org", "1.2.3.4", policy, now).blocked
    for _ in range(2):
        login_throttle.record_failure(db, "a@b.org", "1.2.3.4", now - timedelta(minutes=5))
    assert login_throttle.check(db, "a@b.org", "1.2.3.4", policy, now).blocked


def test_upload_over_the_limit_is_413(app, db, make_person, make_cohort):
    trainer = make_person("trainer")
    cohort = make_cohort()
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    db.commit()
    app.config["MAX_CONTENT_LENGTH"] = 1000
    client = app.test_client()
    log_in(client, trainer)
    response = client.post(f"/cohorts/{cohort.id}/enrol-csv", data={
        "csv-file": (io.BytesIO(b"a,b@example.org\n" * 200), "big.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 413
