"""The Alembic migrations produce exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from lms.database import Base, Database
from lms.migrate import VERSION_TABLE, current_revision, downgrade, head_revision, upgrade
from tests.conftest import database_url


def fresh_database(tmp_path) -> Database:
    db = Database(database_url(tmp_path))
    if db.engine.dialect.name != "sqlite":
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    return db


def test_migrations_match_the_models(tmp_path):
    db = fresh_database(tmp_path)
    try:
        upgrade(db)
        assert current_revision(db) == head_revision(db)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "version_table": VERSION_TABLE,
                "include_name": lambda name, type_, _p: type_ != "table" or (
                    name.startswith("lms_") and name != VERSION_TABLE),
                "compare_type": True,
            })
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        downgrade(db, "base")
        assert [t for t in inspect(db.engine).get_table_names() if t != VERSION_TABLE] == []
        db.dispose()


def test_upgrade_keeps_data_and_is_repeatable(tmp_path):
    db = fresh_database(tmp_path)
    try:
        upgrade(db)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO lms_person (email, name, active, is_demo, created_at) "
                "VALUES ('keep@example.org', 'Keep', true, false, CURRENT_TIMESTAMP)"))
        upgrade(db)  # nothing to do, nothing lost
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT email FROM lms_person")).scalar() == \
                "keep@example.org"
    finally:
        downgrade(db, "base")
        db.dispose()
