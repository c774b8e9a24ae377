"""The plugin: mounted in a host app, config under LMS_, overridable templates, secret key."""

from __future__ import annotations

import importlib.util
import re
import sys
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import inspect, select

from lms import LMS, create_app
from lms.app import ConfigurationError
from lms.models import CohortStaff, Person
from tests import factories
from tests.conftest import ROOT, TEST_CONTENT, database_url


def load_example():
    spec = importlib.util.spec_from_file_location("host_app", ROOT / "examples/host_app/app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its models' annotations are resolved through it
    spec.loader.exec_module(module)
    return module


@contextmanager
def seeded_host(tmp_path, **config):
    """The example host app on a fresh database, its users and lms's test content seeded;
    everything of it dropped afterwards."""
    module = load_example()
    url = database_url(tmp_path)
    app = module.create_host_app({
        "SECRET_KEY": "host-secret", "SQLALCHEMY_DATABASE_URI": url, "LMS_DATABASE_URI": url,
        "LMS_AUTO_UPGRADE": False, "LMS_CURRICULA_FOLDER": str(TEST_CONTENT / "curricula"),
        "LMS_QUIZZES_FOLDER": str(TEST_CONTENT / "quizzes"), **config})
    db = app.extensions["lms"].db
    if db.engine.dialect.name != "sqlite":
        db.drop_all()
    db.create_all()
    module.seed(app)
    try:
        yield module, app
    finally:
        with app.app_context():
            module.clinic_db.drop_all()
            module.clinic_db.engine.dispose()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
        db.dispose()


@pytest.fixture
def host(tmp_path):
    with seeded_host(tmp_path, TESTING=True) as (module, app):
        session = app.extensions["lms"].db.session()
        factories.bind(session)
        yield module, app, session
        session.close()
        factories.bind(None)


def _clinic_log_in(client, email: str, password: str):
    """Log in through the host's own form (CSRF on, as the host runs it)."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": password})


def _lms_post(client, page_path: str, path: str, data: dict):
    """Post ``data`` to ``path`` with the CSRF token of the page it is on (the host's check
    stays on, as in production)."""
    page = client.get(page_path).get_data(as_text=True)
    token = re.search(r'csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post(path, data={"csrf_token": token, "one-csrf_token": token, **data})


def test_host_users_use_lms_with_no_second_account(host):
    module, app, session = host
    trainer, supporter, manager = (app.test_client() for _ in range(3))

    assert "Riverside Clinic" in trainer.get("/").get_data(as_text=True)  # the host's page
    assert trainer.get("/dashboard").status_code == 404  # nothing of lms outside its prefix
    response = trainer.get("/training/cohorts")
    assert response.status_code == 302  # to the host's log-in, and back afterwards
    assert response.location == "/login?next=%2Ftraining%2Fcohorts"
    response = _clinic_log_in(trainer, "trainer@riverside.example", module.DEMO_PASSWORD)
    assert response.status_code == 302
    for path in ("/training/login", "/training/account/password", "/training/forgot-password",
                 "/training/account/sessions"):
        assert trainer.get(path).status_code == 404, path  # lms's own log-in is not shown
    assert trainer.get("/training/cohorts").status_code == 200  # the clinic's trainer
    tomas = session.scalar(select(Person).where(Person.email == "trainer@riverside.example"))
    assert tomas.roles == {"trainer"} and tomas.password_hash is None
    cohort = factories.CohortFactory(name="Spring peer supporters",
                                     curriculum_id=_curriculum_id(session))
    session.add(CohortStaff(cohort_id=cohort.id, person_id=tomas.id, role="trainer"))
    session.commit()
    page = _lms_post(trainer, f"/training/cohorts/{cohort.id}",
                     f"/training/cohorts/{cohort.id}/enrol", {
        "one-name": "Amina", "one-email": "supporter@riverside.example",
        "one-supervisor_id": "0"}).get_data(as_text=True)
    assert "Enrolled in Spring peer supporters" in page and "/invitation/" not in page

    # The peer supporter logs in to the clinic and is the trainee the trainer enrolled.
    _clinic_log_in(supporter, "supporter@riverside.example", module.DEMO_PASSWORD)
    page = supporter.get("/training/dashboard").get_data(as_text=True)
    # The host's override of lms/trainee/dashboard.html wins over lms's own.
    assert "Riverside Clinic · peer supporter training" in page
    assert "Training for Amina Peer" in page  # the clinic's name for her, kept in step
    assert 'href="/training/modules/listening"' in page
    assert "Password" not in page
    module_page = supporter.get("/training/modules/listening").get_data(as_text=True)
    assert "Listen with care." in module_page and "/training/lms-static/lms.css" in module_page
    assert supporter.get("/training/cohorts").status_code == 403
    css = supporter.get("/training/lms-static/lms.css")
    assert css.status_code == 200 and b"--lms-primary" in css.data
    css.close()

    # Flask-Admin, beside lms: the manager uses both; the others are kept out of both.
    _clinic_log_in(manager, "manager@riverside.example", module.DEMO_PASSWORD)
    users = manager.get("/clinic-admin/clinic_users/").get_data(as_text=True)
    assert "Amina Peer" in users
    people = manager.get("/training/admin/people").get_data(as_text=True)
    assert "Amina Peer" in people and "Tomas Trainer" in people
    assert supporter.get("/clinic-admin/clinic_users/").status_code == 302
    assert supporter.get("/training/admin/people").status_code == 403

    # The clinic changes her job: her training roles follow on her next page.
    with app.app_context():
        user = module.clinic_db.session.scalar(select(module.ClinicUser).where(
            module.ClinicUser.email == "supporter@riverside.example"))
        user.job = "trainer"
        module.clinic_db.session.commit()
    assert supporter.get("/training/cohorts").status_code == 200


def test_lms_leaves_the_hosts_tables_session_handlers_and_globals_alone(tmp_path):
    """Next to Flask-Admin and Flask-Login: what the host had before init_app is unchanged,
    and what lms adds is its own (prefixed, or on its blueprints)."""
    module = load_example()
    url = database_url(tmp_path)
    config = {"SECRET_KEY": "s", "TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
              "LMS_DATABASE_URI": url, "LMS_CURRICULA_FOLDER": str(TEST_CONTENT / "curricula"),
              "LMS_QUIZZES_FOLDER": str(TEST_CONTENT / "quizzes")}
    init_app, before = module.lms.init_app, {}

    def record_then_init(app):
        before["globals"] = dict(app.jinja_env.globals)
        before["handlers"] = {code: dict(found) for code, found in
                              app.error_handler_spec.get(None, {}).items()}
        before["rules"] = {r.rule for r in app.url_map.iter_rules()}
        before["context"] = list(app.template_context_processors[None])
        init_app(app)

    module.lms.init_app = record_then_init
    try:
        app = module.create_host_app(config)
    finally:
        module.lms.init_app = init_app
    added = set(app.jinja_env.globals) - set(before["globals"])
    # Flask-Babel's standard names come with Flask-Babel, which lms sets up only for a host
    # that has not (a host with its own Babel keeps it, names and all).
    babel = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
    assert added and all(name.startswith("lms_") for name in added - babel), added
    assert all(app.jinja_env.globals[k] is v for k, v in before["globals"].items())
    assert {code: dict(found) for code, found in
            app.error_handler_spec.get(None, {}).items()} == before["handlers"]
    assert list(app.template_context_processors[None]) == before["context"]
    new_rules = {r.rule for r in app.url_map.iter_rules()} - before["rules"]
    assert all(rule.startswith("/training/") or rule == "/training" for rule in new_rules)
    assert app.login_manager.user_callback.__name__ == "_load_user"  # still the host's

    db = app.extensions["lms"].db
    if db.engine.dialect.name != "sqlite":
        db.drop_all()
    db.create_all()
    module.seed(app)
    def clinic_users() -> dict:
        with app.app_context():
            return dict(module.clinic_db.session.execute(select(
                module.ClinicUser.email, module.ClinicUser.password_hash)).all())

    hashes = clinic_users()
    client = app.test_client()
    _clinic_log_in(client, "supporter@riverside.example", module.DEMO_PASSWORD)
    with client.session_transaction() as cookie:
        host_keys = set(cookie)
    client.get("/training/dashboard")
    client.get("/training/modules/listening")
    with client.session_transaction() as cookie:
        assert {k for k in cookie if k not in host_keys and not k.startswith("lms_")} == set()
        assert cookie["_user_id"]  # the host's own log-in is intact
    assert clinic_users() == hashes
    assert all(t.startswith("lms_") for t in inspect(db.engine).get_table_names()
               if t != "clinic_user")
    with app.app_context():
        module.clinic_db.drop_all()
        module.clinic_db.engine.dispose()
    if db.engine.dialect.name != "sqlite":
        db.drop_all()
    db.dispose()


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
