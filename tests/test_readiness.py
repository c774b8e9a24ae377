"""Readiness: each criterion met and unmet on hand-made records, unrounded percentages,
freshness, agreement versions, and the cohort's constant query count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.models import (
    Agreement,
    AgreementSignature,
    CompetencyRating,
    Enrolment,
    SupervisionAttendee,
    SupervisionRecord,
)
from lms.models._types import utcnow
from lms.services import attendance, readiness
from tests.readiness_fixtures import RULES, attend, no_standards, pass_quiz

TODAY = utcnow().date()
def only(db, cohort, trainee) -> readiness.Readiness:
    return readiness.readiness_in(db, cohort, trainee.id, today=TODAY)


def criterion(found, key) -> readiness.Criterion:
    return found.criterion(key)


def test_without_a_standards_file_nobody_is_ready(db, cohort, trainee):
    no_standards(db, cohort.curriculum_id)
    found = only(db, cohort, trainee)
    assert found.policy is None and found.criteria == [] and not found.ready


def test_79_96_percent_is_below_80(db, cohort, trainee, trainer, policy, make_session):
    attend(db, cohort, trainee, make_session, trainer, 2500, 1999)
    found = criterion(only(db, cohort, trainee), readiness.ATTENDANCE)
    assert not found.met
    assert found.evidence["percent"] == pytest.approx(79.96)
    assert found.todo[0].kind == "attend_minutes" and found.todo[0].params["minutes"] == 1


def test_exactly_the_minimum_is_met(db, cohort, trainee, trainer, policy, make_session):
    attend(db, cohort, trainee, make_session, trainer, 2500, 2000)
    assert criterion(only(db, cohort, trainee), readiness.ATTENDANCE).met


def test_a_missed_core_session_must_be_made_up(db, cohort, trainee, trainer, policy,
                                               make_session):
    missed = attend(db, cohort, trainee, make_session, trainer, 60, None, core=True,
                    status="absent")
    found = criterion(only(db, cohort, trainee), readiness.CORE_SESSIONS)
    assert not found.met
    assert found.todo[0].kind == "make_up" and found.todo[0].params["session_id"] == missed.id
    attendance.record_make_up(db, trainee, missed, recorder=trainer, minutes=60,
                              activity="Covered one to one")
    db.commit()
    assert criterion(only(db, cohort, trainee), readiness.CORE_SESSIONS).met


def test_quizzes_passed_fresh_stale_and_at_the_policy_s_mark(db, cohort, trainee, policy,
                                                            module):
    found = criterion(only(db, cohort, trainee), readiness.QUIZZES)
    assert [t.kind for t in found.todo] == ["pass_quiz", "pass_quiz"]
    pass_quiz(db, trainee, module("listening"))
    pass_quiz(db, trainee, module("privacy"), days_ago=400)  # older than 12 months
    found = criterion(only(db, cohort, trainee), readiness.QUIZZES)
    assert [(t.kind, t.params["slug"]) for t in found.todo] == [("retake_stale", "privacy")]
    pass_quiz(db, trainee, module("privacy"), score=60, days_ago=3)
    assert criterion(only(db, cohort, trainee), readiness.QUIZZES).met
    # A policy pass mark above the quiz's own: 60% no longer counts.
    policy.rules = {**RULES, "quizzes": {**RULES["quizzes"], "pass_mark": 70}}
    db.commit()
    found = criterion(only(db, cohort, trainee), readiness.QUIZZES)
    assert [t.params["slug"] for t in found.todo] == ["privacy"]


def test_agreements_need_the_current_version(db, cohort, trainee, policy):
    first = db.scalar(select(Agreement))
    assert criterion(only(db, cohort, trainee), readiness.AGREEMENTS).todo[0].kind == "sign"
    db.add(AgreementSignature(person_id=trainee.id, agreement_id=first.id,
                              typed_name=trainee.name))
    db.commit()
    assert criterion(only(db, cohort, trainee), readiness.AGREEMENTS).met
    first.current = False
    db.add(Agreement(curriculum_id=cohort.curriculum_id, key="confidentiality", number=2,
                     title="Confidentiality agreement", body_html="<p>y</p>",
                     content_hash="b", current=True))
    db.commit()
    found = criterion(only(db, cohort, trainee), readiness.AGREEMENTS)
    assert not found.met and found.todo[0].kind == "sign_new_version"
    assert found.evidence["agreements"][0]["signed_version"] == 1


def test_supervision_sessions_and_hours(db, cohort, trainee, make_person, policy):
    supervisor = make_person("supervisor")
    for minutes in (40, 40):
        record = SupervisionRecord(author_id=supervisor.id, held_on=TODAY, kind="individual",
                                   duration_minutes=minutes, format="phone", topics=[],
                                   notes="", private_note="")
        record.attendees.append(SupervisionAttendee(trainee_id=trainee.id))
        db.add(record)
        db.commit()
    found = criterion(only(db, cohort, trainee), readiness.SUPERVISION)
    assert not found.met
    assert [(t.kind, t.params) for t in found.todo] == [("supervision_minutes",
                                                         {"minutes": 10})]


def test_competencies_use_the_latest_rating(db, cohort, trainee, make_person, policy):
    supervisor = make_person("supervisor")

    def rate(value):
        db.add(CompetencyRating(trainee_id=trainee.id, curriculum_id=cohort.curriculum_id,
                                competency="listening", rating=value, observed_on=TODAY,
                                setting="role_play", evidence="Seen", rated_by_id=supervisor.id))
        db.commit()

    rate("developing")
    assert criterion(only(db, cohort, trainee), readiness.COMPETENCIES).todo[0].params[
        "rating"] == "developing"
    rate("competent")
    assert criterion(only(db, cohort, trainee), readiness.COMPETENCIES).met


def test_ready_when_every_criterion_is_met(db, cohort, trainee, trainer, policy, make_session,
                                           module, make_person, count_queries):
    attend(db, cohort, trainee, make_session, trainer, 100, 100, core=True, status="present")
    pass_quiz(db, trainee, module("listening"))
    pass_quiz(db, trainee, module("privacy"))
    db.add(AgreementSignature(person_id=trainee.id, agreement_id=db.scalar(
        select(Agreement.id)), typed_name=trainee.name))
    supervisor = make_person("supervisor")
    for _ in range(2):
        record = SupervisionRecord(author_id=supervisor.id, held_on=TODAY, kind="individual",
                                   duration_minutes=45, format="phone", topics=[], notes="",
                                   private_note="")
        record.attendees.append(SupervisionAttendee(trainee_id=trainee.id))
        db.add(record)
    db.add(CompetencyRating(trainee_id=trainee.id, curriculum_id=cohort.curriculum_id,
                            competency="listening", rating="competent", observed_on=TODAY,
                            setting="observed_session", evidence="Seen",
                            rated_by_id=supervisor.id))
    db.commit()
    with count_queries() as statements:
        found = only(db, cohort, trainee)
    assert found.ready, [(c.key, c.todo) for c in found.criteria if not c.met]
    # Passes, signatures, supervision and ratings come in one statement (each is a round
    # trip on PostgreSQL, and the dashboard shows readiness).
    evidence = [s for s in statements if "lms_competency_rating" in s]
    assert len(evidence) == 1
    assert all(table in evidence[0] for table in (
        "lms_attempt", "lms_agreement_signature", "lms_supervision_record"))
    snapshot = found.snapshot()
    assert snapshot["ready"] and snapshot["policy_number"] == 1
    assert {c["key"] for c in snapshot["criteria"]} == set(readiness.CRITERIA)


def test_a_cohort_costs_the_same_queries_for_5_and_50(db, cohort, trainee, policy, make_person,
                                                      count_queries, trainer, make_session,
                                                      module):
    def add(n):
        for _ in range(n):
            person = make_person("trainee")
            db.add(Enrolment(cohort_id=cohort.id, person_id=person.id,
                             enrolled_on=TODAY - timedelta(days=30)))
            pass_quiz(db, person, module("listening"))
        db.commit()

    attend(db, cohort, trainee, make_session, trainer, 60, 30)
    add(4)
    readiness.cohort_readiness(db, cohort, today=TODAY)  # content is read once per process
    db.commit()
    with count_queries() as five:
        rows = readiness.cohort_readiness(db, cohort, today=TODAY)
    assert len(rows) == 5
    add(45)
    with count_queries() as fifty:
        rows = readiness.cohort_readiness(db, cohort, today=TODAY)
    assert len(rows) == 50
    assert len(fifty) == len(five)
    # No statement names the trainees one by one: the same statements for 5 and 50 (a list of
    # 200 ids bound in each part of the evidence was a statement of 1,000 parameters).
    assert len([s for s in five if "lms_competency_rating" in s]) == 1
    assert fifty == five


def test_months_before_keeps_within_the_month():
    assert readiness._months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert readiness._months_before(date(2026, 1, 15), 12) == date(2025, 1, 15)


def test_months_before_uses_the_month_s_last_day():
    assert readiness._months_before(date(2026, 12, 31), 1) == date(2026, 11, 30)
    assert readiness._months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
