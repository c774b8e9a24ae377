"""The ``lms`` command: ``lms demo``, ``lms validate``, ``lms sync``, ``lms create-user``,
``lms db upgrade``, ``lms keys create``, ``lms export`` and ``lms import``, plus Flask's own
``lms run`` and ``lms shell``.

In a host app the same commands live under ``flask lms ...``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError

from lms.content.loader import ContentError, load_content
from lms.models.people import ROLES


def _state():
    return current_app.extensions["lms"]


@click.group("lms", help="Peer-supporter training: content, database and accounts.")
def lms_group() -> None:
    pass


@lms_group.command("validate")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def validate_command(path: Path | None) -> None:
    """Check every content file; print path:line: reason per problem."""
    if path is not None:
        curricula, quizzes, root = path / "curricula", path / "quizzes", path
    else:
        state = _state()
        curricula, quizzes = state.curricula_folder, state.quizzes_folder
        root = curricula.parent
    try:
        bundle = load_content(curricula, quizzes, root=root)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo(f"OK: {len(bundle.curricula)} curricula, {bundle.module_count} modules, "
               f"{len(bundle.quizzes)} quizzes, {bundle.question_count} questions.")


@lms_group.command("import-gift")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--module", "module_id", required=True,
              help="The module's id (its .md file's name): writes quizzes/<module>.yaml.")
@click.option("--objective", help="The objective of questions whose category and tags name "
                                  "none of the module's.")
@click.option("--content", type=click.Path(file_okay=False, path_type=Path),
              help="A folder with curricula/ and quizzes/ (default: the configured ones).")
@click.option("--force", is_flag=True, help="Replace an existing quizzes/<module>.yaml.")
@with_appcontext
def import_gift_command(file: Path, module_id: str, objective: str | None,
                        content: Path | None, force: bool) -> None:
    """Turn a Moodle GIFT file into a quiz, listing what was left out (docs/gift.md).

    Exit status: 0 all converted; 3 written, with something left out (listed); 1 nothing
    written."""
    from lms.content.gift import GiftImportError, import_gift

    if content is not None:
        curricula, quizzes = content / "curricula", content / "quizzes"
    else:
        curricula, quizzes = _state().curricula_folder, _state().quizzes_folder
    try:
        result = import_gift(file, module_id, curricula_dir=curricula, quizzes_dir=quizzes,
                             objective=objective, force=force)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(f"{len(exc.problems)} problem(s) found; nothing was written.", err=True)
        sys.exit(1)
    except GiftImportError as exc:
        for line in exc.conversion.report() if exc.conversion else []:
            click.echo(line)
        for problem in exc.problems:
            click.echo(str(problem))
        raise click.ClickException(str(exc)) from None
    for line in result.conversion.report():
        click.echo(line)
    click.echo(result.conversion.summary(result.path))
    sys.exit(3 if result.conversion.left_out else 0)


@lms_group.command("sync")
@with_appcontext
def sync_command() -> None:
    """Load content into the database (idempotent; invalid content changes nothing)."""
    from lms.services.content_sync import sync_folders

    state = _state()
    session = state.db.session()
    try:
        report = sync_folders(session, state.curricula_folder, state.quizzes_folder)
        session.commit()  # sync only flushes: the command ends the unit of work
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo("Nothing was loaded: fix the problems above and run `lms sync` again.", err=True)
        sys.exit(1)
    finally:
        session.close()
    click.echo(f"Synced: {report.summary()}.")


@lms_group.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_user_command(email: str, name: str, roles: tuple[str, ...], password: str) -> None:
    """Create a person with one or more roles."""
    from lms.services.accounts import AccountError, create_person

    session = _state().db.session()
    try:
        person = create_person(session, email=email, name=name, password=password, roles=roles)
        session.commit()
    except AccountError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from None
    finally:
        session.close()
    click.echo(f"Created {person.email} ({', '.join(sorted(roles))}).")


@lms_group.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade_command(revision: str) -> None:
    """Bring the schema up to date without losing data."""
    from lms.migrate import current_revision, upgrade

    db = _state().db
    upgrade(db, revision)
    click.echo(f"Database at revision {current_revision(db)}.")


@lms_group.group("keys")
def keys_group() -> None:
    """The key that signs certificates as Open Badges credentials."""


@keys_group.command("create")
@click.option("--force", is_flag=True,
              help="Replace an existing key: credentials signed with it stop verifying.")
@with_appcontext
def keys_create_command(force: bool) -> None:
    """Make the programme's Ed25519 signing key (a JWK file, readable only by its owner)."""
    from lms import signing_keys

    path = signing_keys.key_file(current_app)
    try:
        key, replaced = signing_keys.create(path, force=force)
    except signing_keys.KeyExists as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"Cannot write {path}: {exc.strerror}") from None
    if replaced is not None:
        click.echo(f"Warning: replaced key {replaced.kid}. Credentials signed with it no longer "
                   "verify, PDFs downloaded before included; trainees download theirs again.",
                   err=True)
    click.echo(f"Created {path}")
    click.echo(f"Key id: {key.kid}")


@lms_group.group("lti")
def lti_group() -> None:
    """LTI 1.3 platforms (docs/lti.md)."""


@lti_group.command("send-grades")
@with_appcontext
def lti_send_grades_command() -> None:
    """Send every linked trainee's quiz results and readiness to their platforms' gradebooks."""
    from sqlalchemy import select

    from lms.models import Module, Quiz
    from lms.services import lti

    with _state().db.session() as session:
        sent = failed = 0
        timeout = float(current_app.config["LMS_LTI_HTTP_TIMEOUT"])
        for person_id, curriculum_id in lti.linked_trainees(session):
            quiz_ids = session.scalars(select(Quiz.id).join(Module, Module.id == Quiz.module_id)
                                       .where(Module.curriculum_id == curriculum_id)).all()
            outcomes = [lti.send_quiz_grade(session, person_id, quiz_id, timeout=timeout)
                        for quiz_id in quiz_ids]
            outcomes.append(lti.send_readiness(session, person_id, curriculum_id,
                                               timeout=timeout))
            session.commit()  # each trainee's new gradebook columns are kept as they go
            sent += sum(o.sent for o in outcomes)
            failed += sum(o.failed for o in outcomes)
    click.echo(f"Sent {sent} grades; {failed} failed (see the log).")
    if failed:
        raise SystemExit(1)


@lms_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@with_appcontext
def export_command(path: Path, force: bool) -> None:
    """Write every programme record to a backup archive (JSON lines in a zip)."""
    from lms.backup import BackupError, export_archive

    if path.exists() and not path.is_dir() and not force:
        raise click.ClickException(f"{path} already exists: choose another name, or add --force "
                                   "to replace it.")
    try:
        manifest = export_archive(_state().db.engine, path, overwrite=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        raise click.ClickException(_unreachable(exc)) from None
    click.echo(f"Wrote {path}: {manifest.row_count} rows in {len(manifest.tables)} tables "
               f"(schema revision {manifest.schema_revision}).")


@lms_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_command(path: Path) -> None:
    """Restore a backup archive into an empty database (migrated first if it has no schema)."""
    from lms.backup import BackupError, import_archive

    try:
        manifest = import_archive(_state().db, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        raise click.ClickException(_unreachable(exc)) from None
    click.echo(f"Restored {manifest.row_count} rows in {len(manifest.tables)} tables from "
               f"{path} (exported {manifest.created_at} by lms {manifest.lms_version}).")


def _unreachable(exc: OperationalError) -> str:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return f"Cannot use the database: {reason}"


@lms_group.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up the demo data and stop.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Create the demo database (content, one person per role, some progress) and serve it."""
    from lms.demo import DEMO_PASSWORD, set_up_demo
    from lms.migrate import upgrade

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("LMS_DEMO"):
        raise click.ClickException("Run the demo through the standalone command: `lms demo`.")
    state = _state()
    upgrade(state.db)
    session = state.db.session()
    try:
        people = set_up_demo(session, state.curricula_folder, state.quizzes_folder)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        raise click.ClickException("The content has problems; the demo was not set up.") from None
    finally:
        session.close()
    click.echo("")
    click.echo(f"Demo log-ins (password for all: {DEMO_PASSWORD})")
    for role, email in people:
        click.echo(f"  {role:<11} {email}")
    click.echo("")
    if no_serve:
        return
    prefix = app.config["LMS_URL_PREFIX"]
    click.echo(f"Open http://{host}:{port}{prefix}/login  (Ctrl+C to stop)")
    # Flask ignores app.run() inside a CLI command, so serve with werkzeug directly.
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


def _create_standalone_app():
    from lms.app import create_app

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "demo":
        # The demo migrates inside the command so it can print what it did.
        return create_app({"LMS_DEMO": True, "LMS_AUTO_UPGRADE": False})
    return create_app(serving=command == "run")


class _StandaloneGroup(FlaskGroup):
    """Flask's group for the ``lms`` script, without what makes no sense there: the nested
    ``lms lms`` group (the app registers it for ``flask lms`` in host apps), ``--app`` (the app is
    lms) and ``--env-file`` (python-dotenv is not a dependency)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.params = [p for p in self.params if p.name not in ("env_file", "app")]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name != "lms"]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return None if name == "lms" else super().get_command(ctx, name)


def standalone_cli() -> FlaskGroup:
    """Flask's group (run, shell, routes) plus lms's commands."""
    group = _StandaloneGroup(create_app=_create_standalone_app, add_default_commands=True,
                             load_dotenv=False, help=lms_group.help)
    for name, command in lms_group.commands.items():
        group.add_command(command, name)
    return group


def main() -> None:
    """The ``lms`` console script."""
    standalone_cli().main(prog_name="lms")
