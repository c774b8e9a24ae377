"""Alembic environment for lms: the engine comes from the running app (see lms.migrate)."""

from alembic import context

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


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
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
