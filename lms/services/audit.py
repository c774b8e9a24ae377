"""The audit log: every read of a sensitive record by someone other than its author.

Reads are written in bulk (one statement per page, whatever it shows) so a supervisee page
listing fifty check-in notes costs one insert, not fifty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from lms.models import AuditEvent
from lms.models._types import utcnow

READ = "read"
DEBRIEF = "debrief"
CHECK_IN_NOTE = "check_in_note"


@dataclass(frozen=True)
class Subject:
    """One record read: its kind, id, whose record it is and who wrote it."""

    kind: str
    id: int
    person_id: int
    author_id: int | None


def record_reads(session: Session, actor_id: int, subjects: Iterable[Subject], *,
                 now: datetime | None = None) -> int:
    """Log that ``actor_id`` read each subject they did not write. Returns how many rows."""
    at = now or utcnow()
    rows = [{"at": at, "actor_id": actor_id, "action": READ, "subject_type": s.kind,
             "subject_id": s.id, "person_id": s.person_id}
            for s in subjects if s.author_id != actor_id]
    if rows:
        session.execute(insert(AuditEvent), rows)
    return len(rows)


def events_for(session: Session, person_id: int, limit: int = 200) -> list[AuditEvent]:
    """The newest audit events about one person's records."""
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.person_id == person_id)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
