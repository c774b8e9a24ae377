"""Session feedback: once per trainee, after the session, only for their own sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import Cohort, Enrolment
from lms.models._types import utcnow
from lms.services import feedback
from lms.services.feedback import FeedbackError


def test_rate_once_after_the_session(db, trainee, make_person, make_cohort, make_session):
    now = utcnow()
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    enrolment.enrolled_on = (now - timedelta(days=30)).date()
    cohort = db.get(Cohort, enrolment.cohort_id)
    facilitator = make_person("trainer", name="Fay")
    past = make_session(cohort, now - timedelta(days=1), 60, facilitator_id=facilitator.id)
    future = make_session(cohort, now + timedelta(days=1), 60, facilitator_id=facilitator.id)
    with pytest.raises(FeedbackError, match="once it has ended"):
        feedback.rate(db, trainee.id, future, 5)
    with pytest.raises(FeedbackError, match="1 to 5"):
        feedback.rate(db, trainee.id, past, 6)
    feedback.rate(db, trainee.id, past, 4, "Good role-play")
    db.commit()
    with pytest.raises(FeedbackError, match="already rated"):
        feedback.rate(db, trainee.id, past, 5)
    other = make_person("trainee")
    make_cohort(other)
    with pytest.raises(FeedbackError, match="not enrolled"):
        feedback.rate(db, other.id, past, 5)
    newcomer = make_person("trainee")
    make_cohort(newcomer)
    from tests.factories import EnrolmentFactory

    EnrolmentFactory(cohort_id=cohort.id, person_id=newcomer.id)  # enrolled today
    with pytest.raises(FeedbackError, match="not enrolled for this session"):
        feedback.rate(db, newcomer.id, past, 5)
    assert feedback.per_session(db, cohort.id)[past.id].mean == 4.0
    [(person, aggregate)] = feedback.per_facilitator(db, cohort.id)
    assert person.name == "Fay" and aggregate.count == 1
    assert feedback.comments(db, cohort.id)[past.id][0].comment == "Good role-play"


def test_two_ratings_at_once_keep_the_first(app, db, trainee, make_session):
    now = utcnow()
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    enrolment.enrolled_on = (now - timedelta(days=30)).date()
    cohort = db.get(Cohort, enrolment.cohort_id)
    past = make_session(cohort, now - timedelta(days=1), 60)
    other = app.extensions["lms"].db.session()
    other_past = other.get(type(past), past.id)
    assert feedback.why_not(other, trainee.id, other_past) is None  # both pass the check...
    feedback.rate(db, trainee.id, past, 4)
    db.commit()
    # ...the second insert meets the unique index and is told so, not a 500.
    from sqlalchemy.orm import Session

    assert isinstance(other, Session)
    from lms.models import SessionFeedback

    savepoint = other.begin_nested()
    other.add(SessionFeedback(session_id=past.id, person_id=trainee.id, rating=1, comment=""))
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        savepoint.commit()
    other.rollback()
    with pytest.raises(FeedbackError, match="already rated"):
        feedback.rate(other, trainee.id, other_past, 1)
    other.close()
