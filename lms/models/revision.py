"""The content revision: a stamp that moves whenever content changes.

Content (curricula, modules, quizzes, standards, agreements, their translations) changes only
when files are synced, yet nearly every page reads it. ``lms.services.content_cache`` keeps what
it read per process and reads it again only when this stamp has moved. The stamp moves in the
same transaction as the change (a flush listener below), and content is always read after the
stamp, so no process keeps old content under a new stamp.
"""

from __future__ import annotations

import secrets
from itertools import chain
from typing import Any

from sqlalchemy import Integer, String, Table, event, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms.database import Base
from lms.models.content import Curriculum, Module, Question, Quiz, QuizVersion
from lms.models.readiness import Agreement, StandardsPolicy
from lms.models.translations import ModuleTranslation, QuizTranslation

CONTENT_MODELS = (Curriculum, Module, Quiz, QuizVersion, Question, StandardsPolicy, Agreement,
                  ModuleTranslation, QuizTranslation)
# Where a session keeps the content it has taken from the cache for this transaction, and the
# stamp when a query already read it (the log-in session's look-up does, with the person).
SESSION_KEY = "lms_content"
STAMP_KEY = "lms_content_stamp"


class ContentRevision(Base):
    """One row (id 1). The stamp is random, never a counter: a database made afresh never
    repeats a stamp some process has cached content under."""

    __tablename__ = "lms_content_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))


def new_stamp() -> str:
    return secrets.token_hex(16)


@event.listens_for(ContentRevision.__table__, "after_create")
def _first_stamp(target: Table, connection: Connection, **_kw: Any) -> None:
    # Tables made by create_all (tests, benchmarks); the migration inserts the row itself.
    connection.execute(target.insert().values(id=1, stamp=new_stamp()))


@event.listens_for(Session, "before_flush")
def _content_changed(session: Session, _context: Any, _instances: Any) -> None:
    if any(isinstance(item, CONTENT_MODELS)
           for item in chain(session.new, session.dirty, session.deleted)):
        mark_changed(session)


def mark_changed(session: Session) -> None:
    """Move the stamp in the session's transaction (on its connection: no autoflush)."""
    session.connection().execute(
        update(ContentRevision.__table__).where(ContentRevision.__table__.c.id == 1)
        .values(stamp=new_stamp()))
    session.info.pop(SESSION_KEY, None)
    session.info.pop(STAMP_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_content(session: Session, _transaction: Any) -> None:
    # The next transaction reads the stamp again: another process may have changed content.
    # Every end counts (commit, rollback, close, a savepoint's): a savepoint rolled back may
    # have undone a change to content.
    session.info.pop(SESSION_KEY, None)
    session.info.pop(STAMP_KEY, None)
