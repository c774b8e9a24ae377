"""Cohorts and enrolment (the trainer-facing pages come with the cohorts issue)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import Cohort, Curriculum, Enrolment, Person


class CohortError(ValueError):
    pass


def create_cohort(session: Session, *, name: str, curriculum: Curriculum,
                  starts_on: date | None = None, ends_on: date | None = None) -> Cohort:
    if not name.strip():
        raise CohortError("A cohort needs a name.")
    if starts_on and ends_on and ends_on < starts_on:
        raise CohortError("A cohort cannot end before it starts.")
    cohort = Cohort(name=name.strip(), curriculum_id=curriculum.id, starts_on=starts_on,
                    ends_on=ends_on)
    session.add(cohort)
    session.flush()
    return cohort


def enrol(session: Session, cohort: Cohort, person: Person, on: date) -> Enrolment:
    """Enrol ``person`` (idempotent: an existing enrolment is returned unchanged)."""
    existing = session.scalar(select(Enrolment).where(
        Enrolment.cohort_id == cohort.id, Enrolment.person_id == person.id))
    if existing:
        return existing
    enrolment = Enrolment(cohort_id=cohort.id, person_id=person.id, enrolled_on=on)
    session.add(enrolment)
    session.flush()
    return enrolment


def list_cohorts(session: Session) -> list[Cohort]:
    return list(session.scalars(select(Cohort).order_by(Cohort.name)))


def enrolled_curriculum_ids(session: Session, person_id: int) -> set[int]:
    return set(session.scalars(
        select(Cohort.curriculum_id).join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.person_id == person_id)
    ))
