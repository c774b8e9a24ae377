"""The lms command: validate, sync, create-user, db upgrade, demo."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from lms.cli import lms_group
from lms.models import (
    Attempt,
    CheckIn,
    Cohort,
    Enrolment,
    Module,
    ModuleProgress,
    Person,
    SupervisionRecord,
    SupervisorAssignment,
)
from tests.conftest import ROOT, TEST_CONTENT


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_validate_passes_on_good_content(runner):
    result = runner.invoke(lms_group, ["validate", str(TEST_CONTENT)])
    assert result.exit_code == 0
    assert result.output.startswith("OK: 1 curricula, 3 modules, 2 quizzes, 6 questions.")


def test_validate_prints_path_line_reason_and_exits_1(runner, tmp_path):
    shutil.copytree(TEST_CONTENT, tmp_path / "c")
    quiz = tmp_path / "c" / "quizzes" / "listening.yaml"
    quiz.write_text(quiz.read_text().replace("    answer: b\n", "    answer: z\n"))
    result = runner.invoke(lms_group, ["validate", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert "quizzes/listening.yaml:18: question 'l1': answer 'z' names no option" in result.output


def test_validate_uses_the_configured_folders(runner):
    result = runner.invoke(lms_group, ["validate"])
    assert result.exit_code == 0 and "3 modules" in result.output


def test_shipped_content_validates(runner):
    result = runner.invoke(lms_group, ["validate", str(ROOT)])
    assert result.exit_code == 0, result.output


def test_sync_is_idempotent(runner, db):
    first = runner.invoke(lms_group, ["sync"])
    assert first.exit_code == 0 and "6 created" in first.output
    second = runner.invoke(lms_group, ["sync"])
    assert second.exit_code == 0 and "0 created, 0 updated, 0 retired, 6 unchanged" in second.output
    assert db.scalar(select(func.count()).select_from(Module)) == 3


def test_create_user(runner, db):
    result = runner.invoke(lms_group, ["create-user", "--email", "Sup@Example.org", "--name",
                                       "Sue", "--role", "supervisor", "--role", "trainer"],
                           input="teal kettle under moonlight\nteal kettle under moonlight\n")
    assert result.exit_code == 0, result.output
    person = db.scalar(select(Person).where(Person.email == "sup@example.org"))
    assert person.roles == {"supervisor", "trainer"}
    again = runner.invoke(lms_group, ["create-user", "--email", "sup@example.org", "--name",
                                      "Sue", "--role", "trainer"],
                          input="teal kettle under moonlight\nteal kettle under moonlight\n")
    assert again.exit_code != 0 and "already uses" in again.output


def request_cleanup(db_state):
    from sqlalchemy import text

    from lms.migrate import VERSION_TABLE

    with db_state.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


@pytest.mark.settings(LMS_DEMO=True, LMS_CURRICULA_FOLDER=str(ROOT / "curricula"),
                      LMS_QUIZZES_FOLDER=str(ROOT / "quizzes"))
def test_demo_twice_duplicates_nothing(runner, db, app):
    # The demo builds its schema through the migrations, so start from an empty database.
    db_state = app.extensions["lms"].db
    db_state.drop_all()
    request_cleanup(db_state)
    first = runner.invoke(lms_group, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    for role in ("trainee", "trainer", "supervisor", "admin"):
        assert f"{role}@demo.lms" in first.output
    assert "demo-password" in first.output

    def totals():
        return tuple(db.scalar(select(func.count()).select_from(m))
                     for m in (Person, Cohort, Enrolment, ModuleProgress, Module, Attempt,
                               SupervisionRecord, CheckIn, SupervisorAssignment))

    before = totals()
    second = runner.invoke(lms_group, ["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert totals() == before
    # One person per role, and two more of the supervisor's supervisees.
    assert before[0] == 6 and before[1] == 1 and before[4] == 6
    assert before[6] > 0 and before[7] > 0 and before[8] == 3
    request_cleanup(db_state)


def test_help_has_no_nested_group_and_no_dotenv_text():
    from click.testing import CliRunner

    from lms.cli import standalone_cli

    output = CliRunner().invoke(standalone_cli(), ["--help"], prog_name="lms").output
    assert "demo" in output and "validate" in output
    assert "python-dotenv" not in output
    assert not any(line.split()[:1] == ["lms"] for line in output.splitlines())
