"""Fixtures and helpers for readiness tests: a hand-made standards policy (replacing the test
content's own), a supervised trainee, and the records that make them ready. Loaded by
``tests/conftest.py`` (``pytest_plugins``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import (
    Agreement,
    AgreementSignature,
    Attempt,
    StandardsPolicy,
    SupervisionAttendee,
    SupervisionRecord,
)
from lms.models._types import utcnow
from lms.services import attendance, supervisors
from lms.services.attendance import Mark

TODAY = utcnow().date()
RULES = {
    "attendance": {"minimum_percent": 80, "core_sessions": True},
    "quizzes": {"modules": ["listening", "privacy"], "pass_mark": None,
                "valid_for_months": 12},
    "agreements": ["confidentiality"],
    "supervision": {"minimum_sessions": 2, "minimum_hours": 1.5, "every_days": 30},
    "check_ins": {"every_days": 7},
    "competencies": [{"key": "listening", "title": "Active listening",
                      "descriptor": "Uses OARS.", "required": "competent"}],
    "recertify_after_months": 24,
}


def no_standards(db, curriculum_id):
    """The test content's own standards file is replaced by each test's hand-made rules."""
    for model in (StandardsPolicy, Agreement):
        for row in db.scalars(select(model).where(model.curriculum_id == curriculum_id)):
            db.delete(row)
    db.commit()


def attend(db, cohort, trainee, make_session, trainer, minutes, attended, core=False,
           status="late"):
    item = make_session(cohort, utcnow() - timedelta(days=2), minutes, core=core)
    attendance.record_register(db, item, [Mark(trainee.id, status,
                                               attended if status == "late" else None)],
                               trainer)
    db.commit()
    return item


def pass_quiz(db, trainee, module, *, score=100.0, passed=True, days_ago=1):
    quiz = module.quiz
    at = utcnow() - timedelta(days=days_ago)
    db.add(Attempt(person_id=trainee.id, quiz_id=quiz.id,
                   quiz_version_id=quiz.current_version_id, question_order=[],
                   started_at=at, submitted_at=at, score=score, passed=passed))
    db.commit()


@pytest.fixture
def supervisor(db, make_person, trainee):
    person = make_person("supervisor", name="Sara Supervisor")
    supervisors.assign(db, trainee, person, on=TODAY - timedelta(days=60))
    db.commit()
    return person


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


@pytest.fixture
def ready(db, cohort, trainee, trainer, policy, make_session, module, supervisor):
    """Everything met but the competency, which ``judge`` rates."""
    attend(db, cohort, trainee, make_session, trainer, 100, 100, core=True, status="present")
    pass_quiz(db, trainee, module("listening"))
    pass_quiz(db, trainee, module("privacy"))
    db.add(AgreementSignature(person_id=trainee.id, agreement_id=db.scalar(
        select(Agreement.id)), typed_name=trainee.name))
    for _ in range(2):
        record = SupervisionRecord(author_id=supervisor.id, held_on=TODAY, kind="individual",
                                   duration_minutes=45, format="phone", topics=[], notes="",
                                   private_note="")
        record.attendees.append(SupervisionAttendee(trainee_id=trainee.id))
        db.add(record)
    db.commit()
