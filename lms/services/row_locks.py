"""Make concurrent savers of the same thing go one at a time.

A read-then-write (the old mark, then the new one) is only true if nobody writes between the
two. Locking the parent row first makes the second saver wait for the first to commit, then
read what it wrote. The lock is a no-op UPDATE: on PostgreSQL it locks that row until the
transaction ends; on SQLite it takes the database's write lock (waiting out the busy timeout),
which is the only lock SQLite has.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session


def hold(session: Session, model: type, row_id: int) -> None:
    """Lock ``model``'s row ``row_id`` for the rest of the session's transaction."""
    key = model.__table__.c.id
    session.execute(update(model).where(key == row_id).values({key: key})
                    .execution_options(synchronize_session=False))
