"""A trainee's learning record: modules read, quiz attempts and answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow
from lms.models.content import Module, Question, Quiz, QuizVersion


class ModuleProgress(Base):
    __tablename__ = "lms_module_progress"
    __table_args__ = (UniqueConstraint("person_id", "module_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("lms_module.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    module_version: Mapped[int] = mapped_column(Integer)

    module: Mapped[Module] = relationship()


class Attempt(Base):
    __tablename__ = "lms_attempt"
    __table_args__ = (
        Index("ix_lms_attempt_person_quiz", "person_id", "quiz_id"),
        # Item statistics pick each trainee's first submitted attempt at a version: this order
        # is the index's, so neither the programme (20,000 trainees) nor a cohort needs a sort
        # or a scan, and the index alone answers "have the attempts changed".
        Index("ix_lms_attempt_version_person_started", "quiz_version_id", "person_id",
              "started_at", "id", "submitted_at"),
        # At most one open attempt per person and quiz, even when two requests race.
        Index("uq_lms_attempt_open", "person_id", "quiz_id", unique=True,
              sqlite_where=text("submitted_at IS NULL"),
              postgresql_where=text("submitted_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("lms_quiz.id"))
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("lms_quiz_version.id"), index=True)
    # The question keys in the order this attempt shows them (shuffled once, at the start).
    question_order: Mapped[list[str]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)  # percent, 0-100
    passed: Mapped[bool | None] = mapped_column(Boolean)

    quiz: Mapped[Quiz] = relationship()
    quiz_version: Mapped[QuizVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class Answer(Base):
    __tablename__ = "lms_answer"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("lms_attempt.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("lms_question.id"), index=True)
    response: Mapped[list[str]] = mapped_column(JSON)  # option ids chosen
    mark: Mapped[float] = mapped_column(Float)  # 0..1

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()
