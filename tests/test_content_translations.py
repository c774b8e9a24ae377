"""Translated modules and quizzes: the loader's checks, sync, and what trainees see.

The translations live in tests/content/translations and are copied beside their originals in a
temporary tree, so the shared test content stays untranslated for every other test.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.content.loader import ContentError, ContentProblem, load_content
from lms.models import (
    Answer,
    Attempt,
    Module,
    ModuleTranslation,
    Question,
    Quiz,
    QuizTranslation,
)
from lms.services import content_sync, item_statistics
from tests.conftest import ROOT, TEST_CONTENT

TRANSLATIONS = TEST_CONTENT / "translations"


def make_tree(target: Path) -> Path:
    shutil.copytree(TEST_CONTENT / "curricula", target / "curricula")
    shutil.copytree(TEST_CONTENT / "quizzes", target / "quizzes")
    shutil.copy(TRANSLATIONS / "privacy.fr.md", target / "curricula" / "mini")
    shutil.copy(TRANSLATIONS / "privacy.fr.yaml", target / "quizzes")
    return target


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "content")


def load(tree: Path):
    return load_content(tree / "curricula", tree / "quizzes")


def problems(tree: Path) -> list[ContentProblem]:
    with pytest.raises(ContentError) as caught:
        load(tree)
    return caught.value.problems


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def quiz_fr(tree: Path) -> Path:
    return tree / "quizzes" / "privacy.fr.yaml"


def module_fr(tree: Path) -> Path:
    return tree / "curricula" / "mini" / "privacy.fr.md"


# --- the loader ------------------------------------------------------------------------------


def test_a_good_translation_is_loaded_with_the_original_ids(tree):
    bundle = load(tree)
    [module] = bundle.module_translations
    assert (module.module_slug, module.locale, module.title) == ("privacy", "fr", "Confidentialité")
    assert module.objectives == [{"id": "privacy-one", "text": "Garder les choses privées."}]
    assert module.path == "curricula/mini/privacy.fr.md"
    [quiz] = bundle.quiz_translations
    assert (quiz.module_slug, quiz.locale) == ("privacy", "fr")
    assert [q.key for q in quiz.questions] == ["p1", "p2"]
    assert quiz.questions[1].options == [{"id": "a", "text": "À votre superviseur"},
                                         {"id": "b", "text": "À votre voisin"}]
    # The translation is no module or quiz of its own.
    assert [m.slug for m in bundle.curricula[0].modules] == ["listening", "privacy", "wellbeing"]
    assert sorted(q.module_slug for q in bundle.quizzes) == ["listening", "privacy"]


def test_the_shipped_french_translation_validates():
    bundle = load_content(ROOT / "curricula", ROOT / "quizzes")
    assert {(t.module_slug, t.locale) for t in bundle.module_translations} == {
        ("confidentiality", "fr")}
    [quiz] = bundle.quiz_translations
    original = next(q for q in bundle.quizzes if q.module_slug == "confidentiality")
    assert [q.key for q in quiz.questions] == [q.key for q in original.questions]


def test_a_missing_question_is_refused(tree):
    path = quiz_fr(tree)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("  - id: p2")], encoding="utf-8")
    [problem] = problems(tree)
    assert problem.path == "quizzes/privacy.fr.yaml"
    assert problem.line == line_of(path, "questions:")
    assert "question 'p2' of the original quiz is missing" in problem.reason


def test_an_extra_question_is_refused(tree):
    path = quiz_fr(tree)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("  - id: p3\n    type: true_false\n    objective: privacy-one\n"
                     "    prompt: Encore ?\n    answer: true\n    rationale: Oui.\n")
    [problem] = problems(tree)
    assert (problem.path, problem.line) == ("quizzes/privacy.fr.yaml", line_of(path, "id: p3"))
    assert "question 'p3' is not in the original quiz" in problem.reason


def test_questions_out_of_order_are_refused(tree):
    path = quiz_fr(tree)
    edit(path, "id: p1", "id: tmp")
    edit(path, "id: p2", "id: p1")
    edit(path, "id: tmp", "id: p2")
    found = problems(tree)
    assert any(p.line == line_of(path, "id: p2") and "keep the original's order" in p.reason
               for p in found)


def test_a_different_option_set_is_refused(tree):
    path = quiz_fr(tree)
    edit(path, "      - id: b\n", "      - id: c\n")
    edit(path, "    answer: a", "    answer: a")
    [problem] = problems(tree)
    assert problem.line == line_of(path, "options:")
    assert "options a, c here but a, b in the original" in problem.reason


def test_a_different_correct_answer_is_refused(tree):
    path = quiz_fr(tree)
    edit(path, "    answer: a", "    answer: b")
    [problem] = problems(tree)
    assert (problem.path, problem.line) == ("quizzes/privacy.fr.yaml", line_of(path, "answer: b"))
    assert "question 'p2': the answer must be the original's (a)" in problem.reason


def test_a_different_true_false_answer_is_refused(tree):
    path = quiz_fr(tree)
    edit(path, "    answer: false", "    answer: true")
    [problem] = problems(tree)
    assert problem.line == line_of(path, "answer: true")
    assert "question 'p1'" in problem.reason


def test_a_different_type_is_refused(tree):
    path = quiz_fr(tree)
    edit(path, "    type: single", "    type: multiple")
    [problem] = problems(tree)
    assert problem.line == line_of(path, "type: multiple")
    assert "type 'multiple' here but 'single' in the original" in problem.reason


def test_a_different_scoring_setting_is_refused(tree):
    path = quiz_fr(tree)
    edit(path, "module: privacy\n", "module: privacy\npass_mark: 90\n")
    [problem] = problems(tree)
    assert problem.line == 2
    assert "'pass_mark' is 90 here but 50 in the original" in problem.reason


def test_the_same_settings_copied_are_accepted(tree):
    edit(quiz_fr(tree), "module: privacy\n", "module: privacy\npass_mark: 50\nshuffle: true\n")
    assert load(tree).quiz_translations


def test_different_objective_ids_are_refused(tree):
    path = module_fr(tree)
    edit(path, "  - id: privacy-one", "  - id: privacy-two")
    found = problems(tree)
    assert {(p.path, p.line) for p in found} == {
        ("curricula/mini/privacy.fr.md", line_of(path, "id: privacy-two")),
        ("curricula/mini/privacy.fr.md", line_of(path, "objectives:"))}
    reasons = " / ".join(p.reason for p in found)
    assert "objective 'privacy-two' is not an objective of the original module" in reasons
    assert "objective 'privacy-one' of the original module is missing" in reasons


def test_a_wrong_module_id_is_refused(tree):
    path = module_fr(tree)
    edit(path, "id: privacy\n", "id: listening\n")
    [problem] = problems(tree)
    assert (problem.path, problem.line) == ("curricula/mini/privacy.fr.md",
                                            line_of(path, "id: listening"))
    assert "must be the original module's id 'privacy'" in problem.reason


def test_a_wrong_quiz_module_is_refused(tree):
    path = quiz_fr(tree)
    edit(path, "module: privacy", "module: listening")
    [problem] = problems(tree)
    assert (problem.line, problem.path) == (1, "quizzes/privacy.fr.yaml")
    assert "must be the original quiz's module 'privacy'" in problem.reason


def test_translations_without_an_original_are_refused(tree):
    shutil.copy(module_fr(tree), tree / "curricula" / "mini" / "ghost.fr.md")
    shutil.copy(quiz_fr(tree), tree / "quizzes" / "wellbeing.fr.yaml")
    found = {(p.path, p.line): p.reason for p in problems(tree)}
    assert "module 'ghost', which does not exist" in found[("curricula/mini/ghost.fr.md", 1)]
    assert "quiz 'wellbeing', which does not exist" in found[("quizzes/wellbeing.fr.yaml", 1)]


def test_a_name_that_is_no_language_is_refused(tree):
    shutil.copy(quiz_fr(tree), tree / "quizzes" / "privacy.french.yaml")
    [problem] = problems(tree)
    assert (problem.path, problem.line) == ("quizzes/privacy.french.yaml", 1)
    assert "neither an original nor a translation" in problem.reason


def test_a_regional_code_is_a_language(tree):
    shutil.move(quiz_fr(tree), tree / "quizzes" / "privacy.fr-CA.yaml")
    assert [t.locale for t in load(tree).quiz_translations] == ["fr-CA"]


def test_a_missing_heading_id_is_refused(tree):
    edit(tree / "curricula" / "mini" / "privacy.md", "# Privacy", "# Privacy {#privacy-top}")
    path = module_fr(tree)
    [problem] = problems(tree)
    assert (problem.path, problem.line) == ("curricula/mini/privacy.fr.md",
                                            line_of(path, "---") + 7)
    assert "{#privacy-top}" in problem.reason


def test_validate_reports_translation_problems(app, tree):
    from lms.cli import lms_group

    edit(quiz_fr(tree), "    answer: a", "    answer: b")
    result = app.test_cli_runner().invoke(lms_group, ["validate", str(tree)])
    assert result.exit_code != 0
    assert "quizzes/privacy.fr.yaml:" in result.output
    assert "the answer must be the original's" in result.output


# --- sync ------------------------------------------------------------------------------------


def test_sync_stores_updates_and_removes_translations(db, tree):
    report = content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    assert sorted(report.translations) == ["curricula/mini/privacy.fr.md",
                                           "quizzes/privacy.fr.yaml"]
    module = db.scalar(select(ModuleTranslation))
    assert (module.locale, module.title) == ("fr", "Confidentialité")
    assert "<p>Ce qui se dit ici reste ici" in module.body_html
    privacy = db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "privacy"))
    quiz = db.scalar(select(QuizTranslation))
    assert quiz.quiz_version_id == privacy.current_version_id
    assert quiz.texts["p2"]["options"] == {"a": "À votre superviseur", "b": "À votre voisin"}
    assert quiz.texts["p1"]["options"] == {}  # true/false options are generated

    again = content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    assert again.translations == [] and not again.changed

    edit(quiz_fr(tree), "Jamais.", "Jamais, au grand jamais.")
    edit(module_fr(tree), "title: Confidentialité", "title: La confidentialité")
    changed = content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    assert sorted(changed.translations) == ["curricula/mini/privacy.fr.md",
                                            "quizzes/privacy.fr.yaml"]
    assert changed.created == [] and changed.updated == []  # the originals are unchanged
    db.expire_all()
    assert db.scalar(select(ModuleTranslation)).title == "La confidentialité"
    assert "au grand jamais" in db.scalar(select(QuizTranslation)).texts["p1"]["rationale_html"]
    assert db.scalar(select(QuizTranslation)).quiz_version_id == privacy.current_version_id

    module_fr(tree).unlink()
    quiz_fr(tree).unlink()
    removed = content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    assert len(removed.translations) == 2
    assert db.scalars(select(ModuleTranslation)).all() == []
    assert db.scalars(select(QuizTranslation)).all() == []


def test_a_new_quiz_version_gets_its_translation_and_the_old_keeps_its_own(db, tree):
    content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    privacy = db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "privacy"))
    first = privacy.current_version_id
    edit(tree / "quizzes" / "privacy.yaml", "rationale: Never.", "rationale: Never, ever.")
    content_sync.sync_folders(db, tree / "curricula", tree / "quizzes")
    db.refresh(privacy)
    assert privacy.current_version_id != first
    versions = sorted(t.quiz_version_id for t in db.scalars(select(QuizTranslation)))
    assert versions == sorted([first, privacy.current_version_id])


# --- what trainees see -----------------------------------------------------------------------


@pytest.fixture
def app_config(app_config, tmp_path):
    content = make_tree(tmp_path / "translated")
    app_config.update(LMS_CURRICULA_FOLDER=str(content / "curricula"),
                      LMS_QUIZZES_FOLDER=str(content / "quizzes"))
    return app_config


FRENCH = {"Accept-Language": "fr"}
ENGLISH = {"Accept-Language": "en"}


def take_quiz(client, headers, answers) -> tuple[int, str, str]:
    """Start and submit the privacy quiz; (attempt id, the attempt page, the result page)."""
    response = client.post("/modules/privacy/quiz", headers=headers)
    attempt_id = int(re.search(r"/attempts/(\d+)$", response.location).group(1))
    form = client.get(f"/attempts/{attempt_id}", headers=headers).get_data(as_text=True)
    done = client.post(f"/attempts/{attempt_id}", data=answers, headers=headers)
    assert done.status_code == 302, done.get_data(as_text=True)
    page = client.get(f"/attempts/{attempt_id}/result", headers=headers).get_data(as_text=True)
    return attempt_id, form, page


def test_a_french_trainee_reads_and_answers_in_french_with_the_same_ids(
        db, make_person, make_cohort, login, client_for, trainer):
    french = make_person("trainee", name="Fanny Française")
    english = make_person("trainee", name="Ed English")
    make_cohort(french, english)

    fr_client = login(french)
    page = fr_client.get("/modules/privacy", headers=FRENCH).get_data(as_text=True)
    assert "<h1>Confidentialité</h1>" in page
    assert "Ce qui se dit ici reste ici" in page and "Garder les choses privées." in page
    assert "What is said stays here" not in page
    intro = fr_client.get("/modules/privacy/quiz", headers=FRENCH).get_data(as_text=True)
    assert "Confidentialité" in intro

    right = {"q-p1": "false", "q-p2": "a"}
    fr_id, fr_form, fr_result = take_quiz(fr_client, FRENCH, {"q-p1": "true", "q-p2": "b"})
    assert "À qui pouvez-vous parler" in fr_form and "À votre superviseur" in fr_form
    assert "Who may you talk to" not in fr_form
    # The form's fields are the shared question ids and option keys.
    assert 'name="q-p2" value="a"' in fr_form and 'name="q-p1" value="false"' in fr_form
    assert "<span>Vrai</span>" in fr_form  # generated true/false labels in French too
    assert "À qui pouvez-vous parler" in fr_result  # a wrong question, the key hidden
    assert "Jamais." not in fr_result
    assert "Garder les choses privées." in fr_result  # what to read again

    en_client = client_for(english)
    en_page = en_client.get("/modules/privacy", headers=ENGLISH).get_data(as_text=True)
    assert "What is said stays here" in en_page and "Confidentialité" not in en_page
    en_id, en_form, en_result = take_quiz(en_client, ENGLISH, right)
    assert "Who may you talk to about a client?" in en_form and "À qui" not in en_form
    assert "Your supervisor" in en_result and "Supervision is part of the service." in en_result

    # A pass in French shows the key and rationales in French.
    second_id, _form, second_result = take_quiz(fr_client, FRENCH, right)
    assert "La supervision fait partie du service." in second_result
    assert "Supervision is part of the service." not in second_result

    attempts = {a.id: a for a in db.scalars(select(Attempt))}
    assert attempts[fr_id].quiz_version_id == attempts[en_id].quiz_version_id
    assert attempts[fr_id].score == 0.0 and attempts[en_id].score == 100.0
    keys = {attempt_id: {(db.get(Question, a.question_id).key, tuple(a.response))
                         for a in db.scalars(select(Answer).where(Answer.attempt_id == attempt_id))}
            for attempt_id in (fr_id, en_id, second_id)}
    assert keys[fr_id] == {("p1", ("true",)), ("p2", ("b",))}
    assert keys[en_id] == keys[second_id] == {("p1", ("false",)), ("p2", ("a",))}

    # Statistics are keyed by question and combine both languages (first attempts).
    quiz = db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "privacy"))
    stats = item_statistics.quiz_statistics(db, quiz)
    assert stats.attempts == 2
    by_key = {s.question.key: s for s in stats.questions}
    assert by_key["p2"].n == 2 and by_key["p2"].option_counts == {"a": 1, "b": 1}
    assert by_key["p1"].option_counts == {"true": 1, "false": 1}
    assert by_key["p1"].facility == by_key["p2"].facility == 0.5

    # Staff statistics stay in the original language, whatever the reader's language.
    staff = client_for(make_person("admin", name="Ada Admin"))
    report = staff.get("/cohorts/statistics/privacy", headers=FRENCH)
    assert report.status_code == 200
    text = report.get_data(as_text=True)
    assert "Who may you talk to about a client?" in text and "À qui" not in text


def test_an_untranslated_module_shows_in_the_original_language(trainee, login):
    client = login(trainee)
    page = client.get("/modules/listening", headers=FRENCH).get_data(as_text=True)
    assert "Listen with care." in page
    # The link to the next module uses its translated title.
    assert 'rel="next" href="/modules/privacy">Confidentialité →' in page
    english = client.get("/modules/listening", headers=ENGLISH).get_data(as_text=True)
    assert 'rel="next" href="/modules/privacy">Privacy →' in english


def test_the_translation_lookup_is_one_query(trainee, login, count_queries):
    client = login(trainee)
    client.get("/modules/privacy", headers=ENGLISH)
    with count_queries() as english:
        client.get("/modules/privacy", headers=ENGLISH)
    with count_queries() as french:
        page = client.get("/modules/privacy", headers=FRENCH).get_data(as_text=True)
    assert "Confidentialité" in page
    # French reads the translation's text in place of the original's, at most one more
    # statement; English asks for no translation at all (nothing is translated into it).
    assert len(french) <= len(english) + 1
    assert sum("lms_module_translation" in s for s in french) == 1
    assert not [s for s in english if "_translation" in s]


def test_a_new_language_of_the_content_is_seen_by_the_next_page(db, trainee, login):
    # Which locales the content is translated into is read with the content: a translation
    # added later moves the content's stamp, and the next page in that language shows it.
    client = login(trainee)
    for translation in [*db.scalars(select(ModuleTranslation)),
                        *db.scalars(select(QuizTranslation))]:
        db.delete(translation)
    db.commit()
    with_none = client.get("/modules/privacy", headers=FRENCH).get_data(as_text=True)
    assert "Confidentialité" not in with_none
    privacy = db.scalar(select(Module).where(Module.slug == "privacy"))
    db.add(ModuleTranslation(module_id=privacy.id, locale="fr", title="Confidentialité",
                             objectives=[], body_html="<p>Texte</p>", content_hash="x"))
    db.commit()
    page = client.get("/modules/privacy", headers=FRENCH).get_data(as_text=True)
    assert "Confidentialité" in page and "<p>Texte</p>" in page
