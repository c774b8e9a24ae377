"""Riverside Clinic's own app, with lms mounted at /training.

The clinic already has users: its own table (``clinic_user``, through Flask-SQLAlchemy), its own
log-in (Flask-Login) and an admin area (Flask-Admin) where a manager adds staff and peer
supporters. lms drops in beside
them: it asks the clinic who is logged in (``LMS_HOST_USER``) and what they may do in training
(``LMS_HOST_ROLES``), makes its own record of each person on their first visit, and shows none
of its own log-in, password or account pages. Nobody has a second account.

Run it from the repository root (SQLite file ``host-app.sqlite3`` in the current folder):

    pip install -e '.[example]'
    SECRET_KEY=change-me flask --app examples/host_app/app.py seed   # users and training content
    SECRET_KEY=change-me flask --app examples/host_app/app.py run

then log in at http://127.0.0.1:5000/login as ``manager@riverside.example`` (the clinic's admin
area and lms's admin pages), ``trainer@riverside.example``, ``supervisor@riverside.example`` or
``supporter@riverside.example``, each with the password ``riverside clinic demo``.
"""

from __future__ import annotations

import os
from typing import Any

import click
from flask import Flask, abort, flash, redirect, render_template, request, url_for
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import FlaskForm
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from lms import LMS

DEMO_PASSWORD = "riverside clinic demo"  # noqa: S105 (the example's documented demo password)

# What each clinic job may do in training: the clinic decides, lms obeys.
TRAINING_ROLES = {
    "peer supporter": ["trainee"],
    "trainer": ["trainer"],
    "supervisor": ["supervisor"],
    "manager": ["admin", "trainer"],
}


class ClinicBase(DeclarativeBase):
    pass


clinic_db = SQLAlchemy(model_class=ClinicBase)


class ClinicUser(UserMixin, clinic_db.Model):
    """The clinic's own users: lms never reads or writes this table; it is told who is who."""

    __tablename__ = "clinic_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    job: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)


class LogInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class ClinicUserAdmin(ModelView):
    """The clinic's admin area (Flask-Admin): managers only."""

    column_list = ("name", "email", "job")
    form_columns = ("name", "email", "job")
    form_choices = {"job": [(job, job) for job in TRAINING_ROLES]}

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.job == "manager"

    def inaccessible_callback(self, name: str, **kwargs: Any):
        return redirect(url_for("login", next=request.full_path))

    def on_model_change(self, form: Any, model: ClinicUser, is_created: bool) -> None:
        if is_created and not model.password_hash:
            model.set_password(os.urandom(24).hex())  # they get a reset from the clinic


lms = LMS()


def create_host_app(config: dict[str, Any] | None = None) -> Flask:
    here = os.path.dirname(os.path.abspath(__file__))
    app = Flask(__name__, root_path=here)
    database = os.environ.get("DATABASE_URL", "sqlite:///host-app.sqlite3")
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", ""),
        SQLALCHEMY_DATABASE_URI=database,
        LMS_URL_PREFIX="/training",
        LMS_DATABASE_URI=database,  # one database; lms's tables are all prefixed lms_
        LMS_AUTO_UPGRADE=True,
        LMS_SITE_NAME="Riverside Clinic training",
        # Who is logged in, in the clinic's terms: lms needs an id, a name and an email.
        LMS_HOST_USER=lambda: current_user if current_user.is_authenticated else None,
        LMS_HOST_ROLES=lambda user: TRAINING_ROLES.get(user.job, []),
        LMS_HOST_LOGIN_URL="/login",
    )
    app.config.update(config or {})
    if not app.config["SECRET_KEY"]:
        raise RuntimeError("Set SECRET_KEY for the host app.")

    clinic_db.init_app(app)
    with app.app_context():
        clinic_db.create_all()  # the clinic's own tables (lms makes its own: lms_*)

    login_manager = LoginManager(app)
    login_manager.login_view = "login"

    @login_manager.user_loader
    def _load_user(user_id: str) -> ClinicUser | None:
        return clinic_db.session.get(ClinicUser, int(user_id))

    @app.route("/")
    def home():
        return render_template("clinic/home.html")

    @app.route("/login", methods=["GET", "POST"])
    def login():
        form = LogInForm()
        if form.validate_on_submit():
            user = clinic_db.session.scalar(select(ClinicUser).where(
                ClinicUser.email == form.email.data.strip().lower()))
            if user is not None and check_password_hash(user.password_hash, form.password.data):
                login_user(user)
                target = request.args.get("next", "")
                # Only paths on this site: never send someone elsewhere after logging in.
                if not target.startswith("/") or target.startswith("//"):
                    target = url_for("home")
                return redirect(target)
            flash("Wrong email or password.")
        return render_template("clinic/login.html", form=form), 422 if form.errors else 200

    @app.route("/logout", methods=["POST"])
    def logout():
        if not FlaskForm().validate_on_submit():
            abort(400)
        logout_user()
        return redirect(url_for("home"))

    admin = Admin(app, name="Riverside admin", url="/clinic-admin", endpoint="clinic_admin")
    admin.add_view(ClinicUserAdmin(ClinicUser, clinic_db, name="Clinic users",
                                   endpoint="clinic_users"))

    @app.cli.command("seed")
    def seed_command() -> None:
        """The clinic's four demo users, and lms's tables and training content."""
        seed(app)
        click.echo(f"Log in at /login with the password {DEMO_PASSWORD!r} as:")
        for email, _name, job in DEMO_USERS:
            click.echo(f"  {email}  ({job})")

    lms.init_app(app)
    return app


DEMO_USERS = [
    ("manager@riverside.example", "Grace Manager", "manager"),
    ("trainer@riverside.example", "Tomas Trainer", "trainer"),
    ("supervisor@riverside.example", "Sipho Supervisor", "supervisor"),
    ("supporter@riverside.example", "Amina Peer", "peer supporter"),
]


def seed(app: Flask) -> None:
    """Idempotent: the clinic's demo users (each password hashed once), and lms's content."""
    from lms.services.content_sync import sync_folders

    with app.app_context():
        for email, name, job in DEMO_USERS:
            if clinic_db.session.scalar(select(ClinicUser).where(
                    ClinicUser.email == email)) is None:
                user = ClinicUser(email=email, name=name, job=job)
                user.set_password(DEMO_PASSWORD)
                clinic_db.session.add(user)
        clinic_db.session.commit()
        state = app.extensions["lms"]
        session = state.db.session()
        try:
            sync_folders(session, state.curricula_folder, state.quizzes_folder)
            session.commit()
        finally:
            session.close()


if __name__ == "__main__":
    create_host_app().run()
