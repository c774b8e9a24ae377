"""Session feedback: trainees rate a session they were enrolled for (on or after the day they
were enrolled and, if they were withdrawn, on or before that day), once, after it ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.models import Enrolment, Person, SessionFeedback, TrainingSession
from lms.models._types import utcnow
from lms.services.agenda import has_happened
from lms.services.attendance import in_enrolment
from lms.services.errors import ServiceError, _l

MAX_COMMENT = 2000


class FeedbackError(ServiceError):
    """Feedback that cannot be recorded; the message says why."""


def why_not(session: Session, person_id: int, training_session: TrainingSession,
            now: datetime | None = None) -> str | None:
    """None if the person may rate the session now, else the reason they may not."""
    now = now or utcnow()
    enrolment = session.scalar(select(Enrolment).where(
        Enrolment.cohort_id == training_session.cohort_id, Enrolment.person_id == person_id))
    if enrolment is None or not in_enrolment(training_session.on_date, enrolment.enrolled_on,
                                             enrolment.withdrawn_on):
        return _l("You were not enrolled for this session.")
    if training_session.is_cancelled:
        return _l("This session was cancelled.")
    if not has_happened(training_session, now):
        return _l("You can rate this session once it has ended.")
    if session.scalar(select(SessionFeedback.id).where(
            SessionFeedback.session_id == training_session.id,
            SessionFeedback.person_id == person_id)):
        return _l("You have already rated this session. Thank you!")
    return None


def rate(session: Session, person_id: int, training_session: TrainingSession, rating: int,
         comment: str = "", now: datetime | None = None) -> SessionFeedback:
    reason = why_not(session, person_id, training_session, now)
    if reason:
        raise FeedbackError(reason)
    if not 1 <= rating <= 5:
        raise FeedbackError(_l("Choose a rating from 1 to 5."), "rating")
    if len(comment) > MAX_COMMENT:
        raise FeedbackError(_l("Keep the comment under %(most)d characters.",
                               most=MAX_COMMENT), "comment")
    feedback = SessionFeedback(session_id=training_session.id, person_id=person_id,
                               rating=rating, comment=comment.strip(), created_at=now or utcnow())
    try:
        with session.begin_nested():  # undone alone on failure: the session carries on
            session.add(feedback)
    except IntegrityError:  # the same trainee, twice at once: the first one counts
        raise FeedbackError(_l("You have already rated this session. Thank you!")) from None
    return feedback


def rateable_session_ids(session: Session, person_id: int, sessions: list[TrainingSession],
                         now: datetime | None = None) -> set[int]:
    """Which of ``sessions`` the person may rate now (one query for enrolments and ratings)."""
    now = now or utcnow()
    enrolled = {cohort_id: (on, withdrawn_on) for cohort_id, on, withdrawn_on in session.execute(
        select(Enrolment.cohort_id, Enrolment.enrolled_on, Enrolment.withdrawn_on).where(
            Enrolment.person_id == person_id))}
    rated = rated_session_ids(session, person_id)
    return {s.id for s in sessions
            if s.cohort_id in enrolled and in_enrolment(s.on_date, *enrolled[s.cohort_id])
            and not s.is_cancelled and has_happened(s, now) and s.id not in rated}


def rated_session_ids(session: Session, person_id: int) -> set[int]:
    return set(session.scalars(select(SessionFeedback.session_id).where(
        SessionFeedback.person_id == person_id)))


@dataclass
class Aggregate:
    count: int
    mean: float | None


def per_session(session: Session, cohort_id: int) -> dict[int, Aggregate]:
    rows = session.execute(
        select(SessionFeedback.session_id, func.count(), func.avg(SessionFeedback.rating))
        .join(TrainingSession, TrainingSession.id == SessionFeedback.session_id)
        .where(TrainingSession.cohort_id == cohort_id)
        .group_by(SessionFeedback.session_id)).all()
    return {sid: Aggregate(n, float(mean)) for sid, n, mean in rows}


def per_facilitator(session: Session,
                    cohort_id: int | None = None) -> list[tuple[Person, Aggregate]]:
    query = (select(Person, func.count(SessionFeedback.id), func.avg(SessionFeedback.rating))
             .join(TrainingSession, TrainingSession.facilitator_id == Person.id)
             .join(SessionFeedback, SessionFeedback.session_id == TrainingSession.id)
             .group_by(Person.id).order_by(Person.name))
    if cohort_id is not None:
        query = query.where(TrainingSession.cohort_id == cohort_id)
    return [(person, Aggregate(n, float(mean))) for person, n, mean in session.execute(query)]


def comments(session: Session, cohort_id: int) -> dict[int, list[SessionFeedback]]:
    """Comments per session, without names: trainees speak more freely that way."""
    out: dict[int, list[SessionFeedback]] = {}
    for item in session.scalars(
            select(SessionFeedback).join(TrainingSession,
                                         TrainingSession.id == SessionFeedback.session_id)
            .where(TrainingSession.cohort_id == cohort_id, SessionFeedback.comment != "")
            .order_by(SessionFeedback.created_at)):
        out.setdefault(item.session_id, []).append(item)
    return out
