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


def test_enrolment_supervisors_become_supervisor_assignments(tmp_path):
    """0008 moves each trainee's supervisor from their enrolments (the latest wins) into the
    assignment history, so nobody loses their supervisor on upgrade."""
    db = fresh_database(tmp_path)
    try:
        upgrade(db, "0007")
        with db.engine.begin() as connection:
            run = connection.execute
            for n, email in enumerate(("t@example.org", "s1@example.org", "s2@example.org")):
                run(text("INSERT INTO lms_person (id, email, name, active, is_demo, created_at, "
                         "must_change_password) VALUES (:id, :email, 'P', true, false, "
                         "CURRENT_TIMESTAMP, false)"), {"id": n + 1, "email": email})
            run(text("INSERT INTO lms_curriculum (id, slug, title, description, content_hash, "
                     "updated_at) VALUES (1, 'c', 'C', '', 'h', CURRENT_TIMESTAMP)"))
            for cohort in (1, 2):
                run(text("INSERT INTO lms_cohort (id, name, curriculum_id, timezone, created_at)"
                         " VALUES (:id, 'C', 1, 'UTC', CURRENT_TIMESTAMP)"), {"id": cohort})
            run(text("INSERT INTO lms_enrolment (cohort_id, person_id, enrolled_on, "
                     "supervisor_id) VALUES (1, 1, '2026-01-05', 2), (2, 1, '2026-06-01', 3)"))
        upgrade(db)
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT trainee_id, supervisor_id, starts_on, ends_on "
                "FROM lms_supervisor_assignment")).all()
            # Rebuilding lms_cohort on SQLite must not cascade into its enrolments.
            enrolments = connection.execute(text("SELECT count(*) FROM lms_enrolment")).scalar()
            keys_on = connection.exec_driver_sql("PRAGMA foreign_keys").scalar() \
                if db.engine.dialect.name == "sqlite" else 1
        assert [(r[0], r[1], str(r[2]), r[3]) for r in rows] == [(1, 3, "2026-06-01", None)]
        assert enrolments == 2
        assert keys_on == 1, "foreign keys are back on after migrating"
    finally:
        downgrade(db, "base")
        db.dispose()


def test_four_processes_migrating_at_once_all_succeed(tmp_path):
    """Four workers starting together on a fresh database: one migrates, the others wait and
    find nothing to do (an advisory lock on PostgreSQL, a lock file on SQLite)."""
    import subprocess
    import sys

    db = fresh_database(tmp_path)
    url = db.url
    db.dispose()
    script = ("import sys; from lms.database import Database; from lms.migrate import upgrade;"
              "d = Database(sys.argv[1]); upgrade(d); d.dispose()")
    try:
        workers = [subprocess.Popen([sys.executable, "-c", script, url],  # noqa: S603 (ours)
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(4)]
        results = [(w.returncode, w.communicate(timeout=240)[1]) for w in workers]
        results = [(w.returncode, err) for w, (_code, err) in zip(workers, results, strict=True)]
        assert [code for code, _err in results] == [0, 0, 0, 0], [e for _c, e in results]
        db = Database(url)
        assert current_revision(db) == head_revision(db)
    finally:
        db.dispose()
        db = Database(url)
        downgrade(db, "base")
        db.dispose()
