"""Withdrawing a trainee from a cohort, and undoing a withdrawal made by mistake.

A withdrawal keeps every record (marks, attempts, make-ups). It only dates the end of the
enrolment: attendance stops counting after ``withdrawn_on``, the trainee leaves the registers of
later sessions, and the grid shows them as withdrawn, never as behind (see ``attendance`` and
``cohort_grid``). The date is a day in the cohort's zone, from the enrolment day up to today
there: a withdrawal records what has happened, so it is never planned ahead.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.models import Cohort, Enrolment, Person
from lms.models._types import utcnow
from lms.services.cohorts import can_manage
from lms.services.errors import ServiceError, _l
from lms.services.time_zones import local_today

MAX_REASON = 1000

log = logging.getLogger(__name__)


class WithdrawalError(ServiceError):
    """A withdrawal (or reinstatement) that cannot be recorded; ``field`` names the form field."""


def enrolment_in(session: Session, cohort: Cohort, person_id: int) -> Enrolment | None:
    """The person's enrolment in the cohort, with the person and who withdrew them loaded."""
    return session.scalar(select(Enrolment).where(
        Enrolment.cohort_id == cohort.id, Enrolment.person_id == person_id)
        .options(selectinload(Enrolment.person), selectinload(Enrolment.cohort)))


def withdrawn_by(session: Session, enrolment: Enrolment) -> Person | None:
    return session.get(Person, enrolment.withdrawn_by_id) if enrolment.withdrawn_by_id else None


def withdraw(session: Session, enrolment: Enrolment, on: date | None, reason: str,
             by: Person, now: datetime | None = None) -> Enrolment:
    """Withdraw the trainee from the cohort on the day ``on`` (the last day they belong to it).

    Refuses, naming the field: no reason, a date before the enrolment or after today in the
    cohort's zone, someone who does not manage the cohort, or a trainee already withdrawn.
    """
    now = now or utcnow()
    cohort = enrolment.cohort
    if not can_manage(by, cohort):
        raise WithdrawalError(_l("Only a trainer of this cohort or an admin can withdraw a "
                                 "trainee."))
    if enrolment.is_withdrawn:
        raise WithdrawalError(_l("%(name)s was already withdrawn on %(day)s.",
                                 name=enrolment.person.name,
                                 day=enrolment.withdrawn_on.isoformat()))
    problems: dict[str, str] = {}
    today = local_today(cohort.timezone, now)
    if on is None:
        problems["withdrawn_on"] = _l("Give the date they left the cohort.")
    elif on < min(enrolment.enrolled_on, today):
        # Before they started (or, for someone not started yet, before today): a mistake.
        first = min(enrolment.enrolled_on, today)
        problems["withdrawn_on"] = (
            _l("They were enrolled from %(start)s: choose %(first)s or a later day.",
               start=enrolment.enrolled_on.isoformat(), first=first.isoformat())
            if first == enrolment.enrolled_on else
            _l("They have not started yet: choose today (%(today)s).", today=today.isoformat()))
    elif on > today:
        problems["withdrawn_on"] = _l(
            "Choose today (%(today)s in %(zone)s) or an earlier day: a withdrawal records what "
            "has happened.", today=today.isoformat(), zone=cohort.timezone)
    text = (reason or "").strip()
    if not text:
        problems["reason"] = _l("Say why they are leaving the cohort.")
    elif len(text) > MAX_REASON:
        problems["reason"] = _l("Keep the reason under %(most)s characters.",
                                    most=format(MAX_REASON, ","))
    if problems:
        raise WithdrawalError(problems=problems)
    enrolment.withdrawn_on = on
    enrolment.withdrawn_reason = text
    enrolment.withdrawn_by_id = by.id
    enrolment.withdrawn_at = now
    session.flush()
    return enrolment


def reinstate(session: Session, enrolment: Enrolment, by: Person,
              now: datetime | None = None) -> Enrolment:
    """Undo a withdrawal (one made by mistake): later sessions count for them again.

    The enrolment holds only the current withdrawal, so the one undone is written to the log
    (who, when and the date; not the free-text reason) rather than kept in the database.
    """
    if not can_manage(by, enrolment.cohort):
        raise WithdrawalError(_l("Only a trainer of this cohort or an admin can reinstate a "
                                 "trainee."))
    if not enrolment.is_withdrawn:
        raise WithdrawalError(_l("%(name)s is not withdrawn.", name=enrolment.person.name))
    # Ids and dates only: the reason is free text about a person and stays out of logs.
    log.info("Enrolment %s reinstated by person %s at %s; it was withdrawn on %s by person %s",
             enrolment.id, by.id, (now or utcnow()).isoformat(), enrolment.withdrawn_on,
             enrolment.withdrawn_by_id)
    enrolment.withdrawn_on = None
    enrolment.withdrawn_reason = None
    enrolment.withdrawn_by_id = None
    enrolment.withdrawn_at = None
    session.flush()
    return enrolment
