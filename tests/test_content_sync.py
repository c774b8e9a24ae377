"""lms sync: idempotent, versioned, all-or-nothing."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from lms.content.loader import ContentError
from lms.models import Attempt, Module, Question, Quiz, QuizVersion
from lms.services import content_sync, quizzes
from lms.services.content_sync import sync_folders
from tests.conftest import TEST_CONTENT


@pytest.fixture
def tree(tmp_path):
    shutil.copytree(TEST_CONTENT, tmp_path / "content")
    return tmp_path / "content"


def sync(db, tree):
    return sync_folders(db, tree / "curricula", tree / "quizzes")


def counts(db):
    return tuple(db.scalar(select(func.count()).select_from(m))
                 for m in (Module, Quiz, QuizVersion, Question))


def test_first_sync_creates_everything(db, tree):
    report = sync(db, tree)
    assert len(report.created) == 1 + 3 + 2
    assert counts(db) == (3, 2, 2, 6)


def test_unchanged_files_change_nothing(db, tree):
    sync(db, tree)
    before = counts(db)
    stamps = [m.updated_at for m in db.scalars(select(Module).order_by(Module.id))]
    report = sync(db, tree)
    assert not report.changed
    assert report.unchanged == 1 + 3 + 2
    assert counts(db) == before
    assert [m.updated_at for m in db.scalars(select(Module).order_by(Module.id))] == stamps


def test_changed_quiz_makes_a_new_version_and_old_attempts_keep_theirs(db, tree, make_person,
                                                                      make_cohort):
    sync(db, tree)
    person = make_person()
    quiz = db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "privacy"))
    attempt = quizzes.start_attempt(db, person.id, quiz)
    quizzes.submit_attempt(db, person.id, attempt, {"q-p1": ["false"], "q-p2": ["a"]})
    db.commit()
    old_version = attempt.quiz_version_id

    path = tree / "quizzes" / "privacy.yaml"
    path.write_text(path.read_text().replace("pass_mark: 50", "pass_mark: 60"))
    report = sync(db, tree)
    assert report.updated == ["quizzes/privacy.yaml"]
    db.expire_all()
    quiz = db.get(Quiz, quiz.id)
    assert quiz.current_version.number == 2
    assert quiz.current_version.pass_mark == 60
    stored = db.get(Attempt, attempt.id)
    assert stored.quiz_version_id == old_version
    assert stored.quiz_version.pass_mark == 50
    assert {a.question.quiz_version_id for a in stored.answers} == {old_version}


def test_a_page_stored_by_an_older_renderer_is_made_again_without_a_new_version(db, tree):
    """A sanitiser rule that tightens (classes, id prefixes) reaches pages already stored."""
    sync(db, tree)
    module = db.scalar(select(Module).where(Module.slug == "privacy"))
    fresh = module.body_html
    module.body_html = '<div class="flash flash-error" id="x">Fake</div>'
    db.commit()
    report = sync(db, tree)
    assert not report.changed
    db.refresh(module)
    assert module.body_html == fresh and module.version == 1


def test_changed_module_bumps_its_version(db, tree):
    sync(db, tree)
    path = tree / "curricula" / "mini" / "privacy.md"
    path.write_text(path.read_text() + "\nMore text.\n")
    report = sync(db, tree)
    assert report.updated == ["curricula/mini/privacy.md"]
    module = db.scalar(select(Module).where(Module.slug == "privacy"))
    assert module.version == 2
    assert "More text." in module.body_html


def test_invalid_content_is_refused_whole(db, tree):
    sync(db, tree)
    before = counts(db)
    (tree / "curricula" / "mini" / "privacy.md").write_text(
        (tree / "curricula" / "mini" / "privacy.md").read_text() + "\nChanged.\n")
    quiz = tree / "quizzes" / "listening.yaml"
    quiz.write_text(quiz.read_text().replace("    answer: b\n", "    answer: z\n"))
    with pytest.raises(ContentError):
        sync(db, tree)
    assert counts(db) == before
    module = db.scalar(select(Module).where(Module.slug == "privacy"))
    assert module.version == 1 and "Changed." not in module.body_html


def test_a_removed_module_is_retired_not_deleted(db, tree):
    sync(db, tree)
    (tree / "curricula" / "mini" / "wellbeing.md").unlink()
    cfile = tree / "curricula" / "mini" / "curriculum.yaml"
    cfile.write_text(cfile.read_text().replace("  - wellbeing\n", ""))
    report = sync(db, tree)
    assert "module wellbeing" in report.retired
    module = db.scalar(select(Module).where(Module.slug == "wellbeing"))
    assert module.retired is True


def test_scripts_in_content_are_sanitised_at_sync(db, tree):
    path = tree / "curricula" / "mini" / "privacy.md"
    path.write_text(path.read_text() + '\n<script>alert(1)</script>\n[x](javascript:alert(2))\n')
    sync(db, tree)
    html = db.scalar(select(Module.body_html).where(Module.slug == "privacy"))
    assert "<script" not in html and "javascript:" not in html


def test_shipped_content_syncs(db):
    from tests.conftest import ROOT

    report = sync_folders(db, ROOT / "curricula", ROOT / "quizzes")
    assert report.created
    assert db.scalar(select(func.count()).select_from(Module)) >= 6


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


def test_sync_does_not_commit(app, db, tree):
    sync(db, tree)
    other = app.extensions["lms"].db.session()
    try:
        # Another connection sees nothing until the caller commits.
        assert other.scalar(select(func.count()).select_from(Module)) == 0
        other.rollback()
        db.commit()
        assert other.scalar(select(func.count()).select_from(Module)) == 3
    finally:
        other.close()


def test_a_rolled_back_sync_leaves_nothing(db, tree):
    sync(db, tree)
    db.rollback()
    assert counts(db) == (0, 0, 0, 0)


def current_version(db, slug):
    db.expire_all()
    return db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == slug)).current_version


def test_review_setting_is_stored_and_a_change_makes_a_new_version(db, tree):
    sync(db, tree)
    assert current_version(db, "privacy").review == "after_pass"
    path = tree / "quizzes" / "privacy.yaml"
    path.write_text(path.read_text().replace("shuffle: true", "shuffle: true\nreview: always"))
    report = sync(db, tree)
    assert report.updated == ["quizzes/privacy.yaml"]
    version = current_version(db, "privacy")
    assert (version.number, version.review) == (2, "always")


def test_curriculum_default_retake_wait_is_resolved_at_sync(db, tree):
    curriculum = tree / "curricula" / "mini" / "curriculum.yaml"
    curriculum.write_text(curriculum.read_text() + "default_retake_wait_minutes: 1440\n")
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("retake_wait_minutes: 0\n", ""))
    sync(db, tree)
    assert current_version(db, "privacy").retake_wait_minutes == 1440  # the default
    assert current_version(db, "listening").retake_wait_minutes == 30  # its own

    # A new default makes a new version of the quiz that uses it, and only of that one.
    curriculum.write_text(curriculum.read_text().replace("1440", "720"))
    report = sync(db, tree)
    assert sorted(report.updated) == ["curricula/mini/curriculum.yaml", "quizzes/privacy.yaml"]
    privacy = current_version(db, "privacy")
    assert (privacy.number, privacy.retake_wait_minutes) == (2, 720)
    assert current_version(db, "listening").number == 1
    assert not sync(db, tree).changed


def test_a_quiz_setting_its_own_wait_keeps_its_version_hash(db, tree):
    # Files that set their own wait hash as before, so adding a curriculum default to an
    # existing deployment makes no new versions of them.
    sync(db, tree)
    before = current_version(db, "listening").content_hash
    curriculum = tree / "curricula" / "mini" / "curriculum.yaml"
    curriculum.write_text(curriculum.read_text() + "default_retake_wait_minutes: 60\n")
    sync(db, tree)
    assert current_version(db, "listening").content_hash == before
    assert current_version(db, "listening").number == 1


def test_the_default_retake_wait_is_enforced(db, tree, make_person):
    from datetime import timedelta

    from lms.models._types import utcnow

    curriculum = tree / "curricula" / "mini" / "curriculum.yaml"
    curriculum.write_text(curriculum.read_text() + "default_retake_wait_minutes: 1440\n")
    quiz_file = tree / "quizzes" / "privacy.yaml"
    quiz_file.write_text(quiz_file.read_text().replace("retake_wait_minutes: 0\n", ""))
    sync(db, tree)
    db.commit()
    person = make_person()
    quiz = db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "privacy"))
    now = utcnow()
    attempt = quizzes.start_attempt(db, person.id, quiz, now=now)
    quizzes.submit_attempt(db, person.id, attempt, {"q-p1": ["true"], "q-p2": ["b"]}, now=now)
    with pytest.raises(quizzes.QuizRuleError, match="once the wait after a failed attempt"):
        quizzes.start_attempt(db, person.id, quiz, now=now + timedelta(hours=23))
    assert quizzes.start_attempt(db, person.id, quiz, now=now + timedelta(hours=25)).id
