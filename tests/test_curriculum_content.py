"""The shipped curriculum: length, readability, and quizzes that test every objective."""

from __future__ import annotations

import re

import pytest

from lms.content.loader import load_content
from tests.conftest import ROOT

CORE = ("confidentiality", "boundaries", "active-listening", "risk-assessment")
ALL = (*CORE, "peer-support-role", "self-care")


@pytest.fixture(scope="module")
def bundle():
    return load_content(ROOT / "curricula", ROOT / "quizzes", root=ROOT)


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'’-]*", text)


def syllables(word: str) -> int:
    # A standard vowel-group estimate; good enough to keep the text at the grade we aim for.
    word = word.lower().strip("'’-")
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups)
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_kincaid_grade(text: str) -> float:
    plain = re.sub(r"^#+.*$", "", text, flags=re.MULTILINE)  # headings are not sentences
    sentences = [s for s in re.split(r"[.!?]+(?:\s|$)|\n\s*[-*]\s|\n\n", plain) if words(s)]
    all_words = words(plain)
    total_syllables = sum(syllables(w) for w in all_words)
    return (0.39 * len(all_words) / len(sentences)
            + 11.8 * total_syllables / len(all_words) - 15.59)


def test_the_six_modules_are_there_in_order(bundle):
    modules = bundle.curricula[0].modules
    assert [m.slug for m in modules] == [
        "peer-support-role", "confidentiality", "boundaries", "active-listening",
        "risk-assessment", "self-care"]
    assert {m.slug for m in modules if m.kind == "core"} == set(CORE)


@pytest.mark.parametrize("slug", ALL)
def test_module_length_and_reading_level(bundle, slug):
    module = next(m for c in bundle.curricula for m in c.modules if m.slug == slug)
    count = len(words(module.body))
    assert 1200 <= count <= 2500, count
    assert flesch_kincaid_grade(module.body) <= 8.0


@pytest.mark.parametrize("slug", ALL)
def test_module_has_scenarios_from_each_condition(bundle, slug):
    module = next(m for c in bundle.curricula for m in c.modules if m.slug == slug)
    text = " ".join(module.body.lower().split())
    conditions = {
        "HIV": ("hiv",),
        "mental health": ("mental health", "depression", "anxiety", "psychosis", "bipolar"),
        "addiction": ("addiction", "recovery", "relapse", "drinking", "using drugs"),
        "diabetes": ("diabetes", "insulin", "blood sugar"),
    }
    for condition, terms in conditions.items():
        assert any(term in text for term in terms), condition


@pytest.mark.parametrize("slug", CORE)
def test_core_quiz_has_twelve_scenarios_covering_every_objective(bundle, slug):
    quiz = next(q for q in bundle.quizzes if q.module_slug == slug)
    module = next(m for c in bundle.curricula for m in c.modules if m.slug == slug)
    assert len(quiz.questions) >= 12
    assert all(q.rationale.strip() for q in quiz.questions)
    assert {q.objective for q in quiz.questions} == {o["id"] for o in module.objectives}
    assert len({q.type for q in quiz.questions}) == 3


def test_the_grade_estimate_tells_easy_from_hard_text():
    easy = "You listen. You ask how they feel. You do not judge. " * 20
    hard = ("Confidentiality obligations necessitate comprehensive institutional documentation "
            "notwithstanding considerable organisational complexity. ") * 20
    assert flesch_kincaid_grade(easy) < 4 < 12 < flesch_kincaid_grade(hard)
