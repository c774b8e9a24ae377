"""lms/backup.py and the ``lms export`` / ``lms import`` commands.

The round trip fills every archived table, exports from SQLite, imports into a second database
(the PostgreSQL of LMS_TEST_DATABASE_URL when set, else another SQLite file), exports again and
compares the two archives file by file.
"""

from __future__ import annotations

import json
import os
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import factory
import pytest
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    LargeBinary,
    Numeric,
    Time,
    func,
    inspect,
    select,
    text,
)

from lms.backup import (
    EXCLUDED_TABLES,
    MANIFEST,
    BackupError,
    archived_tables,
    decoder_for,
    encode_value,
    export_archive,
    head_revision,
    import_archive,
    read_manifest,
)
from lms.cli import lms_group
from lms.database import Base, Database
from lms.demo import DEMO_PEOPLE, set_up_demo
from lms.migrate import VERSION_TABLE, upgrade
from lms.models import (
    Answer,
    ApiClient,
    Attempt,
    AuditEvent,
    Certificate,
    Cohort,
    ContentRevision,
    Invitation,
    JoinRequest,
    LoginFailure,
    LtiContext,
    LtiLineItem,
    LtiPlatform,
    LtiToolKey,
    LtiUser,
    MakeUp,
    Person,
    Quiz,
    RecordCorrection,
    RecordRevision,
    SessionChange,
    SessionFeedback,
    SignOff,
    SupervisionRecord,
    TrainingSession,
)
from tests import factories
from tests.conftest import ROOT

NOW = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)


# --- rows the demo data does not make -------------------------------------------------------


class InvitationFactory(factories.Base):
    class Meta:
        model = Invitation

    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    purpose = "invite"
    created_at = NOW
    expires_at = NOW + timedelta(days=3)


class SignOffFactory(factories.Base):
    class Meta:
        model = SignOff

    decision = "deploy"
    reasons = "Ready."
    evidence = factory.LazyFunction(lambda: {"attendance": {"met": True, "percent": 87.5}})
    created_at = NOW


class AttemptFactory(factories.Base):
    class Meta:
        model = Attempt

    question_order = factory.LazyFunction(list)
    started_at = NOW
    submitted_at = NOW + timedelta(minutes=9)
    score = 100 * 5 / 7  # a float that needs every digit to come back equal
    passed = True


def fill_the_rest(session) -> None:
    """One row or more in each table the demo leaves empty, with awkward values: text with
    line breaks and non-ASCII characters, a JSON null, a float, a self-reference."""
    people = {role: session.scalar(select(Person).where(Person.email == email))
              for role, email, _name, _roles in DEMO_PEOPLE}
    trainee, trainer, supervisor = people["trainee"], people["trainer"], people["supervisor"]
    cohort = session.scalar(select(Cohort))
    sessions = list(session.scalars(select(TrainingSession).order_by(TrainingSession.id)))
    record = session.scalar(select(SupervisionRecord).order_by(SupervisionRecord.id))

    InvitationFactory(person_id=trainee.id, created_by_id=trainer.id, used_at=NOW)
    session.add(ApiClient(name="Case notes", token_hash="a" * 64, token_prefix="lms_abcdefgh",
                          curriculum_id=cohort.curriculum_id, created_by_id=trainer.id,
                          created_at=NOW, last_used_at=NOW))
    platform = LtiPlatform(name="Moodle", issuer="https://moodle.example", client_id="c1",
                           deployment_ids=["d1", "d2"], auth_login_url="https://moodle.example/a",
                           auth_token_url="https://moodle.example/t",
                           key_set_url="https://moodle.example/k", created_at=NOW)
    session.add_all([platform, LtiToolKey(kid="k1", private_pem="-----BEGIN-----\nx\n",
                                          created_at=NOW)])
    session.flush()
    context = LtiContext(platform_id=platform.id, context_id="course-7",
                         curriculum_id=cohort.curriculum_id, cohort_id=cohort.id,
                         title="Peer support 101", lineitems_url="https://moodle.example/li",
                         ags_scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                         created_at=NOW)
    session.add_all([context, LtiUser(platform_id=platform.id, sub="u-1", person_id=trainee.id,
                                      created_at=NOW)])
    session.flush()
    session.add(LtiLineItem(context_id=context.id, resource_key="quiz:listening",
                            url="https://moodle.example/li/1", created_at=NOW))
    # A stand-in shares the trainee's address (the unique rule leaves stand-ins out).
    stand_in = Person(email=trainee.email, name="Typed by a trainer", stands_in=True)
    session.add(stand_in)
    session.flush()
    session.add(JoinRequest(stand_in_id=stand_in.id, person_id=trainee.id, cohort_id=cohort.id,
                            requested_by_id=trainer.id, created_at=NOW))
    session.add_all([
        RecordRevision(supervision_id=record.id, edited_by_id=supervisor.id, edited_at=NOW,
                       previous={"notes": "Première version.\nSecond line", "topics": []}),
        RecordCorrection(supervision_id=record.id, author_id=supervisor.id, created_at=NOW,
                         body="Corrected: the date was 3 March \u2028 not 4 — sorry ✓"),
        SessionChange(session_id=sessions[0].id, kind="cancelled", reason="Snow\r\nday",
                      changed_by_id=trainer.id, changed_at=NOW),
        SessionFeedback(session_id=sessions[0].id, person_id=trainee.id, rating=4,
                        comment='Useful, "quoted" and \\ escaped', created_at=NOW),
        MakeUp(person_id=trainee.id, missed_session_id=sessions[0].id,
               via_session_id=sessions[1].id, minutes_credited=90, recorded_by_id=trainer.id,
               recorded_at=NOW),
        AuditEvent(at=NOW, actor_id=trainer.id, action="csv_export", subject_type="cohort",
                   subject_id=cohort.id, person_id=None, detail=None),  # a JSON null
        LoginFailure(email="someone@example.org", address="192.0.2.1", at=NOW),  # excluded
    ])
    deploy = SignOffFactory(trainee_id=trainee.id, curriculum_id=cohort.curriculum_id,
                            signed_by_id=supervisor.id)
    SignOffFactory(trainee_id=trainee.id, curriculum_id=cohort.curriculum_id,
                   signed_by_id=supervisor.id, decision="revoke", reasons="Left the project.",
                   revokes_id=deploy.id)  # a row of lms_sign_off naming another
    session.add(Certificate(sign_off_id=deploy.id, trainee_id=trainee.id, code="ABCDEFGHJKMN",
                            name=trainee.name, programme="Peer support", issued_on=NOW.date(),
                            expires_on=None, created_at=NOW))
    quiz = session.scalar(select(Quiz).order_by(Quiz.id))
    version = quiz.current_version
    attempt = AttemptFactory(person_id=trainee.id, quiz_id=quiz.id, quiz_version_id=version.id,
                             question_order=[q.key for q in version.questions])
    AttemptFactory(person_id=trainee.id, quiz_id=quiz.id, quiz_version_id=version.id,
                   submitted_at=None, score=None, passed=None)  # still open
    for question in version.questions:
        session.add(Answer(attempt_id=attempt.id, question_id=question.id,
                           response=list(question.correct), mark=1.0))


def counts(engine) -> dict[str, int]:
    """Rows per table, but for the content revision's one row (every database has it)."""
    with engine.connect() as connection:
        return {t.name: connection.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables
                if inspect(connection).has_table(t.name) and t.name != "lms_content_revision"}


def drop_everything(engine) -> None:
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


def lms_tables(engine) -> set[str]:
    with engine.connect() as connection:
        return {name for name in inspect(connection).get_table_names()
                if name.startswith("lms_")}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A migrated SQLite database with the demo data and a row in every other table."""
    folder = tmp_path_factory.mktemp("backup-source")
    db = Database(f"sqlite:///{folder / 'source.sqlite3'}")
    upgrade(db)
    session = db.session()
    factories.bind(session)
    try:
        set_up_demo(session, ROOT / "curricula", ROOT / "quizzes")
        fill_the_rest(session)
        session.commit()
    finally:
        factories.bind(None)
        session.close()
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def archive(source, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backup-archive") / "programme.zip"
    export_archive(source.engine, path)
    return path


@pytest.fixture
def target(tmp_path):
    """An empty second database: PostgreSQL in CI's PostgreSQL pass, else a new SQLite file."""
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    db = Database(url or f"sqlite:///{tmp_path / 'target.sqlite3'}")
    if url:
        drop_everything(db.engine)
    yield db
    if url:
        drop_everything(db.engine)
    db.dispose()


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as handle:
        return {name: handle.read(name) for name in handle.namelist()}


def rewrite(path: Path, out: Path, change) -> Path:
    """A copy of the archive with ``change(name, data) -> data`` applied to each member."""
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            new.writestr(name, change(name, old.read(name)))
    return out


def manifest_without_time(data: bytes) -> dict:
    manifest = json.loads(data)
    manifest.pop("created_at")
    return manifest


# --- the round trip -------------------------------------------------------------------------


def test_every_archived_table_has_rows_to_restore(source):
    """A table added to the models without rows here fails this test, by name: give it a row
    in fill_the_rest so the round trip covers it."""
    filled = counts(source.engine)
    empty = [t.name for t in archived_tables() if filled.get(t.name, 0) == 0]
    assert empty == [], f"no rows in {empty}: add some in tests/test_backup.py::fill_the_rest"


def test_round_trip_to_another_database_gives_the_same_archive(source, archive, target,
                                                                tmp_path):
    manifest = import_archive(target, archive)
    again = tmp_path / "again.zip"
    export_archive(target.engine, again)

    first, second = members(archive), members(again)
    assert sorted(first) == sorted(second)
    assert manifest_without_time(first[MANIFEST]) == manifest_without_time(second[MANIFEST])
    for name in first:
        if name != MANIFEST:
            assert first[name] == second[name], f"{name} differs after the round trip"
    # The same rows, table by table, and no excluded rows were carried over.
    expected = {t: n for t, n in counts(source.engine).items() if t not in EXCLUDED_TABLES}
    restored = counts(target.engine)
    assert {t: restored[t] for t in expected} == expected
    assert restored["lms_login_failure"] == 0
    assert manifest.row_count == sum(expected.values())

    session = target.session()
    try:
        # The two-step columns came back: the quiz cycle and the sign-off that revokes another.
        assert all(q.current_version_id is not None for q in session.scalars(select(Quiz)))
        revoke = session.scalar(select(SignOff).where(SignOff.decision == "revoke"))
        assert session.get(SignOff, revoke.revokes_id).decision == "deploy"
        attempt = session.scalar(select(Attempt).where(Attempt.score.is_not(None)))
        assert attempt.score == 100 * 5 / 7 and attempt.started_at == NOW
        # New rows get fresh ids (PostgreSQL's sequences were moved past the restored ones).
        top = session.scalar(select(func.max(Person.id)))
        person = factories.PersonFactory.build(email="new@example.org")
        session.add(person)
        session.commit()
        assert person.id == top + 1
    finally:
        session.close()


def test_two_exports_of_the_same_data_differ_only_in_created_at(source, archive, tmp_path):
    again = tmp_path / "again.zip"
    export_archive(source.engine, again)
    first, second = members(archive), members(again)
    assert {n: d for n, d in first.items() if n != MANIFEST} == \
        {n: d for n, d in second.items() if n != MANIFEST}
    assert manifest_without_time(first[MANIFEST]) == manifest_without_time(second[MANIFEST])


def test_the_archive_holds_one_ordered_json_line_per_row_and_a_manifest(source, archive):
    files = members(archive)
    manifest = json.loads(files[MANIFEST])
    assert manifest["format_version"] == 1 and manifest["schema_revision"] == head_revision()
    assert [t["name"] for t in manifest["tables"]] == [t.name for t in archived_tables()]
    assert "lms_login_failure" in manifest["excluded"]
    assert "lms_login_failure.jsonl" not in files
    assert archive.stat().st_mode & 0o077 == 0  # password hashes and private notes: owner only
    rows = [json.loads(line) for line in files["lms_sign_off.jsonl"].splitlines()]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    audit = [json.loads(line) for line in files["lms_audit_event.jsonl"].splitlines()]
    assert any(r["detail"] is None for r in audit)
    assert all(r["at"].endswith("+00:00") for r in audit)
    correction = json.loads(files["lms_record_correction.jsonl"].splitlines()[0])
    assert correction["body"] == "Corrected: the date was 3 March \u2028 not 4 — sorry ✓"
    assert correction["created_at"] == "2026-11-20T09:30:15.123456+00:00"


def test_the_export_can_be_made_inside_a_session(source, archive, tmp_path):
    session = source.session()
    try:
        manifest = export_archive(session, tmp_path / "from-session.zip")
    finally:
        session.close()
    assert manifest.tables == read_manifest(archive).tables


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("column_type", "value"), [
    (DateTime(timezone=True), datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
    (Date(), date(2026, 2, 28)),
    (Time(), time(18, 30)),
    (Numeric(10, 4), Decimal("12.3400")),
    (Float(), 0.1 + 0.2),
    (LargeBinary(), b"\x00\xffbytes"),
])
def test_each_kind_of_value_comes_back_as_it_went(column_type, value):
    written = json.loads(json.dumps(encode_value(value)))
    assert isinstance(written, str | float)
    decode = decoder_for(Column("x", column_type))
    assert decode(written) == value and type(decode(written)) is type(value)
    assert decode(None) is None


def test_a_json_column_is_kept_as_it_is_even_when_it_looks_like_a_date():
    from sqlalchemy import JSON

    assert decoder_for(Column("x", JSON())) is None
    assert encode_value({"on": "2026-01-01", "n": [1, None]}) == {"on": "2026-01-01",
                                                                  "n": [1, None]}


# --- refusals ---------------------------------------------------------------------------------


def test_refuses_a_target_with_records_and_writes_nothing(archive, target):
    upgrade(target)
    session = target.session()
    factories.bind(session)
    try:
        factories.PersonFactory(email="already@example.org")
        session.commit()
    finally:
        factories.bind(None)
        session.close()
    with pytest.raises(BackupError, match="already holds lms records.*lms_person"):
        import_archive(target, archive)
    after = counts(target.engine)
    assert after["lms_person"] == 1 and after["lms_person_role"] == 1
    assert sum(after.values()) == 2


def test_refuses_a_changed_archive_before_writing_anything(archive, target, tmp_path):
    def change(name, data):
        return data.replace(b"Thandi", b"Thandy") if name == "lms_person.jsonl" else data

    tampered = rewrite(archive, tmp_path / "tampered.zip", change)
    with pytest.raises(BackupError, match="lms_person.jsonl does not match its checksum"):
        import_archive(target, tampered)
    assert lms_tables(target.engine) == set()  # not even the schema was created


def test_refuses_an_archive_whose_counts_do_not_match(archive, target, tmp_path):
    def change(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["tables"][0]["rows"] += 1
        return json.dumps(manifest).encode()

    with pytest.raises(BackupError, match="lms_curriculum.jsonl has 1 rows but the manifest"):
        import_archive(target, rewrite(archive, tmp_path / "counts.zip", change))
    assert lms_tables(target.engine) == set()


def test_refuses_an_archive_of_another_schema_revision(archive, target, tmp_path):
    def change(name, data):
        if name != MANIFEST:
            return data
        return json.dumps({**json.loads(data), "schema_revision": "0001"}).encode()

    older = rewrite(archive, tmp_path / "older.zip", change)
    with pytest.raises(BackupError, match=f"revision 0001, but this lms creates databases at "
                                          f"revision {head_revision()}"):
        import_archive(target, older)
    assert lms_tables(target.engine) == set()
    upgrade(target)  # a target with its schema names its own revision
    with pytest.raises(BackupError, match="the target database is at revision"):
        import_archive(target, older)
    assert sum(counts(target.engine).values()) == 0


def test_refuses_what_is_not_an_archive(tmp_path, target):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(BackupError, match="not a zip file"):
        import_archive(target, junk)
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(BackupError, match="no manifest.json"):
        import_archive(target, empty)
    with pytest.raises(BackupError, match="no such file"):
        import_archive(target, tmp_path / "missing.zip")


def test_export_refuses_a_database_behind_the_migrations(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        upgrade(db, "0008")
        with pytest.raises(BackupError, match="revision 0008.*run `lms db upgrade` first"):
            export_archive(db.engine, tmp_path / "old.zip")
    finally:
        db.dispose()
    assert not (tmp_path / "old.zip").exists()
    assert not (tmp_path / "old.zip.partial").exists()


def test_no_archived_table_refers_to_an_excluded_one():
    """A restored row pointing at a table that is never restored would break the import."""
    for table in archived_tables():
        for key in table.foreign_keys:
            assert key.column.table.name not in EXCLUDED_TABLES, (table.name, key.parent.name)


# --- the commands -----------------------------------------------------------------------------


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def migrated(app):
    """The app's database built by the migrations (the fixture's own has no revision)."""
    state = app.extensions["lms"].db
    drop_everything(state.engine)
    upgrade(state)
    yield state
    drop_everything(state.engine)


def assert_clean_failure(result, words: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "Traceback" not in result.output
    assert words in result.output


def test_export_and_import_commands(runner, migrated, tmp_path):
    session = migrated.session()
    factories.bind(session)
    try:
        factories.PersonFactory(email="kept@example.org", name="Kept Person")
        session.commit()
    finally:
        factories.bind(None)
        session.close()
    path = tmp_path / "backup.zip"
    result = runner.invoke(lms_group, ["export", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}: 2 rows in {len(archived_tables())} tables" in result.output

    assert_clean_failure(runner.invoke(lms_group, ["export", str(path)]),
                         "already exists: choose another name, or add --force")
    assert runner.invoke(lms_group, ["export", str(path), "--force"]).exit_code == 0

    assert_clean_failure(runner.invoke(lms_group, ["import", str(path)]),
                         "already holds lms records")
    drop_everything(migrated.engine)
    result = runner.invoke(lms_group, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Restored 2 rows in {len(archived_tables())} tables from {path}" in result.output
    session = migrated.session()
    try:
        assert session.scalar(select(Person.name)) == "Kept Person"
    finally:
        session.close()


def test_import_command_refuses_bad_archives_cleanly(runner, migrated, archive, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_text("hello")
    assert_clean_failure(runner.invoke(lms_group, ["import", str(junk)]), "not a zip file")

    def tamper(name, data):
        return data.replace(b"Sara", b"Sarah") if name == "lms_person.jsonl" else data

    assert_clean_failure(
        runner.invoke(lms_group, ["import", str(rewrite(archive, tmp_path / "t.zip", tamper))]),
        "does not match its checksum")

    def older(name, data):
        if name != MANIFEST:
            return data
        return json.dumps({**json.loads(data), "schema_revision": "0007"}).encode()

    assert_clean_failure(
        runner.invoke(lms_group, ["import", str(rewrite(archive, tmp_path / "o.zip", older))]),
        "The archive is at schema revision 0007")
    assert sum(counts(migrated.engine).values()) == 0


def test_export_command_refuses_a_database_without_migrations(runner, app, tmp_path):
    # The test app's database is made by create_all: it has no schema revision.
    assert_clean_failure(runner.invoke(lms_group, ["export", str(tmp_path / "x.zip")]),
                         "no lms schema revision")
    assert not (tmp_path / "x.zip").exists()


def test_a_restore_moves_the_content_stamp(archive, target):
    """A process that cached the empty target's content must read it again after a restore."""
    upgrade(target)
    with target.engine.connect() as connection:
        before = connection.scalar(select(ContentRevision.stamp))
    import_archive(target, archive)
    with target.engine.connect() as connection:
        assert connection.scalar(select(ContentRevision.stamp)) not in (None, before)
