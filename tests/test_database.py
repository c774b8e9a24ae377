"""How a request's session ends (`lms.database.end_session`): a transaction that only read
commits, so PostgreSQL keeps its prepared statements; anything that wrote without committing,
held unflushed changes or failed is rolled back exactly as before."""

from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError

from lms.models import Person
from lms.web.access import db_session
from tests.conftest import log_in


@pytest.fixture
def endings(app):
    """The transaction endings the engine saw, in order."""
    engine = app.extensions["lms"].db.engine
    seen: list[str] = []

    def committed(_connection):
        seen.append("commit")

    def rolled_back(_connection):
        seen.append("rollback")

    event.listen(engine, "commit", committed)
    event.listen(engine, "rollback", rolled_back)
    yield seen
    event.remove(engine, "commit", committed)
    event.remove(engine, "rollback", rolled_back)


@pytest.fixture
def routes(app, make_person):
    """Test-only routes that read, write without committing, change an object without a flush,
    refuse after writing and crash after reading; each works on the person made here."""
    person = make_person("trainee", name="Original Name")

    def read():
        db_session().scalar(select(Person.name).where(Person.id == person.id))
        return "read"

    def write_without_commit():
        db_session().execute(update(Person).where(Person.id == person.id).values(name="Written"))
        return "wrote"

    def change_without_flush():
        found = db_session().get(Person, person.id)
        found.name = "Changed"
        return "changed"

    def refuse_after_writing():
        db_session().execute(update(Person).where(Person.id == person.id).values(name="Refused"))
        abort(409)

    def answer_a_failed_flush():
        session = db_session()
        session.add(Person(email=person.email, name="Same address", password_hash="x"))
        try:
            session.flush()
        except IntegrityError:  # the view answers; the transaction is left failed
            return "taken", 409
        return "not refused", 500

    def crash_after_reading():
        db_session().scalar(select(Person.name).where(Person.id == person.id))
        raise RuntimeError("a bug")

    for rule, view in (("/test/read", read), ("/test/write", write_without_commit),
                       ("/test/change", change_without_flush),
                       ("/test/refuse", refuse_after_writing),
                       ("/test/failed-flush", answer_a_failed_flush),
                       ("/test/crash", crash_after_reading)):
        app.add_url_rule(rule, view.__name__, view)
    return person


def name_in_database(db, person) -> str:
    db.expire_all()
    return db.scalar(select(Person.name).where(Person.id == person.id))


def test_a_request_that_only_read_ends_with_a_commit(client, routes, endings):
    assert client.get("/test/read").status_code == 200
    assert endings == ["commit"]


def test_a_write_the_view_did_not_commit_is_rolled_back(client, db, routes, endings):
    assert client.get("/test/write").status_code == 200
    assert endings == ["rollback"]
    assert name_in_database(db, routes) == "Original Name"


def test_a_change_never_flushed_is_not_committed_by_the_ending(client, db, routes, endings):
    assert client.get("/test/change").status_code == 200
    assert endings == ["rollback"]
    assert name_in_database(db, routes) == "Original Name"


def test_a_refusal_after_a_write_is_rolled_back(client, db, routes, endings):
    assert client.get("/test/refuse").status_code == 409
    assert endings == ["rollback"]
    assert name_in_database(db, routes) == "Original Name"


def test_a_failed_flush_the_view_answered_for_ends_quietly(client, db, routes, endings,
                                                          caplog):
    assert client.get("/test/failed-flush").status_code == 409
    assert "commit" not in endings
    assert not [r for r in caplog.records if r.name == "lms.database"]
    assert name_in_database(db, routes) == "Original Name"


def test_a_request_that_raised_is_rolled_back_even_if_it_only_read(client, routes, endings):
    with pytest.raises(RuntimeError):  # TESTING lets the error through to the test
        client.get("/test/crash")
    assert endings == ["rollback"]


def test_a_real_page_keeps_the_read_only_ending(client, trainee, endings):
    log_in(client, trainee)
    endings.clear()
    assert client.get("/dashboard").status_code == 200
    assert endings == ["commit"]


def test_postgresql_keeps_a_pages_statements_prepared_between_requests(app, client, trainee):
    engine = app.extensions["lms"].db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (the PostgreSQL pass runs this)")
    log_in(client, trainee)
    # psycopg prepares a statement the fifth time it runs on a connection.
    for _ in range(6):
        assert client.get("/dashboard").status_code == 200
    with engine.connect() as connection:
        prepared = connection.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
    assert prepared >= 5
