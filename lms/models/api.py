"""Clients of the read-only JSON API: each an other system (a case-management app) with its own
token, issued, named, scoped and revoked by an admin."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow
from lms.models.content import Curriculum


class ApiClient(Base):
    __tablename__ = "lms_api_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the token: the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so an admin can tell tokens apart in logs and lists.
    token_prefix: Mapped[str] = mapped_column(String(12))
    # The programme it may read: one curriculum's cohorts, trainees and certificates; None is
    # every curriculum.
    curriculum_id: Mapped[int | None] = mapped_column(ForeignKey("lms_curriculum.id",
                                                                 ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                                 ondelete="SET NULL"))

    curriculum: Mapped[Curriculum | None] = relationship()

    @property
    def live(self) -> bool:
        return self.revoked_at is None
