"""The Flask extension: ``LMS(app)`` or ``LMS().init_app(app)``."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, g
from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_wtf.csrf import generate_csrf

from lms.config import DEFAULT_CONFIG, content_folder
from lms.database import Database, end_session
from lms.question_types import get_type
from lms.web.access import current_person
from lms.web.navigation import main_nav


class LMS:
    """Mounts lms into a Flask app: config, database, blueprints, CLI, templates."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        for key, value in DEFAULT_CONFIG.items():
            app.config.setdefault(key, value)
        # Flask leaves SameSite unset; Lax keeps the log-in cookie off cross-site requests.
        if app.config.get("SESSION_COOKIE_SAMESITE") is None:
            app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
        # A form's token lives as long as the log-in session, not an hour: a quiz answered
        # slowly is still accepted. (Log-in rotates the token; log-out clears it.)
        app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
        prefix = (app.config["LMS_URL_PREFIX"] or "").rstrip("/")
        app.config["LMS_URL_PREFIX"] = prefix

        state = LMSState(app, database_uri(app))
        app.extensions["lms"] = state

        self._init_login(app)
        if "babel" not in app.extensions:
            from lms.web.language import select_locale

            Babel(app, locale_selector=select_locale)
        # lms's own catalogues, also under a host's Babel (which then chooses the language).
        translations = str(Path(__file__).resolve().parent / "translations")
        if translations not in app.extensions["babel"].translation_directories:
            app.extensions["babel"].translation_directories.append(translations)
        # Only lms_-prefixed globals: a host's own Jinja names are never touched.
        app.jinja_env.globals["lms_csrf_token"] = generate_csrf
        app.jinja_env.globals["lms_base_template"] = app.config["LMS_BASE_TEMPLATE"]
        app.jinja_env.globals["lms_site_name"] = app.config["LMS_SITE_NAME"]
        app.jinja_env.globals["lms_person"] = current_person
        app.jinja_env.globals["lms_main_nav"] = main_nav
        app.jinja_env.globals["lms_own_accounts"] = app.config["LMS_CURRENT_PERSON"] is None \
            and app.config["LMS_HOST_USER"] is None
        app.jinja_env.globals["lms_question_type"] = get_type
        app.jinja_env.add_extension("lms.web.formatting.Formatting")  # lms_date, lms_datetime...

        from lms.web import register_blueprints

        register_blueprints(app, prefix)

        from lms.cli import lms_group

        app.cli.add_command(lms_group)

        @app.teardown_appcontext
        def _close_session(exc: BaseException | None) -> None:
            session = g.pop("lms_session", None)
            if session is not None:
                end_session(session, failed=exc is not None)

        if app.config["LMS_AUTO_UPGRADE"]:
            from lms.migrate import upgrade

            upgrade(state.db)

    def _init_login(self, app: Flask) -> None:
        if app.config["LMS_CURRENT_PERSON"] is not None or app.config["LMS_HOST_USER"] is not None:
            return  # the host says who is logged in (and may run Flask-Login itself)
        if hasattr(app, "login_manager"):
            raise RuntimeError(
                "This app already has a Flask-Login LoginManager. Set LMS_HOST_USER to a "
                "callable that returns its current user (id, name, email) so lms does not "
                "install its own."
            )
        manager = LoginManager()
        manager.login_view = "lms_auth.login"
        manager.login_message = _l("Please log in to see this page.")
        manager.localize_callback = str  # the flash is stored as text, in the visitor's language
        manager.login_message_category = "info"
        manager.session_protection = "strong"

        @manager.user_loader
        def _load(token: str):
            from lms.web.auth import load_logged_in

            return load_logged_in(token)

        manager.init_app(app)


class LMSState:
    """What the extension keeps per app."""

    def __init__(self, app: Flask, uri: str) -> None:
        self.app = app
        self.db = Database(uri, **app.config["LMS_ENGINE_OPTIONS"])
        self.curricula_folder: Path = content_folder(app.config["LMS_CURRICULA_FOLDER"],
                                                     "curricula")
        self.quizzes_folder: Path = content_folder(app.config["LMS_QUIZZES_FOLDER"], "quizzes")


def database_uri(app: Flask) -> str:
    """The configured database, else SQLite in the instance folder. Reads config only: the
    standalone ``create_app`` is what copies the environment into config."""
    uri = app.config.get("LMS_DATABASE_URI")
    if uri:
        if uri.startswith("postgres://"):
            uri = "postgresql+psycopg://" + uri[len("postgres://"):]
        elif uri.startswith("postgresql://"):
            uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
        return uri
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, "lms.sqlite3")

