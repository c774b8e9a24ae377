"""Load validated content into the database, idempotently.

Unchanged files change nothing. A changed module file updates the module and bumps its version; a
changed quiz file makes a new ``QuizVersion`` (with its own questions) so every stored attempt keeps
the version it answered. A quiz file without its own ``retake_wait_minutes`` takes its curriculum's
``default_retake_wait_minutes`` here, at sync time: the version stores the resolved number, and a
change of that default makes a new version of each quiz that uses it.

A curriculum's ``standards.yaml`` and each of its agreement texts are versioned the same way: a
changed file makes a new current ``StandardsPolicy`` / ``Agreement`` row (number + 1) and the old
one stops being current, so a sign-off or a signature keeps the version it was made against. A
removed file leaves its rows, none current. The curriculum's supervision and check-in
frequencies are copied from its current policy (None without one: the config defaults apply).

Translations (``<module>.<lang>.md``, ``quizzes/<module>.<lang>.yaml``) are stored per module
and per quiz version and language, texts only. A removed translation file deletes its row; a
quiz translation stays on the versions it was made for, so old attempts keep their texts.

Sync never commits: the caller (the CLI command, the demo, a test) ends the unit of work, so sync
can be one step of a larger transaction. On an error the caller rolls back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.content.loader import (
    ContentBundle,
    CurriculumSpec,
    ModuleTranslationSpec,
    QuizSpec,
    QuizTranslationSpec,
    load_content,
)
from lms.content.markdown import render_inline_markdown, render_markdown
from lms.models import (
    Agreement,
    Curriculum,
    Module,
    ModuleTranslation,
    Question,
    Quiz,
    QuizTranslation,
    QuizVersion,
    StandardsPolicy,
)
from lms.models._types import utcnow


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0
    #: New versions of standards and agreement files, and ones no longer current ("path vN",
    #: "path retired"); unchanged ones are not listed.
    standards: list[str] = field(default_factory=list)
    #: Translations stored, changed or removed ("path", "path removed"); unchanged not listed.
    translations: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired or self.standards
                    or self.translations)

    def summary(self) -> str:
        text = (f"{len(self.created)} created, {len(self.updated)} updated, "
                f"{len(self.retired)} retired, {self.unchanged} unchanged")
        if self.standards:
            text += f"; {len(self.standards)} standards or agreement version(s) changed"
        if self.translations:
            text += f"; {len(self.translations)} translation(s) changed"
        return text


def sync_folders(session: Session, curricula_dir: Path, quizzes_dir: Path) -> SyncReport:
    """Validate the folders (raising ``ContentError`` before writing anything), then sync them.

    Like ``sync_content``, this only flushes: the caller commits.
    """
    bundle = load_content(curricula_dir, quizzes_dir)
    return sync_content(session, bundle)


def sync_content(session: Session, bundle: ContentBundle) -> SyncReport:
    """Write ``bundle`` into the session and flush, without committing.

    The caller ends the unit of work: commit to keep the sync, roll back on any error (a failed
    flush leaves part of the content written in the session).
    """
    report = SyncReport()
    _sync(session, bundle, report)
    return report


@dataclass(frozen=True)
class QuizSettings:
    """A quiz file's settings once the curriculum's defaults are applied."""

    retake_wait_minutes: int
    #: What identifies the version: the file's hash, plus any inherited default, so a changed
    #: default makes a new version while files that set their own keep their hash.
    version_hash: str


def resolve_quiz_settings(spec: QuizSpec, default_retake_wait_minutes: int | None) -> QuizSettings:
    if spec.retake_wait_minutes is not None:
        return QuizSettings(spec.retake_wait_minutes, spec.content_hash)
    if default_retake_wait_minutes is None:
        # load_content refuses this; reaching here means a bundle was built by hand.
        raise ValueError(f"{spec.path}: no retake_wait_minutes and no curriculum default")
    inherited = f"{spec.content_hash}\ndefault_retake_wait_minutes={default_retake_wait_minutes}"
    return QuizSettings(default_retake_wait_minutes,
                        hashlib.sha256(inherited.encode("utf-8")).hexdigest())


def _sync(session: Session, bundle: ContentBundle, report: SyncReport) -> None:
    now = utcnow()
    curricula = {c.slug: c for c in session.scalars(select(Curriculum))}
    modules = {m.slug: m for m in session.scalars(select(Module))}
    quizzes = {q.module.slug: q for q in session.scalars(select(Quiz).join(Quiz.module))}
    seen_modules: set[str] = set()
    synced: list[tuple[Curriculum, CurriculumSpec]] = []

    for spec in bundle.curricula:
        curriculum = curricula.get(spec.slug)
        if curriculum is None:
            curriculum = Curriculum(slug=spec.slug, title=spec.title,
                                    description=spec.description, content_hash=spec.content_hash)
            session.add(curriculum)
            session.flush()
            report.created.append(spec.path)
        elif curriculum.content_hash != spec.content_hash:
            curriculum.title = spec.title
            curriculum.description = spec.description
            curriculum.content_hash = spec.content_hash
            curriculum.updated_at = now
            report.updated.append(spec.path)
        else:
            report.unchanged += 1
        synced.append((curriculum, spec))

        for mspec in spec.modules:
            seen_modules.add(mspec.slug)
            module = modules.get(mspec.slug)
            if module is None:
                module = Module(slug=mspec.slug, curriculum_id=curriculum.id, version=1)
                _copy_module(module, mspec, curriculum.id)
                session.add(module)
                modules[mspec.slug] = module
                report.created.append(mspec.path)
            elif (module.content_hash != mspec.content_hash or module.retired
                  or module.position != mspec.position or module.curriculum_id != curriculum.id):
                if module.content_hash != mspec.content_hash:
                    module.version += 1
                _copy_module(module, mspec, curriculum.id)
                module.retired = False
                module.updated_at = now
                report.updated.append(mspec.path)
            else:
                # The same text, but the renderer may have changed (a sanitiser rule, say):
                # keep the stored page as today's renderer makes it, with no new version.
                html = render_markdown(mspec.body)
                if module.body_html != html:
                    module.body_html = html
                report.unchanged += 1
    session.flush()

    for slug, module in modules.items():
        if slug not in seen_modules and not module.retired:
            module.retired = True
            report.retired.append(f"module {slug}")

    default_waits = {m.slug: c.default_retake_wait_minutes
                     for c in bundle.curricula for m in c.modules}
    seen_quizzes: set[str] = set()
    for qspec in bundle.quizzes:
        seen_quizzes.add(qspec.module_slug)
        quiz = quizzes.get(qspec.module_slug)
        module = modules[qspec.module_slug]
        settings = resolve_quiz_settings(qspec, default_waits.get(qspec.module_slug))
        if quiz is None:
            quiz = Quiz(module_id=module.id)
            session.add(quiz)
            session.flush()
            _add_version(session, quiz, qspec, settings, number=1)
            report.created.append(qspec.path)
            continue
        current = quiz.current_version
        if current is not None and current.content_hash == settings.version_hash \
                and not quiz.retired:
            report.unchanged += 1
            continue
        if current is None or current.content_hash != settings.version_hash:
            _add_version(session, quiz, qspec, settings,
                         number=(current.number + 1) if current else 1)
        quiz.retired = False
        report.updated.append(qspec.path)

    for slug, quiz in quizzes.items():
        if slug not in seen_quizzes and not quiz.retired:
            quiz.retired = True
            report.retired.append(f"quiz {slug}")
    session.flush()

    _sync_standards(session, synced, report)
    _sync_module_translations(session, bundle.module_translations, modules, report)
    _sync_quiz_translations(session, bundle.quiz_translations, report)


def _sync_standards(session: Session, pairs: list[tuple[Curriculum, CurriculumSpec]],
                    report: SyncReport) -> None:
    """Version each curriculum's standards file and agreement texts; copy the frequencies."""
    ids = [curriculum.id for curriculum, _ in pairs]
    policies: dict[int, list[StandardsPolicy]] = {i: [] for i in ids}
    for policy in session.scalars(select(StandardsPolicy)
                                  .where(StandardsPolicy.curriculum_id.in_(ids))):
        policies[policy.curriculum_id].append(policy)
    agreements: dict[tuple[int, str], list[Agreement]] = {}
    for agreement in session.scalars(select(Agreement).where(Agreement.curriculum_id.in_(ids))):
        agreements.setdefault((agreement.curriculum_id, agreement.key), []).append(agreement)

    for curriculum, spec in pairs:
        standards = spec.standards
        rows = policies[curriculum.id]
        current = next((p for p in rows if p.current), None)
        if standards is None:
            if current is not None:
                current.current = False
                report.standards.append(f"standards of {spec.slug} retired")
        elif current is None or current.content_hash != standards.content_hash:
            if current is not None:
                current.current = False
            number = max((p.number for p in rows), default=0) + 1
            session.flush()  # the old version stops being current before the new one starts
            session.add(StandardsPolicy(curriculum_id=curriculum.id, number=number,
                                        content_hash=standards.content_hash,
                                        rules=standards.rules, current=True))
            report.standards.append(f"{standards.path} v{number}")
        supervision = standards.supervision_every_days if standards else None
        check_in = standards.check_in_every_days if standards else None
        if curriculum.supervision_every_days != supervision:
            curriculum.supervision_every_days = supervision
        if curriculum.check_in_every_days != check_in:
            curriculum.check_in_every_days = check_in

        wanted = {a.key: a for a in spec.agreements}
        keys = {key for (cid, key) in agreements if cid == curriculum.id} | set(wanted)
        for key in sorted(keys):
            versions = agreements.get((curriculum.id, key), [])
            current_text = next((a for a in versions if a.current), None)
            aspec = wanted.get(key)
            if aspec is None:
                if current_text is not None:
                    current_text.current = False
                    report.standards.append(f"agreement {spec.slug}/{key} retired")
                continue
            if current_text is not None and current_text.content_hash == aspec.content_hash:
                continue
            if current_text is not None:
                current_text.current = False
            number = max((a.number for a in versions), default=0) + 1
            session.flush()
            session.add(Agreement(curriculum_id=curriculum.id, key=key, number=number,
                                  title=aspec.title, body_html=render_markdown(aspec.body),
                                  content_hash=aspec.content_hash, current=True))
            report.standards.append(f"{aspec.path} v{number}")
    session.flush()


def _sync_module_translations(session: Session, specs: list[ModuleTranslationSpec],
                              modules: dict[str, Module], report: SyncReport) -> None:
    existing = {(t.module_id, t.locale): t for t in session.scalars(select(ModuleTranslation))}
    wanted: set[tuple[int, str]] = set()
    new: list[ModuleTranslation] = []
    for spec in specs:
        module = modules[spec.module_slug]
        key = (module.id, spec.locale)
        wanted.add(key)
        html = render_markdown(spec.body)
        row = existing.get(key)
        if row is None:
            new.append(ModuleTranslation(module_id=module.id, locale=spec.locale,
                                         title=spec.title, objectives=spec.objectives,
                                         body_html=html, content_hash=spec.content_hash))
            report.translations.append(spec.path)
        elif row.content_hash != spec.content_hash:
            row.title, row.objectives, row.body_html = spec.title, spec.objectives, html
            row.content_hash, row.updated_at = spec.content_hash, utcnow()
            report.translations.append(spec.path)
        elif row.body_html != html:  # the renderer changed, as for modules: no report
            row.body_html = html
    session.add_all(new)
    for key, row in existing.items():
        if key not in wanted:
            session.delete(row)
            report.translations.append(f"module {row.module_id} {row.locale} removed")
    session.flush()


def _quiz_texts(spec: QuizTranslationSpec) -> dict:
    return {q.key: {"prompt_html": render_markdown(q.prompt),
                    "rationale_html": render_markdown(q.rationale),
                    "options": {o["id"]: render_inline_markdown(o["text"]) for o in q.options}}
            for q in spec.questions}


def _sync_quiz_translations(session: Session, specs: list[QuizTranslationSpec],
                            report: SyncReport) -> None:
    """Translations belong to each quiz's current version; older versions keep theirs."""
    current = dict(session.execute(select(Module.slug, Quiz.current_version_id)
                                   .join(Quiz, Quiz.module_id == Module.id)
                                   .where(Quiz.retired.is_(False))).all())
    version_ids = [v for v in current.values() if v is not None]
    existing = {(t.quiz_version_id, t.locale): t for t in session.scalars(
        select(QuizTranslation).where(QuizTranslation.quiz_version_id.in_(version_ids)))}
    wanted: set[tuple[int, str]] = set()
    new: list[QuizTranslation] = []
    for spec in specs:
        version_id = current.get(spec.module_slug)
        if version_id is None:  # load_content refuses this; a bundle built by hand
            raise ValueError(f"{spec.path}: no quiz '{spec.module_slug}' to translate")
        key = (version_id, spec.locale)
        wanted.add(key)
        texts = _quiz_texts(spec)
        row = existing.get(key)
        if row is None:
            new.append(QuizTranslation(quiz_version_id=version_id, locale=spec.locale,
                                       texts=texts, content_hash=spec.content_hash))
            report.translations.append(spec.path)
        elif row.content_hash != spec.content_hash:
            row.texts, row.content_hash, row.updated_at = texts, spec.content_hash, utcnow()
            report.translations.append(spec.path)
        elif row.texts != texts:  # the renderer changed: no report
            row.texts = texts
    session.add_all(new)
    for key, row in existing.items():
        if key not in wanted:
            session.delete(row)
            report.translations.append(f"quiz version {row.quiz_version_id} {row.locale} removed")
    session.flush()


def _copy_module(module: Module, spec, curriculum_id: int) -> None:
    module.curriculum_id = curriculum_id
    module.position = spec.position
    module.title = spec.title
    module.kind = spec.kind
    module.estimated_minutes = spec.estimated_minutes
    module.objectives = spec.objectives
    module.body_html = render_markdown(spec.body)
    module.content_hash = spec.content_hash


def _add_version(session: Session, quiz: Quiz, spec: QuizSpec, settings: QuizSettings,
                 number: int) -> QuizVersion:
    version = QuizVersion(
        quiz_id=quiz.id,
        number=number,
        content_hash=settings.version_hash,
        pass_mark=spec.pass_mark,
        attempts_allowed=spec.attempts_allowed,
        retake_wait_minutes=settings.retake_wait_minutes,
        shuffle=spec.shuffle,
        review=spec.review,
    )
    session.add(version)
    session.flush()
    for position, q in enumerate(spec.questions):
        session.add(Question(
            quiz_version_id=version.id,
            key=q.key,
            position=position,
            type=q.type,
            objective=q.objective,
            prompt_html=render_markdown(q.prompt),
            options=[{"id": o["id"], "html": render_inline_markdown(o["text"])} for o in q.options],
            correct=q.correct,
            rationale_html=render_markdown(q.rationale),
        ))
    quiz.current_version_id = version.id
    session.flush()
    session.refresh(quiz)
    return version
