"""Read and validate a curriculum's minimum standards (``standards.yaml``) and the agreement
texts it asks trainees to sign (``agreements/<key>.md``). Problems are ``path:line: reason``.

The loader turns the file into the ``rules`` JSON that ``lms.services.standards.Policy``
reads; ``content_sync`` versions it into ``StandardsPolicy`` rows (and each agreement into
``Agreement`` rows) when a file's content hash changes. A curriculum without ``standards.yaml``
sets no standards; one with it must list every agreement file it ships, and each listed
agreement must have its file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
)

from lms.content.loader import (
    SLUG_PATTERN,
    _Collector,
    _hash,
    _read,
    read_front_matter,
)
from lms.content.yaml_lines import YAMLProblem, line_for, load_with_lines

STANDARDS_FILE = "standards.yaml"
AGREEMENTS_FOLDER = "agreements"
# Longer than fifty years is a typo, not a policy.
MAX_MONTHS = 600

# --- schemas -------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttendanceRule(_Strict):
    minimum_percent: StrictFloat = Field(ge=0, le=100)
    # Every core session attended or made up, whatever the percentage.
    core_sessions: StrictBool


class QuizRule(_Strict):
    modules: list[str]
    # None: each quiz's own pass mark.
    pass_mark: StrictInt | None = Field(default=None, ge=1, le=100)
    # None: a pass never goes stale.
    valid_for_months: StrictInt | None = Field(default=None, ge=1, le=MAX_MONTHS)


class SupervisionRule(_Strict):
    minimum_sessions: StrictInt = Field(ge=0, le=1000)
    minimum_hours: StrictFloat = Field(ge=0, le=10000)
    # How often supervision is due once started (the flags' frequency).
    every_days: StrictInt | None = Field(default=None, ge=1, le=366)


class CheckInRule(_Strict):
    every_days: StrictInt | None = Field(default=None, ge=1, le=366)


class CompetencyRule(_Strict):
    key: str = Field(pattern=SLUG_PATTERN, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    descriptor: str = Field(min_length=1, max_length=2000)
    required: Literal["developing", "competent"] = "competent"


class StandardsFile(_Strict):
    attendance: AttendanceRule
    quizzes: QuizRule
    agreements: list[str]
    supervision: SupervisionRule
    check_ins: CheckInRule = Field(default_factory=CheckInRule)
    competencies: list[CompetencyRule] = Field(default_factory=list)
    recertify_after_months: StrictInt | None = Field(default=None, ge=1, le=MAX_MONTHS)


class AgreementFrontMatter(_Strict):
    title: str = Field(min_length=1, max_length=200)


# --- validated specs -----------------------------------------------------------------------


@dataclass
class AgreementSpec:
    key: str
    title: str
    body: str  # Markdown; content_sync renders and sanitises it like a module's
    content_hash: str
    path: str


@dataclass
class StandardsSpec:
    #: Exactly the JSON that ``StandardsPolicy.rules`` stores and ``Policy.from_rules`` reads.
    rules: dict[str, Any]
    content_hash: str
    path: str
    #: The line of each module under ``quizzes.modules``, to report a module without a quiz.
    quiz_module_lines: dict[str, int] = field(default_factory=dict)

    @property
    def supervision_every_days(self) -> int | None:
        return self.rules["supervision"]["every_days"]

    @property
    def check_in_every_days(self) -> int | None:
        return self.rules["check_ins"]["every_days"]


# --- loading -------------------------------------------------------------------------------


def load_agreement(path: Path, out: _Collector) -> AgreementSpec | None:
    """One agreement text: front matter with a ``title``, then a Markdown body."""
    ok = True
    if not re.match(SLUG_PATTERN, path.stem) or len(path.stem) > 100:
        out.add(path, 1, f"the file name '{path.stem}' is the agreement's key: use lowercase "
                         "letters, digits and hyphens")
        ok = False
    read = read_front_matter(path, out, AgreementFrontMatter, "an agreement")
    if read is None:
        return None
    meta, body, body_line = read.meta, read.body, read.body_line
    if not body.strip():
        out.add(path, body_line, "the agreement has no body text")
        ok = False
    if not ok:
        return None
    return AgreementSpec(key=path.stem, title=meta.title, body=body,
                         content_hash=_hash(read.text.encode("utf-8")), path=out.rel(path))


def load_standards(folder: Path, out: _Collector, module_slugs: Iterable[str]
                   ) -> tuple[StandardsSpec | None, list[AgreementSpec]]:
    """A curriculum folder's standards file and agreement texts, checked against each other
    and against the curriculum's modules (``module_slugs``). Problems go to ``out``; the
    caller treats any new problem as a failure. Quizzes are checked later, by
    ``check_quiz_modules``, once every quiz file is loaded."""
    agreements: dict[str, AgreementSpec] = {}
    agreement_folder = folder / AGREEMENTS_FOLDER
    agreement_files = sorted(p for p in agreement_folder.glob("*.md")
                             if p.name.lower() != "readme.md") \
        if agreement_folder.is_dir() else []
    for agreement_path in agreement_files:
        spec = load_agreement(agreement_path, out)
        if spec is not None:
            agreements[spec.key] = spec

    path = folder / STANDARDS_FILE
    if not path.is_file():
        for agreement_path in agreement_files:
            out.add(agreement_path, 1, f"no {STANDARDS_FILE} in {out.rel(folder)} asks trainees "
                                       "to sign this agreement")
        return None, []
    text = _read(path, out)
    if text is None:
        return None, []
    try:
        data, lines = load_with_lines(text)
    except YAMLProblem as exc:
        out.add(path, exc.line, exc.reason)
        return None, []
    if not isinstance(data, dict):
        out.add(path, 1, f"{STANDARDS_FILE} must be a mapping of fields")
        return None, []
    try:
        meta = StandardsFile.model_validate(data)
    except ValidationError as exc:
        out.add_validation(path, exc, lines)
        return None, []

    ok = True
    modules = set(module_slugs)
    quiz_module_lines: dict[str, int] = {}
    for index, slug in enumerate(meta.quizzes.modules):
        line = line_for(lines, ("quizzes", "modules", index))
        if slug in quiz_module_lines:
            out.add(path, line, f"module '{slug}' is listed twice")
            ok = False
        elif slug not in modules:
            out.add(path, line, f"'{slug}' is not a module of this curriculum")
            ok = False
        quiz_module_lines.setdefault(slug, line)

    listed: set[str] = set()
    for index, key in enumerate(meta.agreements):
        line = line_for(lines, ("agreements", index))
        if key in listed:
            out.add(path, line, f"agreement '{key}' is listed twice")
            ok = False
            continue
        listed.add(key)
        if not (agreement_folder / f"{key}.md").is_file():
            out.add(path, line, f"agreement '{key}' has no file "
                                f"{AGREEMENTS_FOLDER}/{key}.md")
            ok = False
    for agreement_path in agreement_files:
        if agreement_path.stem not in listed:
            out.add(agreement_path, 1, f"agreement '{agreement_path.stem}' is not listed under "
                                       f"'agreements' in {out.rel(path)}")
            ok = False

    seen_competencies: dict[str, int] = {}
    for index, competency in enumerate(meta.competencies):
        line = line_for(lines, ("competencies", index, "key"))
        if competency.key in seen_competencies:
            out.add(path, line, f"duplicate competency key '{competency.key}' "
                                f"(first on line {seen_competencies[competency.key]})")
            ok = False
        seen_competencies.setdefault(competency.key, line)

    if not ok:
        return None, []
    rules = {
        "attendance": {"minimum_percent": meta.attendance.minimum_percent,
                       "core_sessions": meta.attendance.core_sessions},
        "quizzes": {"modules": list(meta.quizzes.modules),
                    "pass_mark": meta.quizzes.pass_mark,
                    "valid_for_months": meta.quizzes.valid_for_months},
        "agreements": list(meta.agreements),
        "supervision": {"minimum_sessions": meta.supervision.minimum_sessions,
                        "minimum_hours": meta.supervision.minimum_hours,
                        "every_days": meta.supervision.every_days},
        "check_ins": {"every_days": meta.check_ins.every_days},
        "competencies": [c.model_dump() for c in meta.competencies],
        "recertify_after_months": meta.recertify_after_months,
    }
    standards = StandardsSpec(rules=rules, content_hash=_hash(text.encode("utf-8")),
                              path=out.rel(path), quiz_module_lines=quiz_module_lines)
    return standards, [agreements[key] for key in meta.agreements if key in agreements]


def check_quiz_modules(standards: StandardsSpec, quizzes: Iterable[str],
                       quiz_files: Iterable[str], out: _Collector) -> None:
    """Report each module under ``quizzes.modules`` that has no quiz. ``quizzes`` are the
    modules whose quiz loaded; ``quiz_files`` the modules with a quiz file at all (a file that
    failed is reported on its own, not again here)."""
    loaded, files = set(quizzes), set(quiz_files)
    path = out.root / standards.path
    for slug, line in standards.quiz_module_lines.items():
        if slug not in loaded and slug not in files:
            out.add(path, line, f"module '{slug}' has no quiz to pass (quizzes/{slug}.yaml)")
