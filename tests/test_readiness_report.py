"""The trainer's readiness grid: the page (counts, tags, statuses, filters), a curriculum
without a standards file, the CSV (BOM, cut percentages, neutralised formulas, plain-English
to-dos, audited), refusals and a constant query count."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import (
    Agreement,
    AgreementSignature,
    Attempt,
    AuditEvent,
    CohortStaff,
    Enrolment,
    SignOff,
    StandardsPolicy,
)
from lms.models._types import utcnow
from lms.services import attendance, audit, readiness, readiness_report
from lms.services.attendance import Mark
from lms.services.readiness import Todo
from tests.readiness_fixtures import no_standards

TODAY = utcnow().date()
RULES = {
    "attendance": {"minimum_percent": 80, "core_sessions": True},
    "quizzes": {"modules": ["listening"], "pass_mark": None, "valid_for_months": 12},
    "agreements": ["confidentiality"],
    "supervision": {"minimum_sessions": 0, "minimum_hours": 0, "every_days": 30},
    "check_ins": {"every_days": 7},
    "competencies": [],
    "recertify_after_months": 24,
}


@pytest.fixture
def policy(db, cohort):
    no_standards(db, cohort.curriculum_id)
    row = StandardsPolicy(curriculum_id=cohort.curriculum_id, number=1, content_hash="h",
                          rules=RULES, current=True)
    db.add_all([row, Agreement(curriculum_id=cohort.curriculum_id, key="confidentiality",
                               number=1, title="Confidentiality agreement",
                               body_html="<p>x</p>", content_hash="a", current=True)])
    db.commit()
    return row


def enrol(db, cohort, make_person, name=None, **fields):
    person = make_person("trainee", **({"name": name} if name else {}), **fields)
    db.add(Enrolment(cohort_id=cohort.id, person_id=person.id,
                     enrolled_on=TODAY - timedelta(days=30)))
    db.commit()
    return person


def pass_quiz(db, person, module):
    quiz, at = module.quiz, utcnow() - timedelta(days=1)
    db.add(Attempt(person_id=person.id, quiz_id=quiz.id, quiz_version_id=quiz.current_version_id,
                   question_order=[], started_at=at, submitted_at=at, score=100.0, passed=True))


def sign(db, person):
    db.add(AgreementSignature(person_id=person.id, agreement_id=db.scalar(select(Agreement.id)),
                              typed_name=person.name))


def ready_person(db, person, module):
    pass_quiz(db, person, module("listening"))
    sign(db, person)


@pytest.fixture
def people(db, cohort, trainee, trainer, policy, make_person, make_session, module):
    """Tess at 1,999 of 2,500 minutes (79.96%), nothing else done; Rita ready; Dora ready
    but deferred; Sam signed off; "=cmd" absent; Wendy withdrawn."""
    rita = enrol(db, cohort, make_person, "Rita Ready")
    dora = enrol(db, cohort, make_person, "Dora Deferred")
    sam = enrol(db, cohort, make_person, "Sam Signed")
    cmd = enrol(db, cohort, make_person, "=cmd", email="cmd@example.org")
    wendy = enrol(db, cohort, make_person, "Wendy Withdrawn")
    item = make_session(cohort, utcnow() - timedelta(days=2), 2500)
    attendance.record_register(db, item, [
        Mark(trainee.id, "late", 1999), Mark(rita.id, "present"), Mark(dora.id, "present"),
        Mark(sam.id, "present"), Mark(cmd.id, "absent"), Mark(wendy.id, "present")], trainer)
    for person in (rita, dora, sam):
        ready_person(db, person, module)
    db.add(SignOff(trainee_id=dora.id, curriculum_id=cohort.curriculum_id, decision="defer",
                   reasons="More practice", plan="Role-play", review_on=TODAY + timedelta(days=20),
                   evidence={}, policy_id=policy.id))
    db.add(SignOff(trainee_id=sam.id, curriculum_id=cohort.curriculum_id, decision="deploy",
                   evidence={}, policy_id=policy.id))
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == wendy.id))
    enrolment.withdrawn_on = TODAY - timedelta(days=1)
    enrolment.withdrawn_reason = "Moved away"
    db.commit()
    return {"tess": trainee, "rita": rita, "dora": dora, "sam": sam, "cmd": cmd,
            "wendy": wendy}


def row_of(page: str, name: str) -> str:
    """The table row whose first cell starts with the (escaped) name."""
    match = re.search(r"<tr>\s*<th scope=\"row\">" + re.escape(name) + r".*?</tr>", page, re.S)
    assert match, name
    return match.group(0)


def test_the_page_shows_counts_tags_and_statuses(people, cohort, trainer, client_for):
    response = client_for(trainer).get(f"/cohorts/{cohort.id}/readiness")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # 3 ready (Rita, Dora, Sam: criteria met), 2 not ready (Tess, =cmd), 1 withdrawn.
    counts = re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page)
    assert counts == [("Ready to deploy", "3"), ("Not ready", "2"), ("Withdrawn", "1")]
    headers = re.findall(r"<th scope=\"col\">([^<]+)</th>", page)
    assert headers == ["Trainee", "Attendance", "Core sessions", "Core module quizzes",
                       "Agreements signed", "Supervision", "Observed practice", "Status"]
    tess = row_of(page, "Tess Trainee")
    assert "Not ready (3 to do)" in tess
    assert tess.count("st-bad") == 4  # attendance, quizzes, agreements and the status
    assert "<small>79.9%</small>" in tess  # 79.96% cut, never shown as the minimum
    assert "<details>" in tess and "Attend 1 minute more of training to reach 80%." in tess
    assert "Pass the quiz on “Listening" in tess
    assert "Read and sign the Confidentiality agreement." in tess
    rita = row_of(page, "Rita Ready")
    assert "Ready to deploy" in rita and "st-bad" not in rita and "<details>" not in rita
    assert "Deferred until" in row_of(page, "Dora Deferred")
    assert "Signed off" in row_of(page, "Sam Signed")
    wendy = row_of(page, "Wendy Withdrawn")
    assert ">Withdrawn<" in wendy and "<details>" not in wendy
    cmd = row_of(page, "=cmd")
    assert "Not ready" in cmd and "Make up the session" not in cmd  # not a core session
    # No link to the supervisor's pages: trainers may not read supervision notes.
    assert "/supervision" not in page
    assert f'href="/cohorts/{cohort.id}/readiness.csv"' in page
    assert 'aria-current="page"' in page and ">Readiness</a>" in page


@pytest.mark.parametrize(("show", "shown", "hidden"), [
    ("ready", ["Rita Ready", "Dora Deferred", "Sam Signed"],
     ["Tess Trainee", "=cmd", "Wendy Withdrawn"]),
    ("not_ready", ["Tess Trainee", "=cmd"], ["Rita Ready", "Wendy Withdrawn", "Sam Signed"]),
    ("all", ["Tess Trainee", "Rita Ready", "Wendy Withdrawn"], []),
    ("nonsense", ["Tess Trainee", "Rita Ready", "Wendy Withdrawn"], []),
])
def test_filters(people, cohort, trainer, client_for, show, shown, hidden):
    response = client_for(trainer).get(f"/cohorts/{cohort.id}/readiness?show={show}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    names = re.findall(r"<th scope=\"row\">([^<\n]+)", page)
    for name in shown:
        assert name in names
    for name in hidden:
        assert name not in names
    selected = show if show in readiness_report.SHOWS else "all"
    assert f'<option value="{selected}" selected>' in page


def test_without_a_standards_file_the_page_says_so(db, cohort, trainer, client_for):
    no_standards(db, cohort.curriculum_id)
    response = client_for(trainer).get(f"/cohorts/{cohort.id}/readiness")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    slug = cohort.curriculum.slug
    assert ("This curriculum has no standards file yet: add "
            f"curricula/{slug}/standards.yaml") in page
    assert "<table" not in page


def test_an_empty_cohort_with_a_policy_has_a_page(db, make_cohort, trainer, policy,
                                                  client_for):
    empty = make_cohort()
    db.add(CohortStaff(cohort_id=empty.id, person_id=trainer.id, role="trainer"))
    db.commit()
    page = client_for(trainer).get(f"/cohorts/{empty.id}/readiness").get_data(as_text=True)
    assert "Nobody to show." in page and "no standards file" not in page


def read_csv(response):
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # a byte-order mark, for spreadsheets
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_csv(db, people, cohort, trainer, client_for, module):
    listening = module("listening")
    cohort.name = "Spring Cohort: Nairobi / 2026 é"
    db.commit()
    response = client_for(trainer).get(f"/cohorts/{cohort.id}/readiness.csv?show=ready")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="spring-cohort-nairobi-2026-e-readiness.csv"'
    assert response.mimetype == "text/csv"
    rows = read_csv(response)
    assert rows[0] == ["Name", "Email", "Ready", "Attendance: met", "Core sessions: met",
                       "Core module quizzes: met", "Agreements signed: met",
                       "Supervision: met", "Observed practice: met", "Attendance %", "To do",
                       "Status", "Latest sign-off", "Sign-off date", "Review on"]
    by_name = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert len(by_name) == 6  # every trainee: the page's filter is not the export's
    tess = by_name["Tess Trainee"]
    assert tess["Attendance %"] == "79.9"  # 79.96 cut, never rounded up to the minimum
    assert tess["Ready"] == "no" and tess["Attendance: met"] == "no"
    assert tess["Supervision: met"] == "yes"
    assert tess["To do"] == ("attend 1 more minute to reach 80%; pass the quiz on "
                             f"'{listening.title}'; sign the Confidentiality agreement")
    assert tess["Status"] == "not ready" and tess["Latest sign-off"] == ""
    assert "'=cmd" in by_name and by_name["'=cmd"]["Attendance %"] == "0"
    sam = by_name["Sam Signed"]
    assert sam["Ready"] == "yes" and sam["Latest sign-off"] == "deploy"
    assert sam["Sign-off date"] == TODAY.isoformat()  # the cohort's zone is UTC
    dora = by_name["Dora Deferred"]
    assert dora["Latest sign-off"] == "defer"
    assert dora["Review on"] == (TODAY + timedelta(days=20)).isoformat()
    assert by_name["Wendy Withdrawn"]["Status"] == "withdrawn"


def test_the_csv_export_is_audited(db, people, cohort, trainer, client_for):
    client_for(trainer).get(f"/cohorts/{cohort.id}/readiness.csv")
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == audit.CSV_EXPORT)))
    assert len(events) == 1
    event = events[0]
    assert (event.actor_id, event.subject_type, event.subject_id, event.person_id) == \
        (trainer.id, "readiness", cohort.id, None)
    assert event.detail == {"rows": 6}


def test_plain_english_to_dos():
    assert readiness_report.todo_text(Todo("attend_minutes", {
        "minutes": 185, "minimum_percent": 80.0})) == "attend 185 more minutes to reach 80%"
    assert readiness_report.todo_text(Todo("make_up", {
        "title": "Boundaries", "on": TODAY.replace(2026, 3, 12), "session_id": 1})) == \
        "make up session 'Boundaries' of 2026-03-12"
    assert readiness_report.todo_text(Todo("supervision_sessions", {"count": 1})) == \
        "have 1 more supervision session"
    assert readiness_report.todo_text(Todo("supervision_minutes", {"minutes": 90})) == \
        "have 90 more minutes of supervision"
    assert readiness_report.todo_text(Todo("competency", {
        "key": "l", "title": "Listening", "required": "competent", "rating": None})) == \
        "be observed in 'Listening' (not rated yet, competent needed)"
    assert readiness_report.todo_text(Todo("competency", {
        "key": "l", "title": "Listening", "required": "competent", "rating": "not_yet"})) == \
        "be observed in 'Listening' (rated not yet, competent needed)"
    assert readiness_report.todo_text(Todo("sign_new_version", {
        "key": "c", "title": "Code of conduct"})) == "sign the new version of the Code of conduct"


@pytest.mark.parametrize("path", ["readiness", "readiness.csv"])
def test_refusals(db, cohort, trainee, make_person, make_cohort, client_for, policy, path):
    url = f"/cohorts/{cohort.id}/{path}"
    assert client_for(trainee).get(url).status_code == 403
    assert client_for(make_person("supervisor")).get(url).status_code == 403
    other_trainer = make_person("trainer")
    other = make_cohort()
    db.add(CohortStaff(cohort_id=other.id, person_id=other_trainer.id, role="trainer"))
    db.commit()
    assert client_for(other_trainer).get(url).status_code == 403
    assert client_for(make_person("admin")).get(url).status_code == 200
    assert client_for(other_trainer).get("/cohorts/999999/readiness").status_code == 404
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == audit.CSV_EXPORT,
                                              AuditEvent.actor_id == other_trainer.id)) is None


def test_the_page_costs_the_same_queries_for_5_and_50(db, cohort, trainee, trainer, policy,
                                                      make_person, make_session, module, app,
                                                      count_queries, client_for):
    def add(n):
        for _ in range(n):
            person = enrol(db, cohort, make_person)
            pass_quiz(db, person, module("listening"))
            db.add(SignOff(trainee_id=person.id, curriculum_id=cohort.curriculum_id,
                           decision="defer", reasons="r", plan="p", review_on=TODAY,
                           evidence={}, policy_id=policy.id))
        db.commit()

    item = make_session(cohort, utcnow() - timedelta(days=2), 60)
    attendance.record_register(db, item, [Mark(trainee.id, "present")], trainer)
    db.commit()
    client = client_for(trainer)

    def count() -> int:
        db.expire_all()
        with count_queries() as statements:
            response = client.get(f"/cohorts/{cohort.id}/readiness")
        assert response.status_code == 200
        return len(statements)

    add(4)
    count()  # content is read once per process, then only its stamp
    five = count()
    add(45)
    fifty = count()
    assert len(readiness.cohort_readiness(db, cohort, today=TODAY)) == 50
    assert fifty == five
