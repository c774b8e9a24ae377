"""The access matrix: every lms route x every role and anonymous, built from the URL map.

A route that declares no roles fails this test, so a new route cannot forget its check.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import (
    AgreedAction,
    CheckIn,
    Cohort,
    CohortStaff,
    Debrief,
    Enrolment,
    Person,
    SignOff,
    SupervisionAttendee,
    SupervisionRecord,
)
from lms.models._types import utcnow
from lms.models.people import ROLES
from lms.services import quizzes, supervisors
from tests.conftest import log_in


def lms_routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("lms_"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, view


def supervision_samples(db, trainee, supervisor) -> dict:
    """A supervision record with an action, a debrief with a follow-up and a low check-in
    for ``trainee``, by ``supervisor`` (made their current supervisor)."""
    today = utcnow().date()
    supervisors.assign(db, trainee, supervisor, on=today - timedelta(days=40))
    record = SupervisionRecord(author_id=supervisor.id, held_on=today - timedelta(days=35),
                               duration_minutes=45, kind="individual", format="phone",
                               topics=["caseload"], notes="n", private_note="p")
    record.attendees.append(SupervisionAttendee(trainee_id=trainee.id))
    action = AgreedAction(description="Read it", owner_id=trainee.id,
                          due_on=today - timedelta(days=2))
    record.actions.append(action)
    debrief = Debrief(trainee_id=trainee.id, started_by_id=supervisor.id,
                      supervisor_id=supervisor.id, incident_type="other",
                      incident_on=today - timedelta(days=3), what_happened="w", how_now="",
                      support_needed="", identifying_kept=[])
    follow_up = AgreedAction(description="Call", due_on=today - timedelta(days=1))
    debrief.actions.append(follow_up)
    check_in = CheckIn(trainee_id=trainee.id, mood=2, calm=4, manageable=4, sleep=4,
                       supported=4, note="", wants_to_talk=True)
    deploy = SignOff(trainee_id=trainee.id, curriculum_id=db.scalar(
        select(Cohort.curriculum_id).join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.person_id == trainee.id).limit(1)), decision="deploy", evidence={},
        signed_by_id=supervisor.id)
    db.add_all([record, debrief, check_in, deploy])
    db.flush()
    return {"record_id": record.id, "debrief_id": debrief.id, "action_id": follow_up.id,
            "kind": "low_check_in", "check_in_id": check_in.id, "sign_off_id": deploy.id}


@pytest.fixture
def sample_values(db, trainee, module, make_session, make_person):
    quiz = module("listening").quiz
    attempt = quizzes.start_attempt(db, trainee.id, quiz)
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    item = make_session(enrolment.cohort, utcnow() - timedelta(days=1), 60,
                        modules=[module("listening")])
    values = supervision_samples(db, trainee, make_person("supervisor"))
    db.commit()
    return {"slug": "listening", "attempt_id": attempt.id, "person_id": trainee.id,
            "cohort_id": enrolment.cohort_id, "session_id": item.id, "certificate_id": 1,
            "agreement_id": 1, "request_id": 1, "client_id": 1,
            **values}


def build(rule, values):
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


def test_every_route_declares_its_roles(app):
    missing = [rule.rule for rule, _m, view in lms_routes(app) if not hasattr(view, "lms_roles")]
    assert missing == []


def test_anonymous_is_sent_to_log_in(app, sample_values):
    client = app.test_client()
    checked = 0
    for rule, method, view in lms_routes(app):
        if view.lms_roles is None:
            continue
        response = client.open(build(rule, sample_values), method=method)
        assert response.status_code == 302, (rule.rule, method)
        assert "/login" in response.location
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_where_not_admitted(app, db, make_person, make_cohort,
                                                 sample_values, role):
    person = make_person(role)
    if role == "trainee":
        make_cohort(person)
    if role == "trainer":  # a trainer of the sample cohort: admitted to its pages
        db.add(CohortStaff(cohort_id=sample_values["cohort_id"], person_id=person.id,
                           role="trainer"))
        db.commit()
    if role == "supervisor":  # the sample trainee's supervisor, and the author of records
        sample_values = {**sample_values, **supervision_samples(
            db, db.get(Person, sample_values["person_id"]), person)}
        db.commit()
    client = app.test_client()
    log_in(client, person)
    refused = admitted = 0
    for rule, method, view in lms_routes(app):
        if view.lms_roles is None or rule.endpoint == "lms_auth.logout":
            continue
        response = client.open(build(rule, sample_values), method=method)
        if role in view.lms_roles:
            assert response.status_code != 403, (rule.rule, method, role)
            admitted += 1
        else:
            assert response.status_code == 403, (rule.rule, method, role, response.status_code)
            assert "Your role does not give you access" in response.get_data(as_text=True)
            refused += 1
    assert refused + admitted >= 10
    if role in ("trainee", "trainer", "supervisor"):
        assert refused >= 1


def test_trainers_of_other_cohorts_are_refused(app, make_person, sample_values):
    """Every page under /cohorts/<id> refuses a trainer who does not train that cohort."""
    stranger = make_person("trainer")
    client = app.test_client()
    log_in(client, stranger)
    checked = 0
    for rule, method, _view in lms_routes(app):
        # The trainers' cohort pages; a supervisor's page naming a cohort refuses a trainer
        # by role (checked by the matrix above).
        if "cohort_id" not in rule.arguments or not rule.endpoint.startswith("lms_trainer."):
            continue
        response = client.open(build(rule, sample_values), method=method)
        assert response.status_code == 403, (rule.rule, method, response.status_code)
        assert "not one of your cohorts" in response.get_data(as_text=True)
        checked += 1
    assert checked >= 20


def test_the_current_person_is_the_person_not_the_log_in_proxy(app, client, trainee):
    """Pages read the person many times; each read through Flask-Login's proxy would look the
    user up again, so ``current_person`` hands out the person itself (None when signed out)."""
    from lms.web.access import current_person

    seen = []

    @app.route("/who-am-i")
    def who_am_i():
        seen.append(current_person())
        return "ok"

    client.get("/who-am-i")
    log_in(client, trainee)
    client.get("/who-am-i")
    assert seen[0] is None
    assert type(seen[1]) is Person and seen[1].id == trainee.id
