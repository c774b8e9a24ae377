"""Alembic environment for lms: the engine comes from the running app (see lms.migrate)."""

from contextlib import contextmanager

from alembic import context

try:  # POSIX; elsewhere SQLite migrations are not serialised between processes
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

from lms import models  # noqa: F401  (register every table)
from lms.database import Base
from lms.migrate import VERSION_TABLE

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names):
    # Only lms's own tables: a host app's tables in the same database are none of our business.
    if type_ == "table":
        return name.startswith("lms_") and name != VERSION_TABLE
    return True


# Any fixed number: the PostgreSQL advisory lock every lms process takes to migrate.
MIGRATION_LOCK = 7_347_001


@contextmanager
def one_at_a_time(connection):
    """Serialise migrations between processes (four workers starting at once): an advisory
    lock on PostgreSQL, a lock file beside a SQLite database. The next process then finds
    the database at head and has nothing to do."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        connection.commit()
        try:
            yield
        finally:
            connection.rollback()
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
            connection.commit()
        return
    database = connection.engine.url.database
    if connection.dialect.name != "sqlite" or not database or database == ":memory:" \
            or fcntl is None:
        yield
        return
    with open(f"{database}.migrate-lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection, one_at_a_time(connection):
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode alters a SQLite table by rebuilding it (copy, drop, rename). With
            # foreign keys on, dropping the old table cascades deletes into every table that
            # refers to it (a cohort's rebuild would empty its enrolments). So they are off
            # while migrating (the pragma only works outside a transaction, hence first) and
            # every reference is checked before they go back on.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            include_name=include_name,
            render_as_batch=True,  # SQLite cannot ALTER most things in place
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"the migration left broken references: {broken[:5]}")


if context.is_offline_mode():
    raise SystemExit("lms migrations run online only: use `lms db upgrade`.")
run_migrations_online()
