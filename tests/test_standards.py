"""standards.yaml and the agreement texts: loading, file:line problems, versions at sync, and the
shipped curriculum's standards."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from lms.content.loader import ContentError, load_content
from lms.models import Agreement, Curriculum, StandardsPolicy
from lms.services.content_sync import sync_folders
from lms.services.standards import Policy, current_policy
from tests.conftest import ROOT, TEST_CONTENT
from tests.test_curriculum_content import (
    MAX_GRADE,
    grade,
    textstat_uses_cmudict,  # noqa: F401 (its autouse fixture: syllables offline)
)

STANDARDS = "curricula/mini/standards.yaml"

MINI_RULES = {
    "attendance": {"minimum_percent": 80.0, "core_sessions": True},
    "quizzes": {"modules": ["listening"], "pass_mark": None, "valid_for_months": 12},
    "agreements": ["confidentiality", "code-of-conduct"],
    "supervision": {"minimum_sessions": 1, "minimum_hours": 1.0, "every_days": None},
    "check_ins": {"every_days": None},
    "competencies": [
        {"key": "listening", "title": "Listening",
         "descriptor": "Listens without interrupting and reflects back what they hear.",
         "required": "competent"},
        {"key": "privacy", "title": "Keeping things private",
         "descriptor": "Explains what stays private and when it cannot.",
         "required": "developing"},
    ],
    "recertify_after_months": 24,
}


@pytest.fixture
def tree(tmp_path):
    shutil.copytree(TEST_CONTENT, tmp_path / "content")
    return tmp_path / "content"


def load(tree):
    return load_content(tree / "curricula", tree / "quizzes", root=tree)


def problems(tree) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load(tree)
    return [str(p) for p in caught.value.problems]


def edit(tree, relative: str, old: str, new: str) -> None:
    path = tree / relative
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def sync(db, tree):
    return sync_folders(db, tree / "curricula", tree / "quizzes")


# --- loading -------------------------------------------------------------------------------


def test_the_test_curriculum_loads_into_the_policy_rules():
    curriculum = load_content(TEST_CONTENT / "curricula", TEST_CONTENT / "quizzes").curricula[0]
    assert curriculum.standards.rules == MINI_RULES
    assert curriculum.standards.path == STANDARDS
    assert [(a.key, a.title) for a in curriculum.agreements] == [
        ("confidentiality", "Confidentiality agreement"), ("code-of-conduct", "Code of conduct")]
    assert "serious harm" in curriculum.agreements[0].body
    policy = Policy.from_rules(curriculum.standards.rules)
    assert (policy.minimum_attendance_percent, policy.quiz_modules, policy.agreements) == (
        80.0, ("listening",), ("confidentiality", "code-of-conduct"))
    assert [c.required for c in policy.competencies] == ["competent", "developing"]


def test_a_curriculum_without_standards_sets_none(tree):
    (tree / "curricula" / "mini" / "standards.yaml").unlink()
    shutil.rmtree(tree / "curricula" / "mini" / "agreements")
    curriculum = load(tree).curricula[0]
    assert curriculum.standards is None and curriculum.agreements == []


def test_optional_rules_may_be_left_out(tree):
    (tree / "curricula" / "mini" / "standards.yaml").write_text(
        "attendance: {minimum_percent: 75.5, core_sessions: false}\n"
        "quizzes: {modules: []}\n"
        "agreements: [confidentiality, code-of-conduct]\n"
        "supervision: {minimum_sessions: 0, minimum_hours: 0}\n")
    rules = load(tree).curricula[0].standards.rules
    assert rules["attendance"] == {"minimum_percent": 75.5, "core_sessions": False}
    assert rules["quizzes"] == {"modules": [], "pass_mark": None, "valid_for_months": None}
    assert rules["check_ins"] == {"every_days": None}
    assert rules["competencies"] == [] and rules["recertify_after_months"] is None


MISTAKES = [
    pytest.param(STANDARDS, "recertify_after_months: 24", "recertify_after_months: 24\ncolour: red",
                 f"{STANDARDS}:22: unknown field 'colour'", id="unknown-key"),
    pytest.param(STANDARDS, "  core_sessions: true", "  core_sessions: true\n  makeups: 2",
                 f"{STANDARDS}:5: unknown field 'attendance.makeups'", id="unknown-nested-key"),
    pytest.param(STANDARDS, "minimum_percent: 80", "minimum_percent: 120",
                 f"{STANDARDS}:3: 'attendance.minimum_percent': Input should be less than or "
                 "equal to 100", id="percent-120"),
    pytest.param(STANDARDS, "[listening]", "[listening, nowhere]",
                 f"{STANDARDS}:6: 'nowhere' is not a module of this curriculum",
                 id="module-not-in-curriculum"),
    pytest.param(STANDARDS, "[listening]", "[listening, wellbeing]",
                 f"{STANDARDS}:6: module 'wellbeing' has no quiz to pass (quizzes/wellbeing.yaml)",
                 id="module-without-quiz"),
    pytest.param(STANDARDS, "[listening]", "[listening, listening]",
                 f"{STANDARDS}:6: module 'listening' is listed twice", id="module-twice"),
    pytest.param(STANDARDS, "[confidentiality, code-of-conduct]",
                 "[confidentiality, code-of-conduct, complaints]",
                 f"{STANDARDS}:8: agreement 'complaints' has no file agreements/complaints.md",
                 id="missing-agreement-file"),
    pytest.param(STANDARDS, "  - key: privacy", "  - key: listening",
                 f"{STANDARDS}:17: duplicate competency key 'listening' (first on line 13)",
                 id="duplicate-competency"),
    pytest.param(STANDARDS, "required: developing", "required: expert",
                 f"{STANDARDS}:20: 'competencies.1.required': Input should be 'developing' or "
                 "'competent'", id="bad-required"),
    pytest.param(STANDARDS, "  - key: privacy", "  - key: Privacy Skills",
                 f"{STANDARDS}:17: 'competencies.1.key': String should match pattern",
                 id="competency-key-not-a-slug"),
    pytest.param(STANDARDS, "minimum_sessions: 1", "minimum_sessions: two",
                 f"{STANDARDS}:10: 'supervision.minimum_sessions': Input should be a valid "
                 "integer", id="sessions-not-a-number"),
    pytest.param(STANDARDS, "minimum_percent: 80", "minimum_percent: '80'",
                 f"{STANDARDS}:3: 'attendance.minimum_percent': Input should be a valid number",
                 id="percent-a-string"),
    pytest.param(STANDARDS, "core_sessions: true", "core_sessions: 'yes'",
                 f"{STANDARDS}:4: 'attendance.core_sessions': Input should be a valid boolean",
                 id="core-sessions-not-a-boolean"),
    pytest.param(STANDARDS, "agreements: [confidentiality, code-of-conduct]",
                 "agreements: confidentiality",
                 f"{STANDARDS}:8: 'agreements': Input should be a valid list",
                 id="agreements-not-a-list"),
    pytest.param(STANDARDS, "supervision:\n  minimum_sessions: 1\n  minimum_hours: 1\n",
                 "supervision:\n  minimum_sessions: 1\n  minimum_hours: 1\n  every_days: 0\n",
                 f"{STANDARDS}:12: 'supervision.every_days': Input should be greater than or "
                 "equal to 1", id="every-days-zero"),
    pytest.param(STANDARDS, "supervision:\n  minimum_sessions: 1\n  minimum_hours: 1\n",
                 "", f"{STANDARDS}:2: missing field 'supervision'", id="missing-section"),
    pytest.param(STANDARDS, "  core_sessions: true\n", "  core_sessions: [true\n",
                 f"{STANDARDS}:5: invalid YAML", id="broken-yaml"),
    pytest.param("curricula/mini/agreements/code-of-conduct.md", "title: Code of conduct",
                 "name: Code of conduct",
                 "curricula/mini/agreements/code-of-conduct.md:2: unknown field 'name'",
                 id="agreement-without-title"),
    pytest.param("curricula/mini/agreements/code-of-conduct.md",
                 "Be kind. Keep your boundaries. Use supervision.\n", "",
                 "curricula/mini/agreements/code-of-conduct.md:4: the agreement has no body text",
                 id="agreement-without-body"),
    pytest.param("curricula/mini/curriculum.yaml", "description:",
                 "supervision_every_days: 30\ndescription:",
                 "curricula/mini/curriculum.yaml:2: unknown field 'supervision_every_days'",
                 id="frequency-left-in-curriculum-yaml"),
]


@pytest.mark.parametrize(("relative", "old", "new", "expected"), MISTAKES)
def test_each_mistake_is_reported_with_file_and_line(tree, relative, old, new, expected):
    edit(tree, relative, old, new)
    found = problems(tree)
    assert any(p.startswith(expected) for p in found), found


def test_an_agreement_file_not_listed_is_reported(tree):
    (tree / "curricula" / "mini" / "agreements" / "extra.md").write_text(
        "---\ntitle: Extra\n---\nMore.\n")
    assert problems(tree) == [
        "curricula/mini/agreements/extra.md:1: agreement 'extra' is not listed under "
        "'agreements' in curricula/mini/standards.yaml"]


def test_agreements_without_a_standards_file_are_reported(tree):
    (tree / "curricula" / "mini" / "standards.yaml").unlink()
    assert problems(tree) == [
        "curricula/mini/agreements/code-of-conduct.md:1: no standards.yaml in curricula/mini "
        "asks trainees to sign this agreement",
        "curricula/mini/agreements/confidentiality.md:1: no standards.yaml in curricula/mini "
        "asks trainees to sign this agreement"]


def test_an_agreement_file_name_is_its_key(tree):
    (tree / "curricula" / "mini" / "agreements" / "Code_of_Conduct.md").write_text(
        "---\ntitle: Extra\n---\nMore.\n")
    assert any(p.startswith("curricula/mini/agreements/Code_of_Conduct.md:1: the file name")
               for p in problems(tree))


def test_a_broken_quiz_is_not_reported_again_as_missing(tree):
    edit(tree, STANDARDS, "[listening]", "[listening, privacy]")
    edit(tree, "quizzes/privacy.yaml", "pass_mark: 50", "pass_mark: 500")
    found = problems(tree)
    assert not any("has no quiz" in p for p in found), found
    assert any(p.startswith("quizzes/privacy.yaml") for p in found)


# --- sync ----------------------------------------------------------------------------------


def policies(db) -> list[tuple[int, bool]]:
    db.expire_all()
    return [(p.number, p.current)
            for p in db.scalars(select(StandardsPolicy).order_by(StandardsPolicy.number))]


def agreements(db, key: str) -> list[tuple[int, bool]]:
    db.expire_all()
    return [(a.number, a.current) for a in db.scalars(
        select(Agreement).where(Agreement.key == key).order_by(Agreement.number))]


def test_first_sync_makes_version_one_of_the_policy_and_each_agreement(db, tree):
    report = sync(db, tree)
    assert sorted(report.standards) == [
        "curricula/mini/agreements/code-of-conduct.md v1",
        "curricula/mini/agreements/confidentiality.md v1",
        f"{STANDARDS} v1"]
    curriculum = db.scalar(select(Curriculum))
    policy = current_policy(db, curriculum.id)
    assert (policy.number, policy.rules) == (1, MINI_RULES)
    assert agreements(db, "confidentiality") == [(1, True)]
    text = db.scalar(select(Agreement).where(Agreement.key == "confidentiality"))
    assert text.title == "Confidentiality agreement"
    assert text.body_html == ("<p>What people tell you stays private, except when someone is at "
                              "risk of serious harm.</p>")


def test_an_unchanged_file_makes_no_new_version(db, tree):
    sync(db, tree)
    db.commit()
    report = sync(db, tree)
    assert not report.changed and report.standards == []
    assert "standards" not in report.summary()
    assert policies(db) == [(1, True)]
    assert db.scalar(select(func.count()).select_from(Agreement)) == 2
    assert not db.dirty and not db.new


def test_a_changed_policy_is_version_two_and_the_first_is_kept(db, tree):
    sync(db, tree)
    edit(tree, "curricula/mini/standards.yaml", "minimum_percent: 80", "minimum_percent: 90")
    report = sync(db, tree)
    assert report.standards == [f"{STANDARDS} v2"]
    assert "1 standards or agreement version(s) changed" in report.summary()
    assert policies(db) == [(1, False), (2, True)]
    first, second = db.scalars(select(StandardsPolicy).order_by(StandardsPolicy.number))
    assert first.rules["attendance"]["minimum_percent"] == 80.0  # never rewritten
    assert second.rules["attendance"]["minimum_percent"] == 90.0
    assert current_policy(db, second.curriculum_id).id == second.id


def test_a_changed_agreement_text_is_a_new_version_of_that_agreement_only(db, tree):
    sync(db, tree)
    edit(tree, "curricula/mini/agreements/code-of-conduct.md", "Be kind.", "Be kind and fair.")
    report = sync(db, tree)
    assert report.standards == ["curricula/mini/agreements/code-of-conduct.md v2"]
    assert agreements(db, "code-of-conduct") == [(1, False), (2, True)]
    assert agreements(db, "confidentiality") == [(1, True)]
    assert policies(db) == [(1, True)]
    new = db.scalar(select(Agreement).where(Agreement.key == "code-of-conduct",
                                            Agreement.current.is_(True)))
    assert "Be kind and fair." in new.body_html


def test_a_dropped_agreement_is_no_longer_current_and_returns_as_a_new_version(db, tree):
    sync(db, tree)
    saved = (tree / "curricula" / "mini" / "agreements" / "code-of-conduct.md").read_text()
    (tree / "curricula" / "mini" / "agreements" / "code-of-conduct.md").unlink()
    edit(tree, "curricula/mini/standards.yaml", ", code-of-conduct]", "]")
    report = sync(db, tree)
    assert "agreement mini/code-of-conduct retired" in report.standards
    assert agreements(db, "code-of-conduct") == [(1, False)]
    assert policies(db) == [(1, False), (2, True)]

    (tree / "curricula" / "mini" / "agreements" / "code-of-conduct.md").write_text(saved)
    edit(tree, "curricula/mini/standards.yaml", "[confidentiality]",
         "[confidentiality, code-of-conduct]")
    sync(db, tree)
    assert agreements(db, "code-of-conduct") == [(1, False), (2, True)]
    assert policies(db) == [(1, False), (2, False), (3, True)]


def test_frequencies_are_copied_from_the_policy_onto_the_curriculum(db, tree):
    sync(db, tree)
    curriculum = db.scalar(select(Curriculum))
    assert (curriculum.supervision_every_days, curriculum.check_in_every_days) == (None, None)

    edit(tree, "curricula/mini/standards.yaml", "  minimum_hours: 1\n",
         "  minimum_hours: 1\n  every_days: 14\ncheck_ins:\n  every_days: 3\n")
    sync(db, tree)
    db.expire_all()
    assert (curriculum.supervision_every_days, curriculum.check_in_every_days) == (14, 3)
    assert not sync(db, tree).changed

    # Without a standards file the curriculum has no policy and the config defaults apply.
    (tree / "curricula" / "mini" / "standards.yaml").unlink()
    shutil.rmtree(tree / "curricula" / "mini" / "agreements")
    report = sync(db, tree)
    assert report.standards == ["standards of mini retired",
                                "agreement mini/code-of-conduct retired",
                                "agreement mini/confidentiality retired"]
    db.expire_all()
    assert (curriculum.supervision_every_days, curriculum.check_in_every_days) == (None, None)
    assert current_policy(db, curriculum.id) is None
    assert policies(db) == [(1, False), (2, False)]


def test_scripts_in_an_agreement_are_sanitised_at_sync(db, tree):
    edit(tree, "curricula/mini/agreements/code-of-conduct.md", "Be kind.",
         "Be kind.\n\n<script>alert(1)</script>\n[x](javascript:alert(2))\n")
    sync(db, tree)
    html = db.scalar(select(Agreement.body_html).where(Agreement.key == "code-of-conduct"))
    assert "<script" not in html and "javascript:" not in html and "Be kind." in html


# --- the shipped curriculum ----------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return load_content(ROOT / "curricula", ROOT / "quizzes", root=ROOT).curricula[0]


def test_the_shipped_standards_follow_public_practice(shipped):
    rules = shipped.standards.rules
    assert rules["attendance"] == {"minimum_percent": 80.0, "core_sessions": True}
    assert rules["quizzes"] == {
        "modules": ["confidentiality", "boundaries", "active-listening", "risk-assessment"],
        "pass_mark": None, "valid_for_months": 24}
    assert rules["agreements"] == ["confidentiality", "code-of-conduct"]
    assert rules["supervision"] == {"minimum_sessions": 2, "minimum_hours": 2.0,
                                    "every_days": 30}
    assert rules["check_ins"] == {"every_days": 7}
    assert rules["recertify_after_months"] == 24
    assert [c["key"] for c in rules["competencies"]] == [
        "active-listening", "confidentiality", "boundaries", "risk-and-hand-off",
        "self-care-and-supervision"]
    assert {c["required"] for c in rules["competencies"]} == {"competent"}
    assert "OARS" in rules["competencies"][0]["descriptor"]


def test_the_shipped_curriculum_syncs_its_frequencies(db):
    sync_folders(db, ROOT / "curricula", ROOT / "quizzes")
    curriculum = db.scalar(select(Curriculum))
    assert (curriculum.supervision_every_days, curriculum.check_in_every_days) == (30, 7)
    assert {a.key for a in db.scalars(select(Agreement))} == {"confidentiality",
                                                              "code-of-conduct"}


@pytest.mark.parametrize("key", ["confidentiality", "code-of-conduct"])
def test_the_shipped_agreements_are_plain_language(shipped, key):
    body = next(a for a in shipped.agreements if a.key == key).body
    assert grade(body) <= MAX_GRADE, round(grade(body), 1)


def test_the_confidentiality_agreement_covers_its_limits(shipped):
    text = " ".join(next(a for a in shipped.agreements
                         if a.key == "confidentiality").body.lower().split())
    for topic in ("serious harm", "safeguarding", "the law", "before support starts",
                  "social media", "when you leave"):
        assert topic in text, topic


def test_the_code_of_conduct_covers_boundaries_role_and_self_care(shipped):
    text = " ".join(next(a for a in shipped.agreements
                         if a.key == "code-of-conduct").body.lower().split())
    for topic in ("gifts", "money", "friendship", "late at night", "your own story",
                  "medical advice", "supervision", "self-care"):
        assert topic in text, topic
