"""Cohorts (a run of one curriculum), their staff, and enrolments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow
from lms.models.content import Curriculum
from lms.models.people import Person


class Cohort(Base):
    __tablename__ = "lms_cohort"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("lms_curriculum.id"))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # Sessions are planned in local time; this zone turns them into instants (and .ics times).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Secret part of the cohort's calendar feed URL, for its trainers' calendar apps.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The default supervisor of its trainees (lms.services.supervisors keeps who has whom).
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    curriculum: Mapped[Curriculum] = relationship()
    supervisor: Mapped[Person | None] = relationship(foreign_keys=[supervisor_id])
    staff: Mapped[list[CohortStaff]] = relationship(back_populates="cohort",
                                                    cascade="all, delete-orphan")


class CohortStaff(Base):
    """A trainer or supervisor of a cohort."""

    __tablename__ = "lms_cohort_staff"
    __table_args__ = (UniqueConstraint("cohort_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("lms_cohort.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                           index=True)
    role: Mapped[str] = mapped_column(String(20))  # trainer | supervisor

    cohort: Mapped[Cohort] = relationship(back_populates="staff")
    person: Mapped[Person] = relationship()


class Enrolment(Base):
    __tablename__ = "lms_enrolment"
    __table_args__ = (UniqueConstraint("cohort_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("lms_cohort.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("lms_person.id", ondelete="CASCADE"), index=True
    )
    enrolled_on: Mapped[date] = mapped_column(Date)
    # A back-dated enrolment keeps who dated it back and why.
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id"))
    backdate_reason: Mapped[str | None] = mapped_column(Text)
    # Withdrawal keeps every record; attendance stops counting after ``withdrawn_on``.
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cohort: Mapped[Cohort] = relationship()
    person: Mapped[Person] = relationship(foreign_keys=[person_id])

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_on is not None


class JoinRequest(Base):
    """A stand-in (``Person.stands_in``) and the existing account it stands in for: made when a
    trainer enrols an address they may not know has an account. The owner joins by logging in
    and opening the invitation link; until then staff see only the stand-in."""

    __tablename__ = "lms_join_request"
    # One stand-in per account and cohort: a double-click finds the first one.
    __table_args__ = (UniqueConstraint("person_id", "cohort_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stand_in_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                             unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                           index=True)
    # The cohort it was made for (the stand-in may be enrolled in more of the trainer's later).
    cohort_id: Mapped[int] = mapped_column(ForeignKey("lms_cohort.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                                   ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    stand_in: Mapped[Person] = relationship(foreign_keys=[stand_in_id])
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    cohort: Mapped[Cohort] = relationship()
    requested_by: Mapped[Person | None] = relationship(foreign_keys=[requested_by_id])
