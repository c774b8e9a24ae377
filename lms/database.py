"""The database layer: one SQLAlchemy engine and session factory per Flask app.

lms keeps its own engine instead of using Flask-SQLAlchemy because Flask-SQLAlchemy allows one
instance per app: a host app that already uses it would collide with ours.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers carry on while one writer commits; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_before_savepoint(connection: Any, _name: str) -> None:
    """Python's sqlite3 (before 3.12's ``autocommit``) opens a transaction only at the first
    INSERT, UPDATE or DELETE. A SAVEPOINT issued before that opens the transaction itself, and
    its RELEASE then commits everything so far: a "nested" step would commit half a request.
    Open the real transaction first so the savepoint nests inside it, as on PostgreSQL.

    IMMEDIATE takes the write lock now, waiting out the busy timeout: a savepoint is always a
    step that writes, and one that first read inside a deferred transaction could not then
    upgrade to writing if another request had committed meanwhile ("database is locked" at
    once, with no wait)."""
    raw = connection.connection.dbapi_connection
    if not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


WROTE = "lms_wrote"


def _transaction_begins(connection: Any) -> None:
    connection.info[WROTE] = False


def _statement_runs(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    # Anything but a plain SELECT (an INSERT, UPDATE, DELETE, SAVEPOINT, a WITH that may
    # write) counts as a write, so a doubtful statement is always rolled back as before.
    if statement.lstrip()[:6].upper() != "SELECT":
        connection.info[WROTE] = True


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection,
    and savepoints that nest inside the request's transaction. Every engine notes whether the
    current transaction has written (see `end_session`)."""
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
    event.listen(engine, "begin", _transaction_begins)
    event.listen(engine, "before_cursor_execute", _statement_runs)
    return engine


def end_session(session: Session, failed: bool = False) -> None:
    """Close a request's session. A transaction that only read ends with COMMIT, not ROLLBACK.

    Both leave the database as it was, but psycopg forgets every prepared statement on a
    ROLLBACK (the server may have dropped what they refer to). With a ROLLBACK at the end of
    every request, PostgreSQL would parse and plan each of a page's queries afresh every time;
    after a COMMIT, the statements a page runs again and again stay prepared on the connection.
    Anything that wrote, failed or still holds unflushed changes is rolled back, exactly as a
    plain close would.
    """
    transaction = session.get_transaction()
    try:
        # An inactive transaction (a failed flush the view answered for) is left to close.
        if (not failed and transaction is not None and transaction.is_active
                and not session.new and not session.dirty and not session.deleted
                and not session.connection().info.get(WROTE, True)):
            session.commit()
    except Exception:  # a failed commit of nothing must not replace the page's answer
        logger.warning("ending a read-only transaction failed; rolled back", exc_info=True)
    finally:
        session.close()


class Database:
    """An engine plus a session factory, held by the LMS extension for one app."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_options)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessionmaker()

    def create_all(self) -> None:
        """Create every table directly (tests only; real databases go through migrations)."""
        from lms import models  # noqa: F401  (register the models on Base.metadata)

        Base.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        from lms import models  # noqa: F401

        Base.metadata.drop_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def is_unique_violation(error: Exception) -> bool:
    """Whether an IntegrityError is a unique rule (two requests making the same thing), as
    opposed to a missing parent or a NOT NULL: only the first is a double-click to absorb."""
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL's unique_violation
        return True
    return "UNIQUE constraint failed" in str(original)
