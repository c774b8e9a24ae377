"""An app and a fresh database per test; factories for people and cohorts.

The suite runs on SQLite by default and on PostgreSQL when LMS_TEST_DATABASE_URL is set.
Per-test configuration: ``@pytest.mark.settings(LMS_DEMO=True)``.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import create_app
from lms.models import Curriculum, Module
from lms.services.content_sync import sync_folders
from tests import factories

HERE = Path(__file__).resolve().parent
pytest_plugins = ["tests.readiness_fixtures"]
TEST_CONTENT = HERE / "content"
ROOT = HERE.parent


def database_url(tmp_path: Path) -> str:
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app_config(request, tmp_path):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "LMS_DATABASE_URI": database_url(tmp_path),
        "LMS_AUTO_UPGRADE": False,
        "LMS_CURRICULA_FOLDER": str(TEST_CONTENT / "curricula"),
        "LMS_QUIZZES_FOLDER": str(TEST_CONTENT / "quizzes"),
    }
    # iter_markers yields the closest marker first; apply it last so it wins.
    for marker in reversed(list(request.node.iter_markers("settings"))):
        config.update(marker.kwargs)
    return config


@pytest.fixture
def app(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(app_config)
    state = application.extensions["lms"]
    shared = state.db.engine.dialect.name != "sqlite"  # SQLite gets a new file per test
    if shared:
        state.db.drop_all()
    state.db.create_all()
    # No app context stays pushed: each test-client request gets its own, as in production
    # (a shared one would share ``g`` and the logged-in user between requests).
    yield application
    if shared:
        state.db.drop_all()
    state.db.dispose()


@pytest.fixture
def db(app):
    """The test's database session, also used by the factories."""
    session = app.extensions["lms"].db.session()
    factories.bind(session)
    yield session
    session.rollback()
    session.close()
    factories.bind(None)


@pytest.fixture
def content(app, db):
    """The small test curriculum, synced."""
    state = app.extensions["lms"]
    sync_folders(db, state.curricula_folder, state.quizzes_folder)
    db.commit()  # sync leaves the commit to its caller
    return db.scalar(select(Curriculum).where(Curriculum.slug == "mini"))


@pytest.fixture
def module(db, content):
    def get(slug: str) -> Module:
        return db.scalar(select(Module).where(Module.slug == slug))

    return get


@pytest.fixture
def make_person(db):
    def make(*roles: str, **fields):
        person = factories.PersonFactory(roles=roles or ("trainee",), **fields)
        db.commit()
        return person

    return make


@pytest.fixture
def make_cohort(db, content):
    def make(*trainees, curriculum=None, **fields):
        cohort = factories.CohortFactory(curriculum_id=(curriculum or content).id, **fields)
        for person in trainees:
            factories.EnrolmentFactory(cohort_id=cohort.id, person_id=person.id)
        db.commit()
        return cohort

    return make


@pytest.fixture
def trainee(make_person, make_cohort):
    person = make_person("trainee", name="Tess Trainee")
    make_cohort(person)
    return person


@pytest.fixture
def client(app):
    return app.test_client()


def log_in(client, person, password: str = factories.PASSWORD):
    response = client.post("/login", data={"email": person.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def login(client):
    def do(person):
        log_in(client, person)
        return client

    return do


def in_threads(work, arguments: list[tuple]) -> None:
    """Run ``work(*args)`` for each ``args`` in a thread of its own; fail with any thread's
    exception (an assertion inside a thread must fail the test)."""
    failures: list[BaseException] = []

    def guarded(*args) -> None:
        try:
            work(*args)
        except BaseException as exc:  # noqa: BLE001 (raised below, in the test's thread)
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures


def field_names(html: str) -> list[str]:
    return re.findall(r'name="(q-[^"]+)"', html)


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside a ``with`` block."""
    from contextlib import contextmanager

    from sqlalchemy import event

    engine = app.extensions["lms"].db.engine

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def make_session(db):
    """A training session at a given UTC start (``starts``), lasting ``minutes``."""
    from lms.models import SessionModule

    def make(cohort, starts, minutes=120, modules=(), core=False, **fields):
        item = factories.SessionFactory(cohort_id=cohort.id, on_date=starts.date(),
                                        start_time=starts.time(), duration_minutes=minutes,
                                        is_core=core, **fields)
        for module in modules:
            item.module_links.append(SessionModule(module_id=module.id))
        db.commit()
        return item

    return make


# --- a trainer and their cohort (trainer pages) ---------------------------------------------


@pytest.fixture
def trainer(make_person):
    return make_person("trainer", name="Tom Trainer")


@pytest.fixture
def cohort(db, make_cohort, trainer, trainee):
    """The trainee's cohort, trained by ``trainer``; the trainee enrolled 30 days ago."""
    from datetime import timedelta

    from lms.models import Cohort, CohortStaff, Enrolment
    from lms.models._types import utcnow

    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    enrolment.enrolled_on = (utcnow() - timedelta(days=30)).date()
    db.add(CohortStaff(cohort_id=enrolment.cohort_id, person_id=trainer.id, role="trainer"))
    db.commit()
    return db.get(Cohort, enrolment.cohort_id)


@pytest.fixture
def client_for(app):
    """A test client logged in as the given person."""
    def make(person):
        client = app.test_client()
        log_in(client, person)
        return client

    return make
