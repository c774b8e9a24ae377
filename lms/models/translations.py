"""Translations of modules and quiz versions, loaded from ``<name>.<lang>.md`` and
``quizzes/<name>.<lang>.yaml``.

A translation carries texts only: ids, answers and scoring stay on the original's rows, so an
attempt made in any language is stored and counted against the same questions and options.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow


class ModuleTranslation(Base):
    __tablename__ = "lms_module_translation"
    __table_args__ = (UniqueConstraint("module_id", "locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("lms_module.id"), index=True)
    locale: Mapped[str] = mapped_column(String(20))  # as in the file name: "fr", "pt-BR"
    title: Mapped[str] = mapped_column(String(200))
    # [{"id": ..., "text": ...}] with the original's ids, in its order.
    objectives: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    body_html: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizTranslation(Base):
    """The texts of one quiz version in one language. A new version of the quiz gets its own
    rows, so an old attempt is still shown with the texts it was answered in."""

    __tablename__ = "lms_quiz_translation"
    __table_args__ = (UniqueConstraint("quiz_version_id", "locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("lms_quiz_version.id"), index=True)
    locale: Mapped[str] = mapped_column(String(20))
    # {question key: {"prompt_html": ..., "rationale_html": ..., "options": {option id: html}}}
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
