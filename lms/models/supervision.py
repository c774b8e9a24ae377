"""Who supervises whom, supervision records, debriefs, self-care check-ins and flag
acknowledgements. Flags themselves are never stored: ``lms.services.flags`` derives them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow
from lms.models.people import Person


class SupervisorAssignment(Base):
    """One span of one supervisor supervising one trainee. History is kept: a change ends the
    current span (``ends_on``, exclusive) and starts another the same day."""

    __tablename__ = "lms_supervisor_assignment"
    __table_args__ = (
        # At most one current supervisor per trainee, even when two changes race.
        Index("uq_lms_supervisor_assignment_current", "trainee_id", unique=True,
              sqlite_where=text("ends_on IS NULL"), postgresql_where=text("ends_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                            index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                               index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # Set from a cohort's default supervisor (None: chosen for this person), so a new cohort
    # default moves only the trainees who had the old default.
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("lms_cohort.id",
                                                             ondelete="SET NULL"))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                             ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    trainee: Mapped[Person] = relationship(foreign_keys=[trainee_id])
    supervisor: Mapped[Person] = relationship(foreign_keys=[supervisor_id])


class SupervisionRecord(Base):
    """One supervision meeting: individual (one attendee) or group (several)."""

    __tablename__ = "lms_supervision_record"
    # Readiness sums each trainee's supervision minutes by joining their attendee rows to
    # these: with the minutes in an index, PostgreSQL reads index entries for a cohort's few
    # hundred records rather than scanning the whole table (a national programme: 14 ms to 2).
    __table_args__ = (Index("ix_lms_supervision_record_id_minutes", "id", "duration_minutes"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # individual | group
    format: Mapped[str] = mapped_column(String(20))  # in_person | phone | video | messaging
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Seen only by its author: never by a supervisee, nor by their later supervisors.
    private_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[Person] = relationship()
    attendees: Mapped[list[SupervisionAttendee]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="SupervisionAttendee.id")
    actions: Mapped[list[AgreedAction]] = relationship(
        back_populates="supervision", cascade="all, delete-orphan", order_by="AgreedAction.id")


class SupervisionAttendee(Base):
    """A supervisee at a supervision meeting, with their own reflection on it."""

    __tablename__ = "lms_supervision_attendee"
    __table_args__ = (UniqueConstraint("record_id", "trainee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("lms_supervision_record.id",
                                                      ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                            index=True)
    reflection: Mapped[str | None] = mapped_column(Text)
    reflection_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    record: Mapped[SupervisionRecord] = relationship(back_populates="attendees")
    trainee: Mapped[Person] = relationship()


class Debrief(Base):
    """A debrief after a critical incident, started by the peer supporter or their supervisor."""

    __tablename__ = "lms_debrief"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                            index=True)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id"))
    # The trainee's supervisor when it was started. Reading follows lms.services.debriefs:
    # the trainee, whoever started it and the current supervisor.
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                                 ondelete="SET NULL"))
    incident_type: Mapped[str] = mapped_column(String(30))
    incident_on: Mapped[date] = mapped_column(Date)
    what_happened: Mapped[str] = mapped_column(Text, default="")
    how_now: Mapped[str] = mapped_column(Text, default="")
    support_needed: Mapped[str] = mapped_column(Text, default="")
    # Names of the identifying-text patterns the author was warned of and chose to keep.
    identifying_kept: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    trainee: Mapped[Person] = relationship(foreign_keys=[trainee_id])
    started_by: Mapped[Person] = relationship(foreign_keys=[started_by_id])
    supervisor: Mapped[Person | None] = relationship(foreign_keys=[supervisor_id])
    actions: Mapped[list[AgreedAction]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="AgreedAction.id")


class AgreedAction(Base):
    """An action agreed at a supervision, or a follow-up of a debrief (exactly one is set)."""

    __tablename__ = "lms_agreed_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supervision_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_supervision_record.id", ondelete="CASCADE"), index=True)
    debrief_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_debrief.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                            ondelete="SET NULL"))
    due_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                              ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    supervision: Mapped[SupervisionRecord | None] = relationship(back_populates="actions")
    debrief: Mapped[Debrief | None] = relationship(back_populates="actions")
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])


class RecordRevision(Base):
    """The text a supervision record or debrief had before an edit (one row per edit)."""

    __tablename__ = "lms_record_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supervision_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_supervision_record.id", ondelete="CASCADE"), index=True)
    debrief_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_debrief.id", ondelete="CASCADE"), index=True)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                                ondelete="SET NULL"))
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    previous: Mapped[dict[str, Any]] = mapped_column(JSON)

    edited_by: Mapped[Person | None] = relationship()


class RecordCorrection(Base):
    """A note added to a supervision record or debrief once its edit window has closed."""

    __tablename__ = "lms_record_correction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supervision_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_supervision_record.id", ondelete="CASCADE"), index=True)
    debrief_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_debrief.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                             ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Person | None] = relationship()


class CheckIn(Base):
    """A self-care check-in. Every item is 1-5 where 5 is the good end."""

    __tablename__ = "lms_check_in"
    __table_args__ = (Index("ix_lms_check_in_trainee_at", "trainee_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mood: Mapped[int] = mapped_column(SmallInteger)
    calm: Mapped[int] = mapped_column(SmallInteger)  # stress, asked as "how calm"
    manageable: Mapped[int] = mapped_column(SmallInteger)  # workload, asked as "how manageable"
    sleep: Mapped[int] = mapped_column(SmallInteger)
    supported: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    wants_to_talk: Mapped[bool] = mapped_column(Boolean, default=False)

    trainee: Mapped[Person] = relationship()


class FlagAcknowledgement(Base):
    """A supervisor's acknowledgement of one flag. ``key`` names the episode the flag belongs
    to and ``severity`` how bad it was then: a worse episode shows the flag again."""

    __tablename__ = "lms_flag_acknowledgement"
    __table_args__ = (Index("ix_lms_flag_ack_trainee_kind", "trainee_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(100))
    severity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[Person | None] = relationship(foreign_keys=[by_id])
