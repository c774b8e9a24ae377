"""Cohorts, staff, enrolment by hand and by CSV."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.models import Enrolment, Person
from lms.services import cohorts, supervisors
from lms.services.cohorts import EnrolmentErrors, enrol_rows, parse_enrolment_csv
from lms.services.time_zones import local_today


@pytest.fixture
def cohort(db, content, make_person):
    trainer = make_person("trainer")
    made = cohorts.create_cohort(db, name="Spring", curriculum=content, timezone="Africa/Nairobi",
                                 trainers=[trainer])
    db.commit()
    return made


def cohort_today(cohort):
    # The cohort's day, not UTC's: Nairobi's day starts three hours before UTC's, and a UTC
    # date there is yesterday (a back-dated enrolment) from 21:00 UTC.
    return local_today(cohort.timezone)


def enrolled(db, cohort):
    return db.scalar(select(func.count()).select_from(Enrolment)
                     .where(Enrolment.cohort_id == cohort.id))


def test_csv_enrols_everyone_and_creates_accounts(db, cohort, make_person):
    supervisor = make_person("supervisor", email="sup@example.org")
    existing = make_person("trainee", email="old@example.org")
    data = (b"name,email,supervisor\nAmina Diallo,amina@example.org,sup@example.org\n"
            b"Old Timer,OLD@example.org,\n\nBen Ng,ben@example.org\n")
    result = enrol_rows(db, cohort, parse_enrolment_csv(data), cohort_today(cohort))
    db.commit()
    assert enrolled(db, cohort) == 3
    assert [p.email for p in result.new_accounts] == ["amina@example.org", "ben@example.org"]
    assert [link.person.email for link in result.links] == ["amina@example.org",
                                                             "ben@example.org"]
    assert all(p.password_hash is None for p in result.new_accounts)
    assert existing.id in [p.id for p in result.enrolled]
    amina = db.scalar(select(Person).where(Person.email == "amina@example.org"))
    assert supervisors.current_supervisor_ids(db, [amina.id], cohort_today(cohort)) == {
        amina.id: supervisor.id}
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
        enrol_rows(db, cohort, parse_enrolment_csv(data), cohort_today(cohort))
    assert info.value.errors == [(8, "expected name, email and an optional supervisor email, "
                                     "separated by commas")]
    data = data.replace(b"Too,many,cells,here\n", b"")
    with pytest.raises(EnrolmentErrors) as info:
        enrol_rows(db, cohort, parse_enrolment_csv(data), cohort_today(cohort))
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
    with pytest.raises(EnrolmentErrors, match="one cell is far too long"):
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


def test_enrolment_is_dated_in_the_cohorts_zone(db, content, make_person):
    """19:40 on 28 November in Los Angeles is 03:40 on the 29th in UTC: still the 28th there."""
    from datetime import UTC, date, datetime, time

    from lms.services import attendance
    from tests import factories

    cohort = cohorts.create_cohort(db, name="LA", curriculum=content,
                                   timezone="America/Los_Angeles")
    evening = datetime(2026, 11, 29, 3, 40, tzinfo=UTC)
    result = cohorts.enrol_one(db, cohort, name="Late Joiner", email="late@example.org",
                               now=evening)
    assert result.enrolled_on == date(2026, 11, 28)
    # A session at 20:00 that same evening (04:00 UTC on the 29th) counts for them.
    item = factories.SessionFactory(cohort_id=cohort.id, title="Evening",
                                    on_date=date(2026, 11, 28), start_time=time(20, 0),
                                    starts_at=datetime(2026, 11, 29, 4, 0, tzinfo=UTC),
                                    duration_minutes=60)
    db.flush()
    enrolment = db.scalar(select(Enrolment).where(Enrolment.cohort_id == cohort.id))
    assert attendance.counts_for(item, enrolment.enrolled_on,
                                 datetime(2026, 11, 29, 6, 0, tzinfo=UTC))


def test_back_dated_enrolment_needs_a_reason_that_is_kept(db, content, make_person):
    from datetime import timedelta

    from lms.services import time_zones

    trainer = make_person("trainer")
    cohort = cohorts.create_cohort(db, name="Back", curriculum=content, timezone="Africa/Nairobi",
                                   trainers=[trainer])
    earlier = time_zones.local_today("Africa/Nairobi") - timedelta(days=3)
    with pytest.raises(cohorts.CohortError) as info:
        cohorts.enrol_one(db, cohort, name="A", email="a@example.org", on=earlier, actor=trainer)
    assert info.value.field == "backdate_reason"
    cohorts.enrol_one(db, cohort, name="A", email="a@example.org", on=earlier, actor=trainer,
                      backdate_reason="Came to the first session before the paperwork")
    enrolment = db.scalar(select(Enrolment).where(Enrolment.cohort_id == cohort.id))
    assert enrolment.enrolled_on == earlier and enrolment.enrolled_by_id == trainer.id
    assert enrolment.backdate_reason == "Came to the first session before the paperwork"


def test_cohort_problems_are_reported_together(db, content):
    from datetime import date

    with pytest.raises(cohorts.CohortError) as info:
        cohorts.create_cohort(db, name=" ", curriculum=content, timezone="Atlantis",
                              starts_on=date(2027, 2, 1), ends_on=date(2027, 1, 1))
    assert set(info.value.problems) == {"name", "ends_on", "timezone"}


@pytest.mark.parametrize(("typed", "zone"), [
    ("Nairobi", "Africa/Nairobi"), ("los angeles", "America/Los_Angeles"),
    ("africa/nairobi", "Africa/Nairobi"), ("Nairobi, Kenya", "Africa/Nairobi"), ("UTC", "UTC")])
def test_time_zone_by_city_or_name(typed, zone):
    from lms.services import time_zones

    assert time_zones.resolve(typed) == zone


@pytest.mark.parametrize("typed", ["America", "Mars/Base", "../../etc/passwd", "", "Etc"])
def test_time_zone_nonsense_is_refused(typed):
    from lms.services import time_zones

    assert time_zones.resolve(typed) is None


def test_two_thousand_rows_enrol_in_bulk(db, cohort, count_queries):
    """No password hashing and no query per row: the statement count stays small."""
    rows = [cohorts.EnrolmentRow(n + 2, f"Trainee {n}", f"t{n}@example.org")
            for n in range(2000)]
    with count_queries() as counted:
        result = enrol_rows(db, cohort, rows)
    assert len(result.enrolled) == 2000 and len(result.links) == 2000
    assert len(counted) < 60, len(counted)


def test_csv_problems_of_every_kind_are_reported_at_once(db, cohort, make_person):
    """A row with too few cells, a bad email and a missing back-date reason: one answer."""
    from datetime import timedelta

    from lms.services import time_zones

    data = b"name,email\nOnly A Name\nBad Email,not an email\nGood,good@example.org\n"
    earlier = time_zones.local_today(cohort.timezone) - timedelta(days=2)
    with pytest.raises(EnrolmentErrors) as info:
        cohorts.enrol_csv(db, cohort, data, earlier)
    lines = [line for line, _reason in info.value.errors]
    assert lines == [2, 3]
    assert "backdate_reason" in info.value.problems
    assert enrolled(db, cohort) == 0


def test_semicolons_and_old_mac_line_endings_are_read():
    rows = parse_enrolment_csv(b"name;email\rAmina;amina@example.org\rBen;ben@example.org\r")
    assert [(r.name, r.email) for r in rows] == [("Amina", "amina@example.org"),
                                                 ("Ben", "ben@example.org")]


def test_enrolment_dates_far_off_are_refused(db, cohort):
    from datetime import date

    for day in (date(2999, 1, 1), date(1999, 12, 31)):
        with pytest.raises(cohorts.CohortError) as info:
            cohorts.enrol_one(db, cohort, name="A", email="a@example.org", on=day,
                              backdate_reason="typo test")
        assert info.value.field == "enrolled_on"


def test_enrol_one_reports_every_problem_at_once(db, cohort):
    from datetime import timedelta

    from lms.services import time_zones

    earlier = time_zones.local_today(cohort.timezone) - timedelta(days=2)
    problems = cohorts.enrol_one_problems(db, cohort, name="", email="bad email", on=earlier)
    assert set(problems) == {"name", "email", "backdate_reason"}


@pytest.mark.parametrize(("email", "ok"), [
    ("amina@example.org", True), ("a.b+tag@mail.co.uk", True), ("zoë@exämple.org", True),
    ("x@y", False), ("a@b..c", False), ("<script>@x.org", False), ("two words@x.org", False)])
def test_the_one_email_rule(email, ok):
    from lms.services import accounts

    assert (accounts.email_problem(email) is None) is ok
