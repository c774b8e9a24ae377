"""Content loaded from files: curricula, modules, quizzes and their versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow


class Curriculum(Base):
    __tablename__ = "lms_curriculum"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    # None: LMS_SUPERVISION_EVERY_DAYS / LMS_CHECK_IN_EVERY_DAYS apply.
    supervision_every_days: Mapped[int | None] = mapped_column(Integer)
    check_in_every_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    modules: Mapped[list[Module]] = relationship(
        back_populates="curriculum", order_by="Module.position"
    )


class Module(Base):
    __tablename__ = "lms_module"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("lms_curriculum.id"), index=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # core | elective
    estimated_minutes: Mapped[int] = mapped_column(Integer)
    objectives: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    body_html: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Bumped each time the file changes, so progress can say which version was read.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A module dropped from the files is retired, never deleted: progress and attempts refer to it.
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    curriculum: Mapped[Curriculum] = relationship(back_populates="modules")
    quiz: Mapped[Quiz | None] = relationship(back_populates="module", uselist=False)

    @property
    def is_core(self) -> bool:
        return self.kind == "core"


class Quiz(Base):
    __tablename__ = "lms_quiz"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("lms_module.id"), unique=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_quiz_version.id", use_alter=True)
    )
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    module: Mapped[Module] = relationship(back_populates="quiz")
    current_version: Mapped[QuizVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class QuizVersion(Base):
    """One version of a quiz file. Attempts point at the version they answered."""

    __tablename__ = "lms_quiz_version"
    __table_args__ = (UniqueConstraint("quiz_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("lms_quiz.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    pass_mark: Mapped[int] = mapped_column(Integer)  # percent
    attempts_allowed: Mapped[int] = mapped_column(Integer)  # 0 = unlimited
    retake_wait_minutes: Mapped[int] = mapped_column(Integer)
    shuffle: Mapped[bool] = mapped_column(Boolean)
    # When the key and rationales are shown: after_pass | after_last_attempt | always.
    review: Mapped[str] = mapped_column(String(20), default="after_pass",
                                        server_default="after_pass")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    quiz: Mapped[Quiz] = relationship(foreign_keys=[quiz_id])
    questions: Mapped[list[Question]] = relationship(
        # Loaded when read (one query): most pages that load a version never show its questions.
        back_populates="quiz_version", order_by="Question.position"
    )


class Question(Base):
    __tablename__ = "lms_question"
    __table_args__ = (UniqueConstraint("quiz_version_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("lms_quiz_version.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))  # the stable id from the quiz file
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(30))
    objective: Mapped[str] = mapped_column(String(100))
    prompt_html: Mapped[str] = mapped_column(Text)
    # [{"id": "a", "html": "..."}]; true/false questions get generated options.
    options: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # The key: a list of option ids. Never rendered before the attempt is submitted.
    correct: Mapped[list[str]] = mapped_column(JSON)
    rationale_html: Mapped[str] = mapped_column(Text)

    quiz_version: Mapped[QuizVersion] = relationship(back_populates="questions")
