"""Content read once per process: curricula, their modules (with quiz and current version, not
the text), each curriculum's current standards policy and current agreements, and the number
of questions of each current quiz version; a module's anchors are added the first time a page
needs them.

Nearly every page reads some of it, and it changes only when files are synced. A session asks
for it with ``content(session)``: one query reads the revision stamp (lms.models.revision); if
this process read the content under that stamp, nothing more is read. Objects are handed out as
copies merged into the asking session without SQL (``merge(load=False)``), so they behave as if
loaded there (lazy loads work); their JSON values are copied too, so nothing mutable is shared
between requests or threads. What the session already holds is handed out as it is.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, defer, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

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
from lms.models.revision import SESSION_KEY, STAMP_KEY, ContentRevision

T = TypeVar("T")
# The mutable (JSON) attributes of what is cached, copied for each session.
_JSON_ATTRIBUTES: dict[type, tuple[str, ...]] = {Module: ("objectives",),
                                                 StandardsPolicy: ("rules",),
                                                 Question: ("options", "correct")}


@dataclass
class _Read:
    """What one process read under one stamp (detached objects, never handed out as they are)."""

    stamp: str | None
    curricula: dict[int, Curriculum]
    modules: dict[int, Module]
    module_ids_by_slug: dict[str, int]
    module_ids_by_quiz: dict[int, int]
    live_module_ids: dict[int, list[int]]  # curriculum id -> live modules in order
    policies: dict[int, StandardsPolicy]  # curriculum id -> current policy
    agreements: dict[int, list[Agreement]]  # curriculum id -> current agreements, by key
    # Current quiz version id -> its number of questions. A version's questions never change
    # (new content makes a new version), so the quiz page counts them without loading them.
    question_counts: dict[int, int] = field(default_factory=dict)
    # Module id -> the ids in its page (its sections' anchors), found the first time a page
    # needs them: the body is deferred, and the result page needs only its anchors.
    anchors: dict[int, frozenset[str]] = field(default_factory=dict)
    # Module id -> its text (HTML), read the first time its page is shown.
    bodies: dict[int, str] = field(default_factory=dict)
    # Quiz version id -> its questions in order (detached), read the first time an attempt
    # at it is shown, scored or reviewed: a version's questions never change.
    questions: dict[int, list[Question]] = field(default_factory=dict)
    # The locales any module or quiz is translated into ("fr", "fr-CA"): a page in another
    # language asks for no translation at all.
    translated_locales: frozenset[str] = frozenset()


_read: WeakKeyDictionary[Engine, _Read] = WeakKeyDictionary()
_reading = threading.Lock()


@dataclass
class Content:
    """The content as one session sees it; objects are merged into that session on demand."""

    session: Session
    read: _Read
    _merged: dict[tuple[type, int], Any] = field(default_factory=dict)

    def _attach(self, item: T) -> T:
        key = (type(item), item.id)  # type: ignore[attr-defined]
        found = self._merged.get(key)
        if found is not None and not inspect(found).expired_attributes:
            return found
        # What the session holds already wins: it may be fresher (read after another process
        # changed it) or carry changes not yet flushed, which a merge would overwrite.
        held = self.session.identity_map.get(identity_key(type(item), item.id))  # type: ignore[attr-defined]
        if held is not None and not inspect(held).expired_attributes:
            self._merged[key] = held
            return held
        # Merged (again, when the session has expired it: else each attribute read would
        # reload it from the database).
        found = self._merged[key] = self.session.merge(item, load=False)
        for name in _JSON_ATTRIBUTES.get(type(item), ()):
            # A JSON value would otherwise be one object shared by every request: copied, so
            # a change to it stays with its session.
            set_committed_value(found, name, json_copy(getattr(item, name)))
        return found

    def curricula(self, ids: Iterable[int]) -> list[Curriculum]:
        """These curricula by title (unknown ids are left out)."""
        found = [self._attach(self.read.curricula[i]) for i in set(ids)
                 if i in self.read.curricula]
        return sorted(found, key=lambda c: (c.title, c.id))

    def live_modules(self, curriculum_ids: Iterable[int]) -> list[Module]:
        """The live modules of these curricula, by curriculum id and position."""
        return [self._attach(self.read.modules[m]) for c in sorted(set(curriculum_ids))
                for m in self.read.live_module_ids.get(c, ())]

    def module(self, slug: str) -> Module | None:
        """The module (live or retired) with this slug; its text loads when read."""
        module_id = self.read.module_ids_by_slug.get(slug)
        return None if module_id is None else self._attach(self.read.modules[module_id])

    def module_of_quiz(self, quiz_id: int) -> Module | None:
        """The module a quiz belongs to, with the quiz and its current version (so that an
        attempt's ``quiz`` and ``quiz.module`` then load from the session, without SQL)."""
        module_id = self.read.module_ids_by_quiz.get(quiz_id)
        return None if module_id is None else self._attach(self.read.modules[module_id])

    def policy(self, curriculum_id: int) -> StandardsPolicy | None:
        found = self.read.policies.get(curriculum_id)
        return None if found is None else self._attach(found)

    def question_count(self, version: QuizVersion) -> int:
        """How many questions ``version`` has; its questions are loaded only for a version
        this process has not counted (one read before a new version was synced)."""
        found = self.read.question_counts.get(version.id)
        return found if found is not None else len(version.questions)

    def anchors(self, module: Module) -> frozenset[str]:
        """The ids in ``module``'s page, read from its body once per process and stamp (two
        requests finding them at once both store the same answer)."""
        found = self.read.anchors.get(module.id)
        if found is None:
            found = self.read.anchors[module.id] = html_ids(self.with_body(module).body_html)
        return found

    def with_body(self, module: Module) -> Module:
        """``module`` with its text loaded: read once per process and stamp, then set on the
        session's copy without SQL. A text this session changed, or loaded, is left as it is."""
        if "body_html" not in inspect(module).unloaded:
            return module
        body = self.read.bodies.get(module.id)
        if body is None:
            body = self.session.scalar(select(Module.body_html).where(Module.id == module.id))
            if body is None:  # no such row (any more): the attribute loads, or fails, as usual
                return module
            self.read.bodies[module.id] = body
        set_committed_value(module, "body_html", body)
        return module

    def with_questions(self, version: QuizVersion) -> QuizVersion:
        """``version`` with its questions loaded: read once per process and stamp, then
        handed out as the session's own copies (what the session holds already wins)."""
        if "questions" not in inspect(version).unloaded:
            return version
        set_committed_value(version, "questions",
                            [self._attach(q) for q in self._questions(version.id)])
        return version

    def questions_to_score(self, version: QuizVersion) -> list[Question]:
        """``version``'s questions for reading only, not copied into the session: scoring a
        submission reads each question's key, type, options and answer and changes nothing,
        and thirteen copies were about a sixth of a submission's CPU time. The cached objects are
        shared by every request of the process: never change one, nor hand it to a page.
        Questions the session loaded itself (it may have changed them) are used instead."""
        if "questions" not in inspect(version).unloaded:
            return list(version.questions)
        return self._questions(version.id)

    def _questions(self, version_id: int) -> list[Question]:
        """The version's questions as read once per process and stamp (detached, every column
        loaded)."""
        found = self.read.questions.get(version_id)
        if found is None:
            # A session of its own on the same connection, as in ``_read_all``: what it loads
            # is detached when it closes.
            with Session(bind=self.session.connection(), expire_on_commit=False) as loader:
                found = list(loader.scalars(select(Question)
                                            .where(Question.quiz_version_id == version_id)
                                            .order_by(Question.position)))
                loader.expunge_all()
            self.read.questions[version_id] = found
        return found

    def translated_into(self, codes: Iterable[str]) -> bool:
        """Whether any module or quiz is translated into one of these locales."""
        return any(code in self.read.translated_locales for code in codes)

    def agreements(self, curriculum_id: int) -> list[Agreement]:
        """The current agreements; their text loads when read."""
        return [self._attach(a) for a in self.read.agreements.get(curriculum_id, ())]


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, strings, numbers, booleans, None): the same
    result as ``copy.deepcopy`` at a fraction of its cost, which keeps a memo of every object
    it visits. Anything else is left to ``deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


_ID_ATTRIBUTE = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""")


def html_ids(html: str | None) -> frozenset[str]:
    """The ``id`` attributes in a piece of HTML (a module's anchors)."""
    return frozenset(_ID_ATTRIBUTE.findall(html or ""))


def stamp_query():
    """The stamp as a scalar subquery, for a query every page runs anyway to bring along
    (then ``noted`` keeps it for ``content``)."""
    return select(ContentRevision.stamp).where(ContentRevision.id == 1).scalar_subquery()


def noted(session: Session, stamp: str | None) -> None:
    """The stamp as just read in this session's transaction: ``content`` needs no query."""
    session.info[STAMP_KEY] = stamp


def content(session: Session) -> Content:
    """The content for this session's transaction: one query, or a few when it has changed."""
    known = session.info.get(SESSION_KEY)
    if known is not None:
        return known
    if STAMP_KEY in session.info:  # read already in this transaction, with the log-in session
        stamp = session.info[STAMP_KEY]
    else:
        stamp = session.scalar(select(ContentRevision.stamp).where(ContentRevision.id == 1))
    engine = session.get_bind()
    read = _read.get(engine) if stamp is not None else None
    if read is None or read.stamp != stamp:
        read = _read_all(session, stamp)
        if stamp is not None:
            with _reading:
                _read[engine] = read
    known = session.info[SESSION_KEY] = Content(session, read)
    return known


def _read_all(session: Session, stamp: str | None) -> _Read:
    # A session of its own on the same connection (so the same transaction): what it loads
    # is detached when it closes, and the asking session's identity map is left alone.
    with Session(bind=session.connection(), expire_on_commit=False) as loader:
        curricula = {c.id: c for c in loader.scalars(select(Curriculum))}
        modules = {m.id: m for m in loader.scalars(
            select(Module).options(defer(Module.body_html), selectinload(Module.quiz)
                                   .selectinload(Quiz.current_version))
            .order_by(Module.curriculum_id, Module.position, Module.id))}
        policies = {p.curriculum_id: p for p in loader.scalars(
            select(StandardsPolicy).where(StandardsPolicy.current.is_(True)))}
        agreements: dict[int, list[Agreement]] = {}
        for agreement in loader.scalars(
                select(Agreement).where(Agreement.current.is_(True))
                .options(defer(Agreement.body_html)).order_by(Agreement.key, Agreement.id)):
            agreements.setdefault(agreement.curriculum_id, []).append(agreement)
        current_versions = [m.quiz.current_version_id for m in modules.values()
                            if m.quiz is not None and m.quiz.current_version_id is not None]
        question_counts = {version_id: count for version_id, count in loader.execute(
            select(Question.quiz_version_id, func.count(Question.id))
            .where(Question.quiz_version_id.in_(current_versions))
            .group_by(Question.quiz_version_id))}
        translated = frozenset(loader.scalars(
            select(ModuleTranslation.locale).union(select(QuizTranslation.locale))))
        live: dict[int, list[int]] = {}
        for module in modules.values():
            if not module.retired:
                live.setdefault(module.curriculum_id, []).append(module.id)
        loader.expunge_all()
    return _Read(stamp=stamp, curricula=curricula, modules=modules,
                 module_ids_by_slug={m.slug: m.id for m in modules.values()},
                 module_ids_by_quiz={m.quiz.id: m.id for m in modules.values()
                                     if m.quiz is not None},
                 live_module_ids=live, policies=policies, agreements=agreements,
                 question_counts=question_counts, translated_locales=translated)
