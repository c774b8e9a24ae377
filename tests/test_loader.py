"""The content loader: one test per kind of content error, each checking file and line."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from lms.content.loader import ContentError, load_content
from tests.conftest import TEST_CONTENT


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(TEST_CONTENT, tmp_path / "content")
    return tmp_path / "content"


def write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def problems(tree: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_content(tree / "curricula", tree / "quizzes", root=tree)
    return [str(p) for p in info.value.problems]


def test_valid_content_loads(tree):
    bundle = load_content(tree / "curricula", tree / "quizzes", root=tree)
    assert [m.slug for m in bundle.curricula[0].modules] == ["listening", "privacy", "wellbeing"]
    assert bundle.question_count == 6
    l2 = next(q for q in bundle.quizzes[0].questions if q.key == "l2")
    assert l2.correct == ["a", "c"]


def test_bad_yaml_reports_file_and_line(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    text = quiz.read_text().replace("pass_mark: 50", "pass_mark: [50")
    quiz.write_text(text)
    found = problems(tree)
    assert len(found) == 1
    assert found[0].startswith("quizzes/privacy.yaml:")
    line = int(found[0].split(":")[1])
    assert line in (2, 3)
    assert "invalid YAML" in found[0]


def test_missing_field_in_front_matter(tree):
    path = tree / "curricula" / "mini" / "privacy.md"
    path.write_text(path.read_text().replace("estimated_minutes: 15\n", ""))
    assert problems(tree) == [
        "curricula/mini/privacy.md:2: missing field 'estimated_minutes'"
    ]


def test_missing_field_in_question_points_at_the_question(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    write(quiz, """
        module: privacy
        pass_mark: 50
        attempts_allowed: 0
        retake_wait_minutes: 0
        questions:
          - id: p1
            type: true_false
            objective: privacy-one
            answer: false
            rationale: Never.
        """)
    assert problems(tree) == ["quizzes/privacy.yaml:6: missing field 'prompt'"]


def test_unknown_field_is_reported(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("shuffle: true", "shuffle: true\npassmark: 3"))
    assert problems(tree) == ["quizzes/privacy.yaml:6: unknown field 'passmark'"]


def test_duplicate_question_id(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("  - id: p2", "  - id: p1"))
    found = problems(tree)
    assert found == ["quizzes/privacy.yaml:13: duplicate question id 'p1' (first on line 7)"]


def test_duplicate_option_id(tree):
    quiz = tree / "quizzes" / "listening.yaml"
    quiz.write_text(quiz.read_text().replace("      - id: c\n        text: Advising",
                                             "      - id: a\n        text: Advising"))
    assert problems(tree) == ["quizzes/listening.yaml:16: question 'l1': duplicate option id 'a'"]


def test_duplicate_yaml_key(tree):
    path = tree / "curricula" / "mini" / "curriculum.yaml"
    path.write_text(path.read_text() + "title: Again\n")
    assert problems(tree) == [
        "curricula/mini/curriculum.yaml:7: duplicate key 'title' (first on line 1)"
    ]


def test_key_naming_a_missing_option(tree):
    quiz = tree / "quizzes" / "listening.yaml"
    quiz.write_text(quiz.read_text().replace("    answer: b\n", "    answer: z\n"))
    assert problems(tree) == [
        "quizzes/listening.yaml:18: question 'l1': answer 'z' names no option of this question"
    ]


def test_multiple_choice_key_naming_a_missing_option(tree):
    quiz = tree / "quizzes" / "listening.yaml"
    quiz.write_text(quiz.read_text().replace("answer: [a, c]", "answer: [a, q]"))
    assert problems(tree) == [
        "quizzes/listening.yaml:31: question 'l2': answer 'q' names no option of this question"
    ]


def test_quiz_for_unknown_module(tree):
    write(tree / "quizzes" / "ghost.yaml", """
        module: ghost
        pass_mark: 80
        attempts_allowed: 1
        retake_wait_minutes: 0
        questions:
          - id: g1
            type: true_false
            objective: x
            prompt: Boo?
            answer: true
            rationale: Because.
        """)
    assert problems(tree) == ["quizzes/ghost.yaml:1: quiz for unknown module 'ghost'"]


def test_module_missing_from_curriculum_order(tree):
    write(tree / "curricula" / "mini" / "extra.md", """
        ---
        id: extra
        title: Extra
        kind: elective
        estimated_minutes: 5
        objectives:
          - id: extra-one
            text: Something.
        ---
        Body.
        """)
    assert problems(tree) == [
        "curricula/mini/extra.md:1: module 'extra' is missing from the order in "
        "curricula/mini/curriculum.yaml"
    ]


def test_curriculum_order_naming_a_missing_file(tree):
    (tree / "curricula" / "mini" / "wellbeing.md").unlink()
    assert problems(tree) == [
        "curricula/mini/curriculum.yaml:6: module 'wellbeing' has no file wellbeing.md"
    ]


def test_objective_not_in_module(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("objective: privacy-one\n    prompt: Who",
                                             "objective: privacy-two\n    prompt: Who"))
    assert problems(tree) == [
        "quizzes/privacy.yaml:15: question 'p2': objective 'privacy-two' is not an objective "
        "of module 'privacy'"
    ]


def test_unknown_question_type(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("type: single", "type: essay"))
    found = problems(tree)
    assert found[0].startswith("quizzes/privacy.yaml:14: question 'p2': unknown type 'essay'")


def test_true_false_with_options_is_refused(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace(
        "    answer: false\n",
        "    answer: false\n    options:\n      - id: a\n        text: A\n"))
    assert problems(tree) == [
        "quizzes/privacy.yaml:12: question 'p1': a true_false question takes no options"
    ]


def test_module_without_front_matter(tree):
    (tree / "curricula" / "mini" / "wellbeing.md").write_text("# Wellbeing\n\nNo front matter.\n")
    found = problems(tree)
    assert found[0] == ("curricula/mini/wellbeing.md:1: a module starts with YAML front matter "
                        "between '---' lines")


def test_module_id_must_match_file_name(tree):
    path = tree / "curricula" / "mini" / "wellbeing.md"
    path.write_text(path.read_text().replace("id: wellbeing", "id: well-being"))
    found = problems(tree)
    assert "curricula/mini/wellbeing.md:2: id 'well-being' must match the file name " \
           "'wellbeing.md'" in found


def test_bad_value_type(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("pass_mark: 50", "pass_mark: 150"))
    found = problems(tree)
    assert len(found) == 1 and found[0].startswith("quizzes/privacy.yaml:2: 'pass_mark':")


def test_every_problem_is_reported_at_once(tree):
    quiz = tree / "quizzes" / "listening.yaml"
    quiz.write_text(quiz.read_text().replace("    answer: b\n", "    answer: z\n"))
    path = tree / "curricula" / "mini" / "privacy.md"
    path.write_text(path.read_text().replace("kind: core", "kind: optional"))
    found = problems(tree)
    assert any(f.startswith("quizzes/listening.yaml:18:") for f in found)
    assert any(f.startswith("curricula/mini/privacy.md:4:") for f in found)


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
    bundle = load_content(tree / "curricula", tree / "quizzes", root=tree)
    privacy = next(m for m in bundle.curricula[0].modules if m.slug == "privacy")
    assert privacy.title == "Privacy" and not privacy.body.startswith("\ufeff")


def test_unknown_option_field_is_reported(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("        text: Your supervisor",
                                             "        text: Your supervisor\n"
                                             "        correct: true"))
    assert any("unknown field 'correct' in an option" in f for f in problems(tree))


def test_review_setting_is_loaded_with_after_pass_as_default(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("shuffle: true", "shuffle: true\nreview: always"))
    bundle = load_content(tree / "curricula", tree / "quizzes", root=tree)
    reviews = {q.module_slug: q.review for q in bundle.quizzes}
    assert reviews == {"listening": "after_pass", "privacy": "always"}


def test_unknown_review_setting_is_refused_with_its_line(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("shuffle: true", "shuffle: true\nreview: sometimes"))
    found = problems(tree)
    assert len(found) == 1
    assert found[0].startswith("quizzes/privacy.yaml:6: 'review': ")
    assert "'after_pass', 'after_last_attempt' or 'always'" in found[0]


def test_quiz_without_a_retake_wait_takes_the_curriculum_default(tree):
    curriculum = tree / "curricula" / "mini" / "curriculum.yaml"
    curriculum.write_text(curriculum.read_text() + "default_retake_wait_minutes: 1440\n")
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("retake_wait_minutes: 0\n", ""))
    bundle = load_content(tree / "curricula", tree / "quizzes", root=tree)
    assert bundle.curricula[0].default_retake_wait_minutes == 1440
    # The loader keeps each file's own value; content_sync resolves the default.
    waits = {q.module_slug: q.retake_wait_minutes for q in bundle.quizzes}
    assert waits == {"listening": 30, "privacy": None}


def test_quiz_without_a_retake_wait_needs_a_curriculum_default(tree):
    quiz = tree / "quizzes" / "privacy.yaml"
    quiz.write_text(quiz.read_text().replace("retake_wait_minutes: 0\n", ""))
    assert problems(tree) == [
        "quizzes/privacy.yaml:1: missing field 'retake_wait_minutes': set it here, or set "
        "default_retake_wait_minutes in the curriculum's curriculum.yaml"]


@pytest.mark.parametrize("value", ["-5", "yes", "'60'", "600000"])
def test_bad_default_retake_wait_is_refused_with_its_line(tree, value):
    curriculum = tree / "curricula" / "mini" / "curriculum.yaml"
    curriculum.write_text(curriculum.read_text() + f"default_retake_wait_minutes: {value}\n")
    found = problems(tree)
    assert len(found) == 1
    assert found[0].startswith("curricula/mini/curriculum.yaml:7: 'default_retake_wait_minutes':")


def test_review_modes_match_the_schema():
    from typing import get_args

    from lms.content.loader import REVIEW_MODES, ReviewMode

    assert get_args(ReviewMode) == REVIEW_MODES
