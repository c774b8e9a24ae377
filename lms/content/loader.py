"""Read and validate content files. Every problem is reported as ``path:line: reason``.

The loader never touches the database: it returns validated specs (``ContentBundle``) or raises
``ContentError`` with every problem it found, so invalid content is refused whole.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from lms.content.yaml_lines import YAMLProblem, line_for, load_with_lines
from lms.question_types import QUESTION_TYPES

if TYPE_CHECKING:
    from lms.content.standards import AgreementSpec, StandardsSpec

Slug = str
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"

#: When a trainee may see the key and the rationales of an attempt (``review`` in a quiz file).
#: The rule itself is ``lms.services.quizzes.review_allowed``.
ReviewMode = Literal["after_pass", "after_last_attempt", "always"]
REVIEW_AFTER_PASS = "after_pass"  # noqa: S105 (a review setting, not a password)
REVIEW_AFTER_LAST_ATTEMPT = "after_last_attempt"
REVIEW_ALWAYS = "always"
REVIEW_MODES: tuple[str, ...] = (REVIEW_AFTER_PASS, REVIEW_AFTER_LAST_ATTEMPT, REVIEW_ALWAYS)
DEFAULT_REVIEW = REVIEW_AFTER_PASS
# A retake wait longer than a year is a typo, not a policy.
MAX_RETAKE_WAIT_MINUTES = 366 * 24 * 60


@dataclass(frozen=True)
class ContentProblem:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class ContentError(Exception):
    def __init__(self, problems: list[ContentProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# --- schemas -------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CurriculumFile(_Strict):
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    modules: list[str] = Field(min_length=1)
    # Used by every quiz of this curriculum whose file sets no retake_wait_minutes of its own.
    default_retake_wait_minutes: StrictInt | None = Field(default=None, ge=0,
                                                          le=MAX_RETAKE_WAIT_MINUTES)


class Objective(_Strict):
    id: str = Field(pattern=SLUG_PATTERN, max_length=100)
    text: str = Field(min_length=1, max_length=1000)


class ModuleFrontMatter(_Strict):
    id: str = Field(pattern=SLUG_PATTERN, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    kind: Literal["core", "elective"]
    estimated_minutes: int = Field(gt=0, le=1000)
    objectives: list[Objective] = Field(min_length=1)


class QuestionBase(BaseModel):
    # Type-specific fields (options, answer) are checked by the question type itself.
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=SLUG_PATTERN, max_length=100)
    type: str = Field(max_length=30)
    objective: str = Field(max_length=100)
    prompt: str = Field(min_length=1)
    options: Any = None
    answer: Any = None
    rationale: str = Field(min_length=1)


class QuizFile(_Strict):
    module: str = Field(pattern=SLUG_PATTERN, max_length=100)
    pass_mark: int = Field(ge=1, le=100)
    attempts_allowed: int = Field(ge=0)
    # None: the curriculum's default_retake_wait_minutes applies (resolved by content_sync).
    retake_wait_minutes: StrictInt | None = Field(default=None, ge=0, le=MAX_RETAKE_WAIT_MINUTES)
    review: ReviewMode = DEFAULT_REVIEW
    shuffle: StrictBool = False
    questions: list[dict[str, Any]] = Field(min_length=1)


# --- validated specs -----------------------------------------------------------------------


@dataclass
class ModuleSpec:
    slug: str
    title: str
    kind: str
    estimated_minutes: int
    objectives: list[dict[str, str]]
    body: str
    content_hash: str
    path: str
    position: int = 0


@dataclass
class CurriculumSpec:
    slug: str
    title: str
    description: str
    modules: list[ModuleSpec]
    content_hash: str
    path: str
    default_retake_wait_minutes: int | None = None
    #: The curriculum's standards.yaml (None: it sets no standards) and the agreements it lists.
    standards: StandardsSpec | None = None
    agreements: list[AgreementSpec] = field(default_factory=list)


@dataclass
class QuestionSpec:
    key: str
    type: str
    objective: str
    prompt: str
    options: list[dict[str, str]]
    correct: list[str]
    rationale: str


@dataclass
class QuizSpec:
    module_slug: str
    pass_mark: int
    attempts_allowed: int
    #: The file's own value; None means the curriculum's default, resolved by content_sync.
    retake_wait_minutes: int | None
    shuffle: bool
    questions: list[QuestionSpec]
    content_hash: str
    path: str
    review: str = DEFAULT_REVIEW


@dataclass
class ModuleTranslationSpec:
    """``<module>.<lang>.md``: the same module and objective ids as the original, texts in
    ``locale``."""

    module_slug: str
    locale: str
    title: str
    objectives: list[dict[str, str]]
    body: str
    content_hash: str
    path: str


@dataclass
class QuestionTextSpec:
    """The translatable texts of one question; ids, type and key stay the original's."""

    key: str
    prompt: str
    options: list[dict[str, str]]
    rationale: str


@dataclass
class QuizTranslationSpec:
    module_slug: str
    locale: str
    questions: list[QuestionTextSpec]
    content_hash: str
    path: str


@dataclass
class ContentBundle:
    curricula: list[CurriculumSpec] = field(default_factory=list)
    quizzes: list[QuizSpec] = field(default_factory=list)
    module_translations: list[ModuleTranslationSpec] = field(default_factory=list)
    quiz_translations: list[QuizTranslationSpec] = field(default_factory=list)

    @property
    def module_count(self) -> int:
        return sum(len(c.modules) for c in self.curricula)

    @property
    def question_count(self) -> int:
        return sum(len(q.questions) for q in self.quizzes)


# --- loading -------------------------------------------------------------------------------


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[ContentProblem] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def add(self, path: Path, line: int, reason: str) -> None:
        self.problems.append(ContentProblem(self.rel(path), line, reason))

    def add_validation(self, path: Path, exc: ValidationError, lines: dict, prefix=()) -> None:
        for error in exc.errors():
            loc = tuple(prefix) + tuple(error["loc"])
            field_name = ".".join(str(p) for p in error["loc"]) or "file"
            if error["type"] == "missing":
                reason = f"missing field '{field_name}'"
                line = line_for(lines, loc[:-1])
            elif error["type"] == "extra_forbidden":
                reason = f"unknown field '{field_name}'"
                line = line_for(lines, loc)
            else:
                reason = f"'{field_name}': {error['msg']}"
                line = line_for(lines, loc)
            self.add(path, line, reason)


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path, out: _Collector) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")  # a byte-order mark is not content
    except UnicodeDecodeError as exc:
        out.add(path, 1, f"not UTF-8 text: {exc.reason}")
    except OSError as exc:
        out.add(path, 1, f"cannot read: {exc.strerror}")
    return None


def _split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (front matter, body, line where the body starts) or None if there is none."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    return None


@dataclass
class FrontMatterFile:
    meta: Any  # the validated front matter (a pydantic model)
    body: str
    body_line: int
    lines: dict
    text: str  # the whole file, for its content hash


def read_front_matter(path: Path, out: _Collector, schema: type[BaseModel],
                      what: str) -> FrontMatterFile | None:
    """A Markdown file with YAML front matter (modules, agreements), its front matter checked
    against ``schema``; every problem reported as file:line."""
    text = _read(path, out)
    if text is None:
        return None
    parts = _split_front_matter(text)
    if parts is None:
        out.add(path, 1, f"{what} starts with YAML front matter between '---' lines")
        return None
    front, body, body_line = parts
    try:
        data, lines = load_with_lines(front, first_line=2)
    except YAMLProblem as exc:
        out.add(path, exc.line, exc.reason)
        return None
    if not isinstance(data, dict):
        out.add(path, 2, "front matter must be a mapping of fields")
        return None
    try:
        meta = schema.model_validate(data)
    except ValidationError as exc:
        out.add_validation(path, exc, lines)
        return None
    return FrontMatterFile(meta, body, body_line, lines, text)


def load_module(path: Path, out: _Collector) -> ModuleSpec | None:
    read = read_front_matter(path, out, ModuleFrontMatter, "a module")
    if read is None:
        return None
    meta, body, lines = read.meta, read.body, read.lines
    ok = True
    if meta.id != path.stem:
        out.add(path, line_for(lines, ("id",)), f"id '{meta.id}' must match the file name "
                f"'{path.stem}.md'")
        ok = False
    seen: set[str] = set()
    for index, objective in enumerate(meta.objectives):
        if objective.id in seen:
            out.add(path, line_for(lines, ("objectives", index, "id")),
                    f"duplicate objective id '{objective.id}'")
            ok = False
        seen.add(objective.id)
    if not body.strip():
        out.add(path, read.body_line, "the module has no body text")
        ok = False
    if not ok:
        return None
    return ModuleSpec(
        slug=meta.id,
        title=meta.title,
        kind=meta.kind,
        estimated_minutes=meta.estimated_minutes,
        objectives=[o.model_dump() for o in meta.objectives],
        body=body,
        content_hash=_hash(read.text.encode("utf-8")),
        path=out.rel(path),
    )


def load_curriculum(folder: Path, out: _Collector,
                    parsed: dict[str, ModuleSpec] | None = None) -> CurriculumSpec | None:
    """Load one curriculum folder. Modules that parse are added to ``parsed`` even when the
    curriculum as a whole fails, so their quizzes are still checked in the same run."""
    parsed = {} if parsed is None else parsed
    path = folder / "curriculum.yaml"
    if not path.is_file():
        out.add(path, 1, "missing curriculum.yaml")
        return None
    text = _read(path, out)
    if text is None:
        return None
    try:
        data, lines = load_with_lines(text)
    except YAMLProblem as exc:
        out.add(path, exc.line, exc.reason)
        return None
    if not isinstance(data, dict):
        out.add(path, 1, "curriculum.yaml must be a mapping of fields")
        return None
    modules: dict[str, ModuleSpec] = {}
    module_files = sorted(p for p in folder.glob("*.md")
                          if p.name.lower() != "readme.md" and "." not in p.stem)
    ok = True
    if not re.match(SLUG_PATTERN, folder.name) or len(folder.name) > 100:
        out.add(path, 1, f"the folder name '{folder.name}' is the curriculum's id: use lowercase "
                         "letters, digits and hyphens")
        ok = False
    for module_path in module_files:
        spec = load_module(module_path, out)
        if spec is None:
            ok = False
            continue
        modules[spec.slug] = spec
        parsed.setdefault(spec.slug, spec)
    try:
        meta = CurriculumFile.model_validate(data)
    except ValidationError as exc:
        out.add_validation(path, exc, lines)
        return None

    ordered: list[ModuleSpec] = []
    seen: set[str] = set()
    for index, slug in enumerate(meta.modules):
        line = line_for(lines, ("modules", index))
        if slug in seen:
            out.add(path, line, f"module '{slug}' is listed twice")
            ok = False
            continue
        seen.add(slug)
        spec = modules.get(slug)
        if spec is None:
            if not (folder / f"{slug}.md").exists():
                out.add(path, line, f"module '{slug}' has no file {slug}.md")
            ok = False
            continue
        spec.position = index
        ordered.append(spec)
    from lms.content.standards import load_standards  # it builds on this module's helpers

    before = len(out.problems)
    standards, agreements = load_standards(folder, out, meta.modules)
    ok = ok and len(out.problems) == before
    for slug, spec in modules.items():
        if slug not in seen:
            out.add(Path(out.root / spec.path), 1,
                    f"module '{slug}' is missing from the order in {out.rel(path)}")
            ok = False
    if not ok:
        return None
    return CurriculumSpec(
        slug=folder.name,
        title=meta.title,
        description=meta.description,
        modules=ordered,
        content_hash=_hash(text.encode("utf-8")),
        path=out.rel(path),
        default_retake_wait_minutes=meta.default_retake_wait_minutes,
        standards=standards,
        agreements=agreements,
    )


def _read_yaml_mapping(path: Path, out: _Collector, schema: type[BaseModel],
                       what: str) -> tuple[Any, Any, str] | None:
    """A YAML file read as a mapping and checked against ``schema``, with its line map and its
    text (for the content hash); every
    problem goes to ``out`` with the file's line, and None comes back."""
    text = _read(path, out)
    if text is None:
        return None
    try:
        data, lines = load_with_lines(text)
    except YAMLProblem as exc:
        out.add(path, exc.line, exc.reason)
        return None
    if not isinstance(data, dict):
        out.add(path, 1, f"{what} must be a mapping of fields")
        return None
    try:
        return schema.model_validate(data), lines, text
    except ValidationError as exc:
        out.add_validation(path, exc, lines)
        return None


def load_quiz(path: Path, modules: dict[str, ModuleSpec], out: _Collector,
              broken: frozenset[str] = frozenset(),
              default_waits: dict[str, int | None] | None = None) -> QuizSpec | None:
    """Load one quiz file. ``default_waits`` maps a module to its curriculum's default retake
    wait, for modules whose curriculum loaded; a quiz of another module is not told off for
    lacking a wait, since its curriculum's own problems are reported already."""
    found = _read_yaml_mapping(path, out, QuizFile, "a quiz file")
    if found is None:
        return None
    meta, lines, text = found
    ok = True
    module = modules.get(meta.module)
    if meta.module != path.stem:
        out.add(path, line_for(lines, ("module",)),
                f"module '{meta.module}' must match the file name '{path.stem}.yaml'")
        ok = False
    if module is None:
        if meta.module not in broken:  # a module file that failed is reported on its own
            out.add(path, line_for(lines, ("module",)),
                    f"quiz for unknown module '{meta.module}'")
        return None
    objective_ids = {o["id"] for o in module.objectives}
    default_waits = default_waits or {}
    if (meta.retake_wait_minutes is None and meta.module in default_waits
            and default_waits[meta.module] is None):
        out.add(path, line_for(lines, ("module",)),
                "missing field 'retake_wait_minutes': set it here, or set "
                "default_retake_wait_minutes in the curriculum's curriculum.yaml")
        ok = False

    questions: list[QuestionSpec] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(meta.questions):
        base_path = ("questions", index)
        qline = line_for(lines, base_path)
        try:
            q = QuestionBase.model_validate(raw)
        except ValidationError as exc:
            out.add_validation(path, exc, lines, prefix=base_path)
            ok = False
            continue
        if q.id in seen:
            out.add(path, line_for(lines, base_path + ("id",)),
                    f"duplicate question id '{q.id}' (first on line {seen[q.id]})")
            ok = False
            continue
        seen[q.id] = qline
        qtype = QUESTION_TYPES.get(q.type)
        if qtype is None:
            known = ", ".join(sorted(QUESTION_TYPES))
            out.add(path, line_for(lines, base_path + ("type",)),
                    f"question '{q.id}': unknown type '{q.type}' (known: {known})")
            ok = False
            continue
        if q.objective not in objective_ids:
            out.add(path, line_for(lines, base_path + ("objective",)),
                    f"question '{q.id}': objective '{q.objective}' is not an objective of "
                    f"module '{module.slug}'")
            ok = False
        spec = {k: v for k, v in raw.items()}
        problems = qtype.validate(spec)
        for sub_path, reason in problems:
            out.add(path, line_for(lines, base_path + tuple(sub_path)),
                    f"question '{q.id}': {reason}")
            ok = False
        if problems:
            continue
        questions.append(
            QuestionSpec(
                key=q.id,
                type=q.type,
                objective=q.objective,
                prompt=q.prompt,
                options=qtype.options(spec),
                correct=qtype.correct(spec),
                rationale=q.rationale,
            )
        )
    if not ok:
        return None
    return QuizSpec(
        module_slug=meta.module,
        pass_mark=meta.pass_mark,
        attempts_allowed=meta.attempts_allowed,
        retake_wait_minutes=meta.retake_wait_minutes,
        shuffle=meta.shuffle,
        questions=questions,
        content_hash=_hash(text.encode("utf-8")),
        path=out.rel(path),
        review=meta.review,
    )


def load_content(curricula_dir: Path, quizzes_dir: Path, root: Path | None = None) -> ContentBundle:
    """Load and validate every content file; raise ``ContentError`` listing every problem."""
    curricula_dir, quizzes_dir = Path(curricula_dir), Path(quizzes_dir)
    out = _Collector(Path(root) if root else curricula_dir.parent)
    bundle = ContentBundle()
    if not curricula_dir.is_dir():
        out.add(curricula_dir, 1, "the curricula folder does not exist")
        raise ContentError(out.problems)

    module_owner: dict[str, str] = {}
    parsed: dict[str, ModuleSpec] = {}
    broken: set[str] = set()
    folders = sorted(p for p in curricula_dir.iterdir() if p.is_dir())
    for folder in folders:
        spec = load_curriculum(folder, out, parsed)
        broken.update(p.stem for p in folder.glob("*.md") if "." not in p.stem)
        if spec is None:
            continue
        clash = False
        for module in spec.modules:
            if module.slug in module_owner:
                out.add(out.root / module.path, 1,
                        f"module id '{module.slug}' is also used in {module_owner[module.slug]}")
                clash = True
            module_owner[module.slug] = module.path
        if not clash:
            bundle.curricula.append(spec)

    broken_modules = frozenset(broken - set(parsed))
    default_waits = {m.slug: c.default_retake_wait_minutes
                     for c in bundle.curricula for m in c.modules}
    for folder in folders:
        for translation in sorted(p for p in folder.glob("*.md")
                                  if "." in p.stem and not p.name.lower().startswith("readme.")):
            mt = load_module_translation(translation, parsed, out, broken_modules)
            if mt is not None:
                bundle.module_translations.append(mt)
    if quizzes_dir.is_dir():
        every_yaml = sorted([*quizzes_dir.glob("*.yaml"), *quizzes_dir.glob("*.yml")])
        quiz_files = [p for p in every_yaml if "." not in p.stem]
        owner: dict[str, str] = {}
        for quiz_path in quiz_files:
            quiz = load_quiz(quiz_path, parsed, out, broken_modules, default_waits)
            if quiz is None:
                continue
            if quiz.module_slug in owner:
                out.add(quiz_path, 1, f"a second quiz for module '{quiz.module_slug}' "
                                      f"(the first is {owner[quiz.module_slug]})")
                continue
            owner[quiz.module_slug] = quiz.path
            bundle.quizzes.append(quiz)
        loaded_quizzes = {q.module_slug: q for q in bundle.quizzes}
        for translation in (p for p in every_yaml if "." in p.stem):
            qt = load_quiz_translation(translation, loaded_quizzes,
                                       {p.stem for p in quiz_files}, out)
            if qt is not None:
                bundle.quiz_translations.append(qt)
        _check_standards_quizzes(bundle, {p.stem for p in quiz_files}, out)
    else:
        _check_standards_quizzes(bundle, set(), out)
    if out.problems:
        raise ContentError(out.problems)
    return bundle


def _check_standards_quizzes(bundle: ContentBundle, quiz_files: set[str],
                             out: _Collector) -> None:
    from lms.content.standards import check_quiz_modules

    loaded = {q.module_slug for q in bundle.quizzes}
    for curriculum in bundle.curricula:
        if curriculum.standards is not None:
            check_quiz_modules(curriculum.standards, loaded, quiz_files, out)


# --- translations --------------------------------------------------------------------------
# ``confidentiality.fr.md`` beside ``confidentiality.md``, ``quizzes/confidentiality.fr.yaml``
# beside ``quizzes/confidentiality.yaml``: the same ids, only the texts differ, so attempts and
# statistics (keyed by question id and option id) stay comparable across languages.

LOCALE_PATTERN = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
# A heading's own id ("## Limits {#conf-limits}"): links to it must work in every language.
_EXPLICIT_ANCHOR = re.compile(r"\{#([A-Za-z0-9_:-]+)\}")


class ModuleTranslationFrontMatter(_Strict):
    id: str = Field(max_length=100)
    title: str = Field(min_length=1, max_length=200)
    # Optional: a copy of the original's front matter may keep them, but they may not differ.
    kind: Literal["core", "elective"] | None = None
    estimated_minutes: int | None = None
    objectives: list[Objective] = Field(min_length=1)


class QuizTranslationFile(_Strict):
    module: str = Field(max_length=100)
    # Optional for the same reason; when present they must be the original's.
    pass_mark: int | None = None
    attempts_allowed: int | None = None
    retake_wait_minutes: int | None = None
    review: str | None = None
    shuffle: StrictBool | None = None
    questions: list[dict[str, Any]] = Field(min_length=1)


def translation_name(path: Path) -> tuple[str, str] | None:
    """``(original stem, locale)`` for a file named ``<stem>.<locale>.<ext>``, else None."""
    base, dot, locale = path.stem.rpartition(".")
    if not dot or not base or "." in base or not LOCALE_PATTERN.match(locale):
        return None
    return base, locale


def _translation_target(path: Path, out: _Collector, example: str) -> tuple[str, str] | None:
    name = translation_name(path)
    if name is None:
        out.add(path, 1, f"'{path.name}' is neither an original nor a translation: name a "
                         f"translation <original>.<language>{path.suffix}, e.g. {example}, "
                         "with a language code like 'fr' or 'pt-BR'")
    return name


def _same_settings(path: Path, lines: dict, given: dict[str, Any],
                   original: dict[str, Any], out: _Collector) -> bool:
    ok = True
    for name, value in given.items():
        if value is not None and value != original[name]:
            out.add(path, line_for(lines, (name,)),
                    f"'{name}' is {value!r} here but {original[name]!r} in the original: "
                    "a translation changes only texts (leave it out or copy it)")
            ok = False
    return ok


def load_module_translation(path: Path, modules: dict[str, ModuleSpec], out: _Collector,
                            broken: frozenset[str] = frozenset()) -> ModuleTranslationSpec | None:
    """Check ``<module>.<lang>.md`` against its original: the same module id and objective ids,
    in the same order, and every heading id the original gives itself."""
    name = _translation_target(path, out, "confidentiality.fr.md")
    if name is None:
        return None
    slug, locale = name
    original = modules.get(slug)
    if original is None:
        if slug not in broken:  # a module file that failed is reported on its own
            out.add(path, 1, f"a translation of module '{slug}', which does not exist "
                             f"(there is no {slug}.md beside it)")
        return None
    if (out.root / original.path).parent != path.parent:
        out.add(path, 1, f"a translation belongs beside its original {original.path}")
        return None
    read = read_front_matter(path, out, ModuleTranslationFrontMatter, "a module translation")
    if read is None:
        return None
    meta, lines = read.meta, read.lines
    ok = True
    if meta.id != slug:
        out.add(path, line_for(lines, ("id",)),
                f"id '{meta.id}' must be the original module's id '{slug}'")
        ok = False
    ok = _same_settings(path, lines, {"kind": meta.kind,
                                      "estimated_minutes": meta.estimated_minutes},
                        {"kind": original.kind,
                         "estimated_minutes": original.estimated_minutes}, out) and ok
    wanted = [o["id"] for o in original.objectives]
    given = [o.id for o in meta.objectives]
    for index, objective_id in enumerate(given):
        where = line_for(lines, ("objectives", index, "id"))
        if objective_id not in wanted:
            out.add(path, where, f"objective '{objective_id}' is not an objective of the "
                                 f"original module '{slug}'")
            ok = False
        elif given.index(objective_id) != index:
            out.add(path, where, f"duplicate objective id '{objective_id}'")
            ok = False
    missing = [o for o in wanted if o not in given]
    for objective_id in missing:
        out.add(path, line_for(lines, ("objectives",)),
                f"objective '{objective_id}' of the original module is missing")
        ok = False
    if ok and given != wanted:
        out.add(path, line_for(lines, ("objectives",)),
                f"objectives must be in the original's order: {', '.join(wanted)}")
        ok = False
    if not read.body.strip():
        out.add(path, read.body_line, "the translation has no body text")
        ok = False
    for anchor in _EXPLICIT_ANCHOR.findall(original.body):
        if f"{{#{anchor}}}" not in read.body:
            out.add(path, read.body_line, f"the heading id {{#{anchor}}} of the original is "
                                          "missing: links to that section must work here too")
            ok = False
    if not ok:
        return None
    return ModuleTranslationSpec(
        module_slug=slug,
        locale=locale,
        title=meta.title,
        objectives=[o.model_dump() for o in meta.objectives],
        body=read.body,
        content_hash=_hash(read.text.encode("utf-8")),
        path=out.rel(path),
    )


def load_quiz_translation(path: Path, quizzes: dict[str, QuizSpec], quiz_files: set[str],
                          out: _Collector) -> QuizTranslationSpec | None:
    """Check ``quizzes/<module>.<lang>.yaml`` against its original: the same questions in the
    same order, with the same types, objectives, option ids and answers; settings, if given,
    the same too. Only prompts, option texts and rationales may differ."""
    name = _translation_target(path, out, "confidentiality.fr.yaml")
    if name is None:
        return None
    slug, locale = name
    original = quizzes.get(slug)
    if original is None:
        if slug not in quiz_files:  # an original that failed is reported on its own
            out.add(path, 1, f"a translation of quiz '{slug}', which does not exist "
                             f"(there is no {slug}.yaml beside it)")
        return None
    found = _read_yaml_mapping(path, out, QuizTranslationFile, "a quiz translation")
    if found is None:
        return None
    meta, lines, text = found
    ok = True
    if meta.module != slug:
        out.add(path, line_for(lines, ("module",)),
                f"module '{meta.module}' must be the original quiz's module '{slug}'")
        ok = False
    settings = ("pass_mark", "attempts_allowed", "retake_wait_minutes", "review", "shuffle")
    ok = _same_settings(path, lines, {n: getattr(meta, n) for n in settings},
                        {n: getattr(original, n) for n in settings}, out) and ok

    by_key = {q.key: (index, q) for index, q in enumerate(original.questions)}
    seen: set[str] = set()
    texts: list[QuestionTextSpec] = []
    for index, raw in enumerate(meta.questions):
        base_path = ("questions", index)
        try:
            q = QuestionBase.model_validate(raw)
        except ValidationError as exc:
            out.add_validation(path, exc, lines, prefix=base_path)
            ok = False
            continue
        id_line = line_for(lines, base_path + ("id",))
        if q.id in seen:
            out.add(path, id_line, f"duplicate question id '{q.id}'")
            ok = False
            continue
        seen.add(q.id)
        if q.id not in by_key:
            out.add(path, id_line, f"question '{q.id}' is not in the original quiz")
            ok = False
            continue
        place, source = by_key[q.id]
        if place != index:
            out.add(path, id_line, f"question '{q.id}' is number {place + 1} in the original "
                                   f"but number {index + 1} here: keep the original's order")
            ok = False
        if q.type != source.type:
            out.add(path, line_for(lines, base_path + ("type",)),
                    f"question '{q.id}': type '{q.type}' here but '{source.type}' in the original")
            ok = False
            continue
        if q.objective != source.objective:
            out.add(path, line_for(lines, base_path + ("objective",)),
                    f"question '{q.id}': objective '{q.objective}' here but "
                    f"'{source.objective}' in the original")
            ok = False
        qtype = QUESTION_TYPES[q.type]
        spec = dict(raw)
        problems = qtype.validate(spec)
        for sub_path, reason in problems:
            out.add(path, line_for(lines, base_path + tuple(sub_path)),
                    f"question '{q.id}': {reason}")
            ok = False
        if problems:
            continue
        options = qtype.options(spec)
        option_ids = [o["id"] for o in options]
        wanted_ids = [o["id"] for o in source.options]
        if option_ids != wanted_ids:
            out.add(path, line_for(lines, base_path + ("options",)),
                    f"question '{q.id}': options {', '.join(option_ids)} here but "
                    f"{', '.join(wanted_ids)} in the original (same ids, same order)")
            ok = False
            continue
        if qtype.correct(spec) != source.correct:
            out.add(path, line_for(lines, base_path + ("answer",)),
                    f"question '{q.id}': the answer must be the original's "
                    f"({', '.join(source.correct)})")
            ok = False
            continue
        texts.append(QuestionTextSpec(
            key=q.id, prompt=q.prompt, rationale=q.rationale,
            # Generated options (true/false) have no text in the file to translate.
            options=options if "options" in spec else []))
    for source in original.questions:
        if source.key not in seen:
            out.add(path, line_for(lines, ("questions",)),
                    f"question '{source.key}' of the original quiz is missing")
            ok = False
    if not ok:
        return None
    return QuizTranslationSpec(module_slug=slug, locale=locale, questions=texts,
                               content_hash=_hash(text.encode("utf-8")), path=out.rel(path))
