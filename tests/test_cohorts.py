"""Cohorts, staff, enrolment by hand and by CSV."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.models import Enrolment, Person
from lms.models._types import utcnow
from lms.services import cohorts
from lms.services.cohorts import EnrolmentErrors, enrol_rows, parse_enrolment_csv


@pytest.fixture
def cohort(db, content, make_person):
    trainer = make_person("trainer")
    made = cohorts.create_cohort(db, name="Spring", curriculum=content, timezone="Africa/Nairobi",
                                 trainers=[trainer])
    db.commit()
    return made


def enrolled(db, cohort):
    return db.scalar(select(func.count()).select_from(Enrolment)
                     .where(Enrolment.cohort_id == cohort.id))


def test_csv_enrols_everyone_and_creates_accounts(db, cohort, make_person):
    supervisor = make_person("supervisor", email="sup@example.org")
    existing = make_person("trainee", email="old@example.org")
    data = (b"name,email,supervisor\nAmina Diallo,amina@example.org,sup@example.org\n"
            b"Old Timer,OLD@example.org,\n\nBen Ng,ben@example.org\n")
    result = enrol_rows(db, cohort, parse_enrolment_csv(data), utcnow().date())
    db.commit()
    assert enrolled(db, cohort) == 3
    assert [p.email for p in result.new_accounts] == ["amina@example.org", "ben@example.org"]
    assert [link.person.email for link in result.links] == ["amina@example.org",
                                                             "ben@example.org"]
    assert all(p.password_hash is None for p in result.new_accounts)
    assert existing.id in [p.id for p in result.enrolled]
    amina = db.scalar(select(Person).where(Person.email == "amina@example.org"))
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == amina.id))
    assert enrolment.supervisor_id == supervisor.id
    assert amina.roles == {"trainee"}


def test_csv_with_mistakes_reports_each_row_and_enrols_none(db, cohort, make_person):
    make_person("trainer", email="trainer@example.org")
    data = (b"name,email,supervisor\n"
            b"Good Person,good@example.org\n"
            b",nobody@example.org\n"
            b"Bad Email,not-an-email\n"
            b"Good Again,GOOD@example.org\n"
            b"Staff Member,trainer@example.org\n"
            b"Wrong Sup,ws@example.org,ghost@example.org\n"
            b"Too,many,cells,here\n")
    with pytest.raises(EnrolmentErrors) as info:
        enrol_rows(db, cohort, parse_enrolment_csv(data), utcnow().date())
    assert info.value.errors == [(8, "expected name, email and an optional supervisor email")]
    data = data.replace(b"Too,many,cells,here\n", b"")
    with pytest.raises(EnrolmentErrors) as info:
        enrol_rows(db, cohort, parse_enrolment_csv(data), utcnow().date())
    assert info.value.errors == [
        (3, "the name is empty"),
        (4, "'not-an-email' is not an email address"),
        (5, "good@example.org is also on row 2"),
        (6, "trainer@example.org belongs to someone who is not a trainee"),
        (7, "supervisor ghost@example.org is not a supervisor here"),
    ]
    db.rollback()
    assert enrolled(db, cohort) == 0
    assert db.scalar(select(Person).where(Person.email == "good@example.org")) is None


def test_csv_that_is_not_text_is_refused():
    with pytest.raises(EnrolmentErrors, match="not UTF-8"):
        parse_enrolment_csv(b"\xff\xfegarbage")
    with pytest.raises(EnrolmentErrors, match="NUL"):
        parse_enrolment_csv(b"a\x00b,c@d.org\n")
    with pytest.raises(EnrolmentErrors, match="cannot be read as CSV"):
        parse_enrolment_csv(b'"' + b"x" * 140_000 + b'",a@example.org\n')
    with pytest.raises(EnrolmentErrors, match="no rows"):
        parse_enrolment_csv(b"name,email\n")


def test_trainers_manage_only_their_own_cohorts(db, cohort, make_person, content):
    own = next(s.person for s in cohort.staff)
    stranger = make_person("trainer")
    admin = make_person("admin")
    assert cohorts.can_manage(own, cohort)
    assert not cohorts.can_manage(stranger, cohort)
    assert cohorts.can_manage(admin, cohort)
    assert [c.id for c in cohorts.cohorts_for(db, stranger)] == []
    assert [c.id for c in cohorts.cohorts_for(db, own)] == [cohort.id]


def test_cohort_rules(db, content, make_person):
    with pytest.raises(cohorts.CohortError, match="time zone"):
        cohorts.create_cohort(db, name="X", curriculum=content, timezone="Mars/Olympus")
    from datetime import date

    with pytest.raises(cohorts.CohortError, match="end before"):
        cohorts.create_cohort(db, name="X", curriculum=content, starts_on=date(2026, 5, 1),
                              ends_on=date(2026, 4, 1))
    with pytest.raises(cohorts.CohortError, match="not a trainer"):
        cohorts.create_cohort(db, name="X", curriculum=content,
                              trainers=[make_person("trainee")])


def test_csv_too_large_is_refused():
    with pytest.raises(EnrolmentErrors, match="larger than 2 MB"):
        parse_enrolment_csv(b"a,b@example.org\n" * 200_000)


def test_csv_header_after_blank_lines_and_multiline_fields():
    rows = parse_enrolment_csv(b'\n\nname,email\n"Ann\nMarie",ann@example.org\nBo,bo@example.org\n')
    assert [(r.line, r.email) for r in rows] == [(5, "ann@example.org"), (6, "bo@example.org")]
