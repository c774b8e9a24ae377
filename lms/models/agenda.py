"""The training agenda: sessions, attendance (with corrections), make-ups and feedback."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow
from lms.models.cohorts import Cohort
from lms.models.content import Module
from lms.models.people import Person

ACTIVITIES: tuple[str, ...] = ("teaching", "role-play", "group work", "observed practice")

PRESENT = "present"
LATE = "late"
LEFT_EARLY = "left_early"
EXCUSED = "excused"
ABSENT = "absent"
STATUSES: tuple[str, ...] = (PRESENT, LATE, LEFT_EARLY, EXCUSED, ABSENT)


class TrainingSession(Base):
    __tablename__ = "lms_training_session"
    __table_args__ = (Index("ix_lms_training_session_cohort_position", "cohort_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("lms_cohort.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    # Local date and time in the cohort's time zone; starts_at is the same instant in UTC.
    on_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    venue: Mapped[str] = mapped_column(String(300), default="")
    online_link: Mapped[str] = mapped_column(String(500), default="")
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id"))
    activities: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_core: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cohort: Mapped[Cohort] = relationship()
    facilitator: Mapped[Person | None] = relationship()
    module_links: Mapped[list[SessionModule]] = relationship(
        back_populates="session", cascade="all, delete-orphan", lazy="selectin")
    changes: Mapped[list[SessionChange]] = relationship(
        cascade="all, delete-orphan", order_by="SessionChange.changed_at")

    @property
    def module_ids(self) -> list[int]:
        return [link.module_id for link in self.module_links]

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class SessionChange(Base):
    """Append-only log of a session's cancellations, reinstatements and reschedulings (a new
    date, time or length): who, when, why."""

    __tablename__ = "lms_session_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lms_training_session.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # cancelled | reinstated | rescheduled
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped[Person | None] = relationship()


class SessionModule(Base):
    __tablename__ = "lms_session_module"
    __table_args__ = (UniqueConstraint("session_id", "module_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lms_training_session.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("lms_module.id"), index=True)

    session: Mapped[TrainingSession] = relationship(back_populates="module_links")
    module: Mapped[Module] = relationship()


class AttendanceRecord(Base):
    """The current mark for one trainee at one session. Changes are kept in AttendanceChange."""

    __tablename__ = "lms_attendance"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lms_training_session.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                           index=True)
    status: Mapped[str] = mapped_column(String(20))
    minutes_credited: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[Person] = relationship(foreign_keys=[recorded_by_id])


class AttendanceChange(Base):
    """Append-only history: every mark and every correction, with who, when and why."""

    __tablename__ = "lms_attendance_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("lms_attendance.id", ondelete="CASCADE"),
                                           index=True)
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str] = mapped_column(String(20))
    old_minutes: Mapped[int | None] = mapped_column(Integer)
    new_minutes: Mapped[int] = mapped_column(Integer)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")

    changed_by: Mapped[Person] = relationship()


class MakeUp(Base):
    """Credit for a missed session: another cohort's session on the same modules, or an
    activity a trainer records."""

    __tablename__ = "lms_make_up"
    __table_args__ = (UniqueConstraint("person_id", "missed_session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                           index=True)
    missed_session_id: Mapped[int] = mapped_column(
        ForeignKey("lms_training_session.id", ondelete="CASCADE"), index=True)
    via_session_id: Mapped[int | None] = mapped_column(ForeignKey("lms_training_session.id"))
    activity: Mapped[str] = mapped_column(Text, default="")
    minutes_credited: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    missed_session: Mapped[TrainingSession] = relationship(foreign_keys=[missed_session_id])
    via_session: Mapped[TrainingSession | None] = relationship(foreign_keys=[via_session_id])
    recorded_by: Mapped[Person] = relationship(foreign_keys=[recorded_by_id])


class SessionFeedback(Base):
    __tablename__ = "lms_session_feedback"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lms_training_session.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
