"""The audit log: who read or changed a sensitive record, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow
from lms.models.people import Person


class AuditEvent(Base):
    __tablename__ = "lms_audit_event"
    __table_args__ = (Index("ix_lms_audit_event_person_at", "person_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                            ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))  # read | ...
    subject_type: Mapped[str] = mapped_column(String(40))  # debrief | check_in_note | ...
    subject_id: Mapped[int | None] = mapped_column(Integer)
    # Whose record it is (a trainee), so their audit trail is one indexed query.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                             ondelete="SET NULL"))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[Person | None] = relationship(foreign_keys=[actor_id])
