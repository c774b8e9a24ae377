"""The whole cohort's attendance page: who may see it, marks as the register holds them, figures
from the one computation, sort and filter, the CSV and its audit event, a constant query count."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import AuditEvent, CohortStaff, Enrolment
from lms.models._types import utcnow
from lms.services import agenda, attendance, attendance_report, audit, withdrawal
from lms.services.attendance import Mark
from tests import factories


@pytest.fixture
def scene(db, cohort, trainer, trainee, make_person, make_session):
    """Four trainees and six sessions, every kind of cell:

    * s1 (core) 10 days ago, s2 8 days ago, s3 (core) 6 days ago, s4 5 days ago (cancelled),
      s5 3 days ago, s6 in two days (not shown); each 60 minutes.
    * Tess: present, late (45 attended), absent then made up, -, left early (30 attended).
    * Ann: excused (core, so missed), absent, present, -, not yet marked.
    * Wes: present, present, present, -, present; withdrawn 7 days ago (s3 and s5 not counted).
    * Lou: enrolled 7 days ago (s1 and s2 not counted); present at s3 and s5.
    """
    now = utcnow()
    ann = make_person("trainee", name="Ann Absent")
    wes = make_person("trainee", name="Wes Withdrawn")
    lou = make_person("trainee", name="Lou Late-Joiner")
    for person, days in ((ann, 30), (wes, 30), (lou, 7)):
        db.add(Enrolment(cohort_id=cohort.id, person_id=person.id,
                         enrolled_on=(now - timedelta(days=days)).date()))
    db.commit()
    s1, s2, s3, s4, s5, s6 = (
        make_session(cohort, now - timedelta(days=d), 60, core=d in (10, 6), title=f"S{i}")
        for i, d in enumerate((10, 8, 6, 5, 3, -2), start=1))
    attendance.record_register(db, s1, [Mark(trainee.id, "present"), Mark(ann.id, "excused"),
                                        Mark(wes.id, "present")], trainer)
    attendance.record_register(db, s2, [Mark(trainee.id, "late", 45), Mark(ann.id, "absent"),
                                        Mark(wes.id, "present")], trainer)
    attendance.record_register(db, s3, [Mark(trainee.id, "absent"), Mark(ann.id, "present"),
                                        Mark(wes.id, "present"), Mark(lou.id, "present")],
                               trainer)
    attendance.record_register(db, s5, [Mark(trainee.id, "left_early", 30),
                                        Mark(wes.id, "present"), Mark(lou.id, "present")],
                               trainer)
    attendance.record_make_up(db, trainee, s3, recorder=trainer, activity="Catch-up call",
                              minutes=60)
    agenda.cancel_session(db, s4, "Venue closed", by=trainer)
    enrolment = withdrawal.enrolment_in(db, cohort, wes.id)
    withdrawal.withdraw(db, enrolment, (now - timedelta(days=7)).date(), "Moved away", trainer)
    db.commit()
    return {"tess": trainee, "ann": ann, "wes": wes, "lou": lou,
            "sessions": [s1, s2, s3, s4, s5, s6]}


def _codes(report, person):
    row = next(r for r in report.rows if r.person.id == person.id)
    return [attendance_report.csv_code(kind, minutes) for kind, minutes in row.cells]


def _row_html(page: str, name: str) -> str:
    return re.search(rf"<tr[^>]*>\s*<th scope=\"row\">{re.escape(name)}.*?</tr>", page,
                     re.S).group(0)


# --- who may see it ------------------------------------------------------------------------


def test_only_the_cohorts_trainers_and_admins(db, app, cohort, trainer, trainee, make_person,
                                              make_cohort, client_for):
    for path in (f"/cohorts/{cohort.id}/attendance", f"/cohorts/{cohort.id}/attendance.csv"):
        assert client_for(trainer).get(path).status_code == 200
        assert client_for(make_person("admin")).get(path).status_code == 200
        assert client_for(trainee).get(path).status_code == 403
        supervisor = make_person("supervisor")
        db.add(CohortStaff(cohort_id=cohort.id, person_id=supervisor.id, role="supervisor"))
        db.commit()
        assert client_for(supervisor).get(path).status_code == 403
        other = make_person("trainer")
        db.add(CohortStaff(cohort_id=make_cohort().id, person_id=other.id, role="trainer"))
        db.commit()
        assert client_for(other).get(path).status_code == 403
        anonymous = app.test_client().get(path)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    # Nothing but the trainer's and the admin's exports was audited.
    assert len(db.scalars(select(AuditEvent).where(AuditEvent.action == audit.CSV_EXPORT))
               .all()) == 2


def test_the_tab_is_in_the_cohort_nav(cohort, trainer, client_for):
    page = client_for(trainer).get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert f'href="/cohorts/{cohort.id}/attendance"' in page


# --- what it shows -------------------------------------------------------------------------


def test_marks_match_the_register(db, cohort, scene):
    report = attendance_report.attendance_report(db, cohort)
    assert [s.title for s in report.sessions] == ["S1", "S2", "S3", "S4", "S5"]
    assert report.later == 1
    assert _codes(report, scene["tess"]) == ["P", "L45", "M", "–", "E30"]
    assert _codes(report, scene["ann"]) == ["X", "A", "P", "–", "?"]
    # Withdrawn 7 days ago: the later marks are kept but neither shown nor counted.
    assert _codes(report, scene["wes"]) == ["P", "P", "–", "–", "–"]
    # Enrolled 7 days ago: the earlier sessions are outside the enrolment.
    assert _codes(report, scene["lou"]) == ["–", "–", "P", "–", "P"]
    kinds = {kind for row in report.rows for kind, _m in row.cells}
    assert {attendance_report.CANCELLED, attendance_report.NOT_COUNTED} <= kinds


def test_figures_are_the_one_computation(db, cohort, scene):
    report = attendance_report.attendance_report(db, cohort)
    figures = attendance.cohort_attendance(db, cohort)
    for row in report.rows:
        expected = figures[row.person.id]
        assert row.attendance.percentage == expected.percentage
        assert [s.id for s in row.attendance.core_missed] == [s.id for s in expected.core_missed]
    by_id = {r.person.id: r for r in report.rows}
    # Tess: 60 + 45 + 60 (made up) + 30 of 240 minutes; Ann: 60 of 120 (s1 excused).
    assert by_id[scene["tess"].id].attendance.percentage == pytest.approx(81.25)
    assert by_id[scene["ann"].id].attendance.percentage == 50.0
    assert [s.title for s in by_id[scene["ann"].id].attendance.core_missed] == ["S1"]
    # Below the standard (80%, core sessions required): Ann only. Wes is withdrawn.
    assert [r.person.id for r in report.rows if r.below] == [scene["ann"].id]


def test_the_page_shows_codes_legend_and_headers(db, cohort, trainer, scene, client_for):
    page = client_for(trainer).get(f"/cohorts/{cohort.id}/attendance").get_data(as_text=True)
    tess = _row_html(page, "Tess Trainee")
    assert re.search(r"<td>P</td><td class=l>L45</td><td class=m>M</td><td class=n>–</td>"
                     r"<td class=l>E30</td>", tess)
    assert "81.2" in tess  # cut, never rounded up
    ann = _row_html(page, "Ann Absent")
    assert "<td class=x>X</td><td class=a>A</td><td>P</td><td class=n>–</td><td class=u>?</td>" \
        in ann
    assert "below the standard" in ann and "1 not yet marked" in ann
    assert "withdrawn on" in _row_html(page, "Wes Withdrawn")
    # Titles once per column, never per cell; no per-cell attributes beyond the class.
    assert page.count('title="S3, ') == 1 and "(cancelled)" in page
    assert not re.search(r"<td[^>]*(title|aria-)", page)
    assert "<caption" in page and '<th scope="row">' in page
    assert "1 session still to come is not shown." in page


def test_sort_and_filter(db, cohort, trainer, scene, client_for):
    client = client_for(trainer)

    def names(query: str) -> list[str]:
        page = client.get(f"/cohorts/{cohort.id}/attendance{query}").get_data(as_text=True)
        return re.findall(r'<th scope="row">([^<]+)', page)

    everyone = ["Ann Absent", "Lou Late-Joiner", "Tess Trainee", "Wes Withdrawn"]
    assert names("") == everyone
    assert names("?sort=percentage") == ["Ann Absent", "Tess Trainee", "Lou Late-Joiner",
                                         "Wes Withdrawn"]
    assert names("?sort=core_missed") == everyone  # Ann (1) first, then the others by name
    assert names("?show=below") == ["Ann Absent"]
    # Unknown values fall back to the name order and everyone.
    assert names("?sort=evil&show=%3Cscript%3E") == everyone


def test_csv_same_order_and_filter_and_audited(db, cohort, trainer, scene, client_for):
    client = client_for(trainer)
    response = client.get(f"/cohorts/{cohort.id}/attendance.csv?sort=percentage")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:8] == ["Name", "Email", "Attendance %", "Core sessions missed",
                           "Not yet marked", "Below standard", "Status", "Withdrawn on"]
    assert rows[0][8].endswith(" S1") and rows[0][11].endswith("S4 (cancelled)")
    assert [r[0] for r in rows[1:]] == ["Ann Absent", "Tess Trainee", "Lou Late-Joiner",
                                        "Wes Withdrawn"]
    assert rows[1][2:] [:4] == ["50", "1", "1", "yes"]
    assert rows[2][8:] == ["P", "L45", "M", "–", "E30"]
    assert rows[4][6] == "withdrawn" and rows[4][7]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == audit.CSV_EXPORT)).one()
    assert (event.actor_id, event.subject_type, event.subject_id, event.detail) == (
        trainer.id, "cohort_attendance", cohort.id, {"rows": 4})
    below = client.get(f"/cohorts/{cohort.id}/attendance.csv?show=below")
    assert "attendance-below.csv" in below.headers["Content-Disposition"]
    assert [r[0] for r in csv.reader(io.StringIO(below.get_data(as_text=True)))][1:] == [
        "Ann Absent"]


def test_csv_neutralises_formulas(db, cohort, trainer, trainee, client_for):
    trainee.name = "=HYPERLINK(\"x\")"
    db.commit()
    text = client_for(trainer).get(f"/cohorts/{cohort.id}/attendance.csv").get_data(
        as_text=True)
    assert "'=HYPERLINK" in text


def test_no_policy_means_nobody_below(db, cohort, scene):
    report = attendance_report.attendance_report(db, cohort)
    assert report.policy is not None
    assert not attendance_report.below_standard(report.rows[0].attendance, None)


# --- cost ----------------------------------------------------------------------------------


def _cohort_of(db, make_cohort, make_session, trainer, trainees: int, sessions: int):
    now = utcnow()
    cohort = make_cohort()
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    people = []
    for _n in range(trainees):
        person = factories.PersonFactory(roles=("trainee",))
        db.add(Enrolment(cohort_id=cohort.id, person_id=person.id,
                         enrolled_on=(now - timedelta(days=60)).date()))
        people.append(person)
    db.commit()
    for day in range(sessions):
        item = make_session(cohort, now - timedelta(days=50 - day), 60, core=day % 2 == 0)
        attendance.record_register(db, item, [
            Mark(p.id, ("present", "absent", "excused")[(i + day) % 3])
            for i, p in enumerate(people) if (i + day) % 4], trainer)
    db.commit()
    return cohort


def test_query_count_does_not_grow_with_trainees_or_sessions(db, trainer, make_cohort,
                                                             make_session, client_for,
                                                             count_queries):
    small = _cohort_of(db, make_cohort, make_session, trainer, 3, 2)
    large = _cohort_of(db, make_cohort, make_session, trainer, 12, 8)
    client = client_for(trainer)
    client.get(f"/cohorts/{small.id}/attendance")  # warm up (first-request work)
    counts = []
    for found, cells in ((small, 6), (large, 96)):
        with count_queries() as statements:
            page = client.get(f"/cohorts/{found.id}/attendance").get_data(as_text=True)
        assert page.count("</td>") >= cells
        counts.append(len(statements))
    assert counts[0] == counts[1]
    db.commit()  # each measure in a transaction of its own (each reads the content stamp)
    db.expire_all()
    with count_queries() as service_small:
        attendance_report.attendance_report(db, small)
    db.commit()
    db.expire_all()
    with count_queries() as service_large:
        report = attendance_report.attendance_report(db, large)
    assert len(report.rows) == 12 and len(report.sessions) == 8
    assert len(service_small) == len(service_large) <= 10
    # The enrolments are read once (with their people), not again for the arithmetic.
    assert sum("FROM lms_enrolment" in s for s in service_large) == 1, service_large
