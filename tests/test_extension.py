"""The plugin: mounted in a host app, config under LMS_, overridable templates, secret key."""

from __future__ import annotations

import importlib.util

import pytest
from flask import Flask
from sqlalchemy import inspect

from lms import LMS, create_app
from lms.app import ConfigurationError
from lms.services.content_sync import sync_folders
from tests import factories
from tests.conftest import ROOT, TEST_CONTENT, database_url


def load_example():
    spec = importlib.util.spec_from_file_location("host_app", ROOT / "examples/host_app/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def host(tmp_path):
    module = load_example()
    app = module.create_host_app({
        "SECRET_KEY": "host-secret",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "LMS_DATABASE_URI": database_url(tmp_path),
        "LMS_AUTO_UPGRADE": False,
        "LMS_CURRICULA_FOLDER": str(TEST_CONTENT / "curricula"),
        "LMS_QUIZZES_FOLDER": str(TEST_CONTENT / "quizzes"),
    })
    db = app.extensions["lms"].db
    if db.engine.dialect.name != "sqlite":
        db.drop_all()
    db.create_all()
    session = db.session()
    factories.bind(session)
    sync_folders(session, TEST_CONTENT / "curricula", TEST_CONTENT / "quizzes")
    yield app, session
    session.close()
    if db.engine.dialect.name != "sqlite":
        db.drop_all()
    db.dispose()


def test_host_app_mounts_lms_at_training(host):
    app, session = host
    person = factories.PersonFactory(roles=("trainee",), name="Hosted Trainee")
    cohort = factories.CohortFactory(curriculum_id=_curriculum_id(session))
    factories.EnrolmentFactory(cohort_id=cohort.id, person_id=person.id)
    session.commit()
    client = app.test_client()

    assert "Riverside Clinic" in client.get("/").get_data(as_text=True)  # the host's own page
    assert client.get("/dashboard").status_code == 404  # nothing of lms outside its prefix
    response = client.get("/training/dashboard")
    assert response.status_code == 302 and response.location.startswith("/training/login")

    response = client.post("/training/login",
                           data={"email": person.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    page = client.get("/training/dashboard").get_data(as_text=True)
    # The host's override of lms/trainee/dashboard.html wins over lms's own.
    assert "Riverside Clinic · peer supporter training" in page
    assert "Training for Hosted Trainee" in page
    assert 'href="/training/modules/listening"' in page
    module_page = client.get("/training/modules/listening")
    assert module_page.status_code == 200
    assert "Listen with care." in module_page.get_data(as_text=True)
    assert "/training/lms-static/lms.css" in module_page.get_data(as_text=True)
    css = client.get("/training/lms-static/lms.css")
    assert css.status_code == 200 and b"--lms-primary" in css.data
    css.close()


def _curriculum_id(session):
    from sqlalchemy import select

    from lms.models import Curriculum

    return session.scalar(select(Curriculum.id))


def test_init_app_pattern_and_config_defaults(tmp_path):
    app = Flask("somehost")
    app.config.update(SECRET_KEY="x", LMS_DATABASE_URI=f"sqlite:///{tmp_path}/x.sqlite3")
    ext = LMS()
    ext.init_app(app)
    assert app.extensions["lms"].db.url.endswith("x.sqlite3")
    assert app.config["LMS_URL_PREFIX"] == ""
    assert app.config["LMS_BASE_TEMPLATE"] == "lms/base.html"
    assert "lms_trainee.dashboard" in app.view_functions


def test_every_table_is_prefixed(app):
    names = inspect(app.extensions["lms"].db.engine).get_table_names()
    assert names and all(name.startswith("lms_") for name in names)


def test_standalone_app_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="secret key"):
        create_app({"LMS_DATABASE_URI": "sqlite://", "LMS_AUTO_UPGRADE": False})


def test_demo_mode_makes_and_keeps_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    first = create_app({"LMS_DEMO": True, "LMS_DATABASE_URI": "sqlite://",
                        "LMS_AUTO_UPGRADE": False})
    second = create_app({"LMS_DEMO": True, "LMS_DATABASE_URI": "sqlite://",
                         "LMS_AUTO_UPGRADE": False})
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    from sqlalchemy import text

    from lms.database import Database

    db = Database(f"sqlite:///{tmp_path}/p.sqlite3")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    db.dispose()


def test_database_url_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgres://user@db.example/lms")
    app = create_app({"SECRET_KEY": "x", "LMS_AUTO_UPGRADE": False})
    assert app.extensions["lms"].db.url == "postgresql+psycopg://user@db.example/lms"


def test_environment_numbers_are_numbers(monkeypatch, tmp_path):
    from lms import create_app
    from lms.app import ConfigurationError

    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LMS_LOGIN_THROTTLE_PER_ACCOUNT", "10")
    monkeypatch.setenv("LMS_DEMO", "1")
    app = create_app({"SECRET_KEY": "x", "LMS_DATABASE_URI": "sqlite://",
                      "LMS_AUTO_UPGRADE": False})
    assert app.config["LMS_LOGIN_THROTTLE_PER_ACCOUNT"] == 10
    assert app.config["LMS_DEMO"] is True
    assert app.config["MAX_CONTENT_LENGTH"] == 8 * 1024 * 1024
    monkeypatch.setenv("LMS_LOGIN_THROTTLE_PER_ACCOUNT", "ten")
    with pytest.raises(ConfigurationError, match="whole number"):
        create_app({"SECRET_KEY": "x", "LMS_DATABASE_URI": "sqlite://",
                    "LMS_AUTO_UPGRADE": False})
