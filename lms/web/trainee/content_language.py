"""Module and quiz texts in the reader's language (``flask_babel.get_locale()``), when the
content carries a translation; otherwise the original.

Only texts change: the pages get light stand-ins for the module and the questions whose titles,
objectives, prompts, option labels and rationales are the translation's, while ids, keys,
answers and everything scored stay the original's. So an attempt in French is stored, scored and
counted exactly like one in English. One query per page, whatever the number of questions;
none when nothing is translated into the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from lms.models import Module, ModuleTranslation, Question, QuizTranslation
from lms.services.content_cache import content
from lms.services.quizzes import AttemptResult, RereadLink, ordered_questions


class Overlay:
    """An object that reads like ``base`` except for the attributes given."""

    def __init__(self, base: Any, **texts: Any) -> None:
        self._base = base
        self.__dict__.update(texts)

    def __getattr__(self, name: str) -> Any:  # only called for what the overlay does not set
        return getattr(self._base, name)


@dataclass(frozen=True)
class Translation:
    """The reader's translation of one module and, optionally, one quiz version."""

    title: str | None = None
    objectives: list[dict[str, str]] | None = None
    body_html: str | None = None
    quiz_texts: dict[str, Any] | None = None
    #: Translated titles of other modules (the pager's neighbours), by module id.
    titles: dict[int, str] = field(default_factory=dict)

    def titled(self, module: Module | None) -> Module | Overlay | None:
        """Another module with its translated title, for a link to it."""
        if module is None or module.id not in self.titles:
            return module
        return Overlay(module, title=self.titles[module.id])

    def module(self, module: Module) -> Module | Overlay:
        if self.title is None:
            return module
        # The original's ids with the translated texts: links to objectives keep working.
        texts = {o["id"]: o["text"] for o in self.objectives or []}
        objectives = [{**o, "text": texts.get(o["id"], o["text"])} for o in module.objectives]
        return Overlay(module, title=self.title, objectives=objectives,
                       body_html=self.body_html if self.body_html is not None
                       else module.body_html)

    def question(self, question: Question) -> Question | Overlay:
        texts = (self.quiz_texts or {}).get(question.key)
        if not texts:
            return question
        labels = texts.get("options") or {}
        if question.type == "true_false" and not labels:
            # Generated options have no text in the file: the interface's words for them.
            labels = {"true": str(escape(_("True"))), "false": str(escape(_("False")))}
        options = [{**o, "html": labels.get(o["id"], o["html"])} for o in question.options]
        return Overlay(question, prompt_html=texts["prompt_html"],
                       rationale_html=texts["rationale_html"], options=options)

    def questions(self, questions: list[Question]) -> list[Question | Overlay]:
        return [self.question(q) for q in questions]

    def result(self, result: AttemptResult) -> AttemptResult:
        """The result page's texts translated; marks, keys and responses untouched."""
        if self.quiz_texts is None and self.objectives is None:
            return result
        prompts = {key: t["prompt_html"] for key, t in (self.quiz_texts or {}).items()}
        # A wrong item carries its number in the attempt's order, not its key.
        keys = {n: q.key for n, q in enumerate(ordered_questions(result.attempt), start=1)}
        objective_texts = {o["id"]: o["text"] for o in self.objectives or []}
        return replace(
            result,
            items=[replace(item, question=self.question(item.question)) for item in result.items],
            wrong=[replace(w, prompt_html=prompts.get(keys.get(w.number), w.prompt_html))
                   for w in result.wrong],
            reread=[RereadLink(link.objective_id,
                               objective_texts.get(link.objective_id or "", link.text),
                               link.anchor) for link in result.reread])


def locale_candidates() -> list[str]:
    """The reader's locale as file names spell it, most specific first: fr-CA, then fr."""
    locale = get_locale()
    if locale is None:
        return []
    codes = [locale.language]
    if locale.territory:
        codes.insert(0, f"{locale.language}-{locale.territory}")
    return codes


@lru_cache(maxsize=32)
def _translation_statement(body: bool, quiz: bool, linked: int) -> Select:
    """The query for one shape of page, built once (building it cost more than running it);
    the ids and locale codes are bound per call."""
    mt, qt = ModuleTranslation, QuizTranslation
    columns = [_pick(mt.title, mt.module_id, "module_id", mt.locale),
               _pick(mt.objectives, mt.module_id, "module_id", mt.locale)]
    if body:
        columns.append(_pick(mt.body_html, mt.module_id, "module_id", mt.locale))
    if quiz:
        columns.append(_pick(qt.texts, qt.quiz_version_id, "quiz_version_id", qt.locale))
    columns += [_pick(mt.title, mt.module_id, f"linked_{i}", mt.locale) for i in range(linked)]
    return select(*columns)


def _pick(column, owner, owner_key: str, locale_column):
    return (select(column).where(owner == bindparam(owner_key),
                                 locale_column.in_(bindparam("codes", expanding=True)))
            .order_by(func.length(locale_column).desc()).limit(1).scalar_subquery())


def translation_for(session: Session, module: Module, quiz_version_id: int | None = None,
                    body: bool = False,
                    others: Sequence[Module | None] = ()) -> Translation:
    """The reader's translation of ``module`` (its body only if ``body``), of the quiz version
    and of the titles of ``others``, in one query; an empty ``Translation`` when there is
    none."""
    codes = locale_candidates()
    if not codes or not content(session).translated_into(codes):
        return Translation()  # nothing is translated into the reader's language: no query
    linked = [m for m in others if m is not None]
    values: dict[str, Any] = {"codes": codes, "module_id": module.id,
                              "quiz_version_id": quiz_version_id}
    values.update({f"linked_{i}": m.id for i, m in enumerate(linked)})
    statement = _translation_statement(body, quiz_version_id is not None, len(linked))
    row = list(session.execute(statement, values).one())
    title, objectives = row[0], row[1]
    rest = row[2:]
    body_html = rest.pop(0) if body else None
    quiz_texts = rest.pop(0) if quiz_version_id is not None else None
    titles = {m.id: t for m, t in zip(linked, rest, strict=True) if t is not None}
    return Translation(title=title, objectives=objectives, body_html=body_html,
                       quiz_texts=quiz_texts, titles=titles)
