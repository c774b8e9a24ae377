"""Which curricula a person is enrolled in: read with the log-in session, so a trainee's module
and quiz pages ask no query of their own, and read again as soon as enrolments may have
changed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select

from lms.models import Enrolment
from lms.services import enrolled_curricula
from lms.services.enrolled_curricula import enrolled_curriculum_ids

ASKS = "JOIN lms_enrolment"


def test_a_module_page_asks_nothing_beyond_the_log_in_look_up(trainee, login, count_queries):
    client = login(trainee)
    client.get("/modules/listening")
    with count_queries() as statements:
        assert client.get("/modules/listening").status_code == 200
    [look_up] = [s for s in statements if "lms_login_session" in s]
    assert ASKS in look_up
    assert [s for s in statements if ASKS in s] == [look_up]


def test_a_module_outside_the_persons_curricula_is_still_refused(make_person, make_cohort,
                                                                 login):
    outsider = make_person("trainee", name="Not Enrolled")
    client = login(outsider)
    assert client.get("/modules/listening").status_code == 404


def test_what_was_noted_is_used_for_that_person_only(db, trainee, make_person, content,
                                                     count_queries):
    other = make_person("trainee", name="Other")
    enrolled_curricula.note(db, trainee.id, f"{content.id},{content.id}")
    with count_queries() as statements:
        assert enrolled_curriculum_ids(db, trainee.id) == {content.id}
    assert statements == []
    assert enrolled_curriculum_ids(db, other.id) == set()  # asked the database


def test_an_enrolment_made_in_the_same_transaction_is_seen(db, make_person, make_cohort, content):
    person = make_person("trainee", name="New Joiner")
    cohort = make_cohort()
    enrolled_curricula.note(db, person.id, None)
    assert enrolled_curriculum_ids(db, person.id) == set()
    db.add(Enrolment(cohort_id=cohort.id, person_id=person.id, enrolled_on=date(2027, 1, 4)))
    db.flush()
    assert enrolled_curriculum_ids(db, person.id) == {content.id}


def test_a_bulk_enrolment_in_the_same_transaction_is_seen(db, make_person, make_cohort, content):
    person = make_person("trainee", name="Bulk Joiner")
    cohort = make_cohort()
    enrolled_curricula.note(db, person.id, "")
    db.execute(insert(Enrolment), [{"cohort_id": cohort.id, "person_id": person.id,
                                    "enrolled_on": date(2027, 1, 4)}])
    assert enrolled_curriculum_ids(db, person.id) == {content.id}


def test_what_was_noted_ends_with_the_transaction(db, make_person, content, count_queries):
    person = make_person("trainee", name="Later Reader")
    enrolled_curricula.note(db, person.id, str(content.id))
    db.commit()
    with count_queries() as statements:
        assert enrolled_curriculum_ids(db, person.id) == set()
    assert [s for s in statements if ASKS in s]


def test_an_unflushed_withdrawal_or_enrolment_is_seen(db, make_person, make_cohort, content):
    person = make_person("trainee", name="Coming And Going")
    make_cohort(person)
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == person.id))
    enrolled_curricula.note(db, person.id, str(content.id))
    db.delete(enrolment)  # not flushed: the noted value is out of date
    assert enrolled_curriculum_ids(db, person.id) == set()
    db.rollback()
    other = make_cohort()
    enrolled_curricula.note(db, person.id, "")
    db.add(Enrolment(cohort_id=other.id, person_id=person.id, enrolled_on=date(2027, 1, 4)))
    assert enrolled_curriculum_ids(db, person.id) == {content.id}
