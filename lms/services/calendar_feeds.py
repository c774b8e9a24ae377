"""Calendar feeds a phone's calendar app can subscribe to.

Calendar apps fetch a URL on their own and cannot log in, so each feed URL carries a long random
token instead. Whoever holds the URL sees the sessions (dates, titles, venues: no results, no
attendance); the owner can replace the token at any time, which kills the old URL.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import Cohort, Person, TrainingSession
from lms.models.people import TRAINEE
from lms.services import agenda, cohorts

TOKEN_BYTES = 24  # 32 URL-safe characters


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def person_token(session: Session, person: Person, *, renew: bool = False) -> str:
    if renew or not person.calendar_token:
        person.calendar_token = _new_token()
        session.flush()
    return person.calendar_token


def cohort_token(session: Session, cohort: Cohort, *, renew: bool = False) -> str:
    if renew or not cohort.calendar_token:
        cohort.calendar_token = _new_token()
        session.flush()
    return cohort.calendar_token


def feed(session: Session, token: str) -> tuple[str, list[TrainingSession]] | None:
    """The calendar name and sessions behind a token, or None (unknown, or no longer allowed)."""
    if not token or len(token) > 64:
        return None
    person = session.scalar(select(Person).where(Person.calendar_token == token))
    if person is not None:
        if not person.active or not person.has_role(TRAINEE):
            return None
        agendas = agenda.enrolment_agendas(session, cohorts.enrolments_of(session, person.id))
        return "My training", [s for _cohort, items in agendas for s in items]
    cohort = session.scalar(select(Cohort).where(Cohort.calendar_token == token))
    if cohort is not None:
        return cohort.name, agenda.agenda(session, cohort.id)
    return None

