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

# What an event is (``action``), beyond reads. Kept here so the admin page can offer them.
SIGN_OFF = "sign_off"
OVERRIDE = "override"
RATING = "rating"
REVOCATION = "revocation"
ROLE_CHANGE = "role_change"
SUPERVISOR_CHANGE = "supervisor_change"
ATTENDANCE_CORRECTION = "attendance_correction"
CSV_EXPORT = "csv_export"
PASSWORD_RESET = "password_reset"  # noqa: S105 (an event name)
CERTIFICATE = "certificate"
ACTIONS = (READ, SIGN_OFF, OVERRIDE, RATING, REVOCATION, ROLE_CHANGE, SUPERVISOR_CHANGE,
           ATTENDANCE_CORRECTION, CSV_EXPORT, PASSWORD_RESET, CERTIFICATE)


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


def record(session: Session, actor_id: int | None, action: str, subject_type: str,
           subject_id: int | None = None, person_id: int | None = None,
           detail: dict | None = None, *, now: datetime | None = None) -> AuditEvent:
    """Append one event: ``actor_id`` did ``action`` to ``subject_type`` #``subject_id``,
    which is about ``person_id``. ``detail`` holds plain facts (never passwords or notes)."""
    event = AuditEvent(at=now or utcnow(), actor_id=actor_id, action=action,
                       subject_type=subject_type, subject_id=subject_id, person_id=person_id,
                       detail=detail)
    session.add(event)
    session.flush()
    return event


def events_for(session: Session, person_id: int, limit: int = 200) -> list[AuditEvent]:
    """The newest audit events about one person's records."""
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.person_id == person_id)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
