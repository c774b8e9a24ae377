"""Who supervises whom: a trainee has at most one current supervisor, with history.

A span runs from ``starts_on`` up to but not including ``ends_on``; a change ends the current
span and starts the next on the same day, so the old supervisor loses access from that day.
A cohort's default supervisor applies to its trainees who have no supervisor of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lms.models import (
    AuditEvent,
    Cohort,
    CohortStaff,
    Curriculum,
    Enrolment,
    Person,
    SupervisorAssignment,
)
from lms.models._types import utcnow
from lms.models.people import ADMIN, SUPERVISOR, TRAINEE, TRAINER
from lms.services.audit import SUPERVISOR_CHANGE
from lms.services.errors import ServiceError, _l


class SupervisorError(ServiceError):
    pass


def _current_on(on: date):
    return and_(SupervisorAssignment.starts_on <= on,
                or_(SupervisorAssignment.ends_on.is_(None), SupervisorAssignment.ends_on > on))


def current_supervisor_ids(session: Session, trainee_ids: Iterable[int],
                           on: date) -> dict[int, int]:
    """Each trainee's supervisor on ``on`` (trainees without one are left out). One query."""
    ids = list(set(trainee_ids))
    if not ids:
        return {}
    rows = session.execute(select(SupervisorAssignment.trainee_id,
                                  SupervisorAssignment.supervisor_id)
                           .where(SupervisorAssignment.trainee_id.in_(ids), _current_on(on)))
    return dict(rows.all())


def current_supervisors(session: Session, trainee_ids: Iterable[int],
                        on: date) -> dict[int, Person]:
    """Each trainee's current supervisor as a Person (two queries whatever the number)."""
    ids = current_supervisor_ids(session, trainee_ids, on)
    people = {p.id: p for p in session.scalars(
        select(Person).where(Person.id.in_(set(ids.values()))))} if ids else {}
    return {trainee: people[sup] for trainee, sup in ids.items()}


def supervisee_ids(session: Session, supervisor_id: int, on: date) -> list[int]:
    return list(session.scalars(
        select(SupervisorAssignment.trainee_id)
        .where(SupervisorAssignment.supervisor_id == supervisor_id, _current_on(on))))


def supervisees(session: Session, supervisor_id: int, on: date) -> list[Person]:
    """The supervisor's current supervisees, by name."""
    return list(session.scalars(
        select(Person).join(SupervisorAssignment, SupervisorAssignment.trainee_id == Person.id)
        .where(SupervisorAssignment.supervisor_id == supervisor_id, _current_on(on))
        .order_by(Person.name, Person.id)))


def is_current_supervisor(session: Session, supervisor_id: int, trainee_id: int,
                          on: date) -> bool:
    return session.scalar(
        select(SupervisorAssignment.id).where(
            SupervisorAssignment.supervisor_id == supervisor_id,
            SupervisorAssignment.trainee_id == trainee_id, _current_on(on)).limit(1)) is not None


def ever_supervised(session: Session, supervisor_id: int, trainee_id: int) -> bool:
    return session.scalar(
        select(SupervisorAssignment.id).where(
            SupervisorAssignment.supervisor_id == supervisor_id,
            SupervisorAssignment.trainee_id == trainee_id).limit(1)) is not None


def history(session: Session, trainee_id: int) -> list[SupervisorAssignment]:
    """Every span for the trainee, newest first."""
    return list(session.scalars(
        select(SupervisorAssignment).where(SupervisorAssignment.trainee_id == trainee_id)
        .options(selectinload(SupervisorAssignment.supervisor))
        .order_by(SupervisorAssignment.starts_on.desc(), SupervisorAssignment.id.desc())))


def _check_supervisor(trainee: Person | None, supervisor: Person | None) -> None:
    if supervisor is None:
        return
    if not supervisor.has_role(SUPERVISOR):
        raise SupervisorError(_l("%(name)s is not a supervisor.", name=supervisor.name),
                              "supervisor_id")
    if not supervisor.active:
        raise SupervisorError(_l("%(name)s's account is switched off.", name=supervisor.name),
                              "supervisor_id")
    if trainee is not None and trainee.id == supervisor.id:
        raise SupervisorError(_l("Nobody can supervise themselves."), "supervisor_id")


def assign_many(session: Session, pairs: dict[int, int | None], *, on: date,
                by: Person | None = None, cohort_id: int | None = None,
                now: datetime | None = None) -> int:
    """Make ``pairs[trainee_id]`` each trainee's supervisor from ``on`` (None: no supervisor).

    Trainees whose current supervisor is already the one named are left alone. Bulk: four
    statements whatever the number (the last records each change made ``by`` someone in the
    audit log). Returns how many trainees changed supervisor.
    """
    if not pairs:
        return 0
    current = {a.trainee_id: a for a in session.scalars(
        select(SupervisorAssignment).where(SupervisorAssignment.trainee_id.in_(list(pairs)),
                                           SupervisorAssignment.ends_on.is_(None)))}
    changing = [t for t, s in pairs.items()
                if (current[t].supervisor_id if t in current else None) != s]
    if not changing:
        return 0
    ending = [current[t].id for t in changing if t in current]
    new_rows = [{"trainee_id": t, "supervisor_id": pairs[t], "starts_on": on,
                 "cohort_id": cohort_id, "set_by_id": by.id if by else None,
                 "set_at": now or utcnow()} for t in changing if pairs[t] is not None]
    try:
        with session.begin_nested():
            if ending:
                # A span that started today and ends today never applied: end it at its start.
                session.execute(update(SupervisorAssignment)
                                .where(SupervisorAssignment.id.in_(ending))
                                .values(ends_on=on), execution_options={"synchronize_session":
                                                                        "fetch"})
            if new_rows:
                session.execute(insert(SupervisorAssignment), new_rows)
            if by is not None:
                # One audit event per trainee a person moved, in one statement. (A default the
                # system applies at enrolment, by nobody, follows from an audited choice.)
                session.execute(insert(AuditEvent), [
                    {"at": now or utcnow(), "actor_id": by.id, "action": SUPERVISOR_CHANGE,
                     "subject_type": "person", "subject_id": t, "person_id": t,
                     "detail": {"from": current[t].supervisor_id if t in current else None,
                                "to": pairs[t], "cohort_id": cohort_id}} for t in changing])
    except IntegrityError:
        # Another change for the same trainee landed at the same moment (a double-click).
        raise SupervisorError(_l("Someone changed this supervisor at the same moment; reload "
                                 "the page to see who it is now."), "supervisor_id") from None
    session.expire_all()
    return len(changing)


def assign(session: Session, trainee: Person, supervisor: Person | None, *, on: date,
           by: Person | None = None, now: datetime | None = None) -> bool:
    """Set one trainee's own supervisor (not the cohort default). True if it changed."""
    if not trainee.has_role(TRAINEE):
        raise SupervisorError(_l("Only trainees have a supervisor."), "supervisor_id")
    _check_supervisor(trainee, supervisor)
    return assign_many(session, {trainee.id: supervisor.id if supervisor else None},
                       on=on, by=by, now=now) > 0


def set_cohort_supervisor(session: Session, cohort: Cohort, supervisor: Person | None, *,
                          on: date, by: Person | None = None,
                          now: datetime | None = None) -> int:
    """Make ``supervisor`` the cohort's default and give it to the cohort's trainees who have
    no supervisor or the cohort's previous default. Someone's own supervisor is kept.
    The supervisor joins the cohort's staff. Returns how many trainees changed."""
    _check_supervisor(None, supervisor)
    cohort.supervisor_id = supervisor.id if supervisor else None
    if supervisor is not None and not any(
            s.person_id == supervisor.id and s.role == SUPERVISOR for s in cohort.staff):
        cohort.staff.append(CohortStaff(person_id=supervisor.id, role=SUPERVISOR))
    trainee_ids = list(session.scalars(
        select(Enrolment.person_id).where(Enrolment.cohort_id == cohort.id,
                                          Enrolment.withdrawn_on.is_(None))))
    current = {a.trainee_id: a for a in session.scalars(
        select(SupervisorAssignment).where(SupervisorAssignment.trainee_id.in_(trainee_ids),
                                           SupervisorAssignment.ends_on.is_(None)))}
    moving = {t: (supervisor.id if supervisor else None) for t in trainee_ids
              if t not in current or current[t].cohort_id == cohort.id}
    session.flush()
    return assign_many(session, moving, on=on, by=by, cohort_id=cohort.id, now=now)


def default_for_new(session: Session, cohort: Cohort, trainee_ids: Iterable[int],
                    on: date, *, by: Person | None = None) -> int:
    """Give newly enrolled trainees without a supervisor the cohort's default."""
    if cohort.supervisor_id is None:
        return 0
    ids = list(set(trainee_ids))
    have = set(session.scalars(select(SupervisorAssignment.trainee_id).where(
        SupervisorAssignment.trainee_id.in_(ids), SupervisorAssignment.ends_on.is_(None))))
    return assign_many(session, {t: cohort.supervisor_id for t in ids if t not in have},
                       on=on, by=by, cohort_id=cohort.id)


def can_assign(person: Person, cohort: Cohort) -> bool:
    """A trainer of the cohort, or an admin, sets its trainees' supervisors."""
    if person.has_role(ADMIN):
        return True
    return person.has_role(TRAINER) and any(
        s.person_id == person.id and s.role == TRAINER for s in cohort.staff)


@dataclass(frozen=True)
class Frequencies:
    """How often a trainee is due supervision and a self-care check-in, in days."""

    supervision_days: int
    check_in_days: int


def frequencies_from(enrolments: Iterable[Enrolment], curricula: dict[int, Curriculum], *,
                     supervision_default: int, check_in_default: int) -> Frequencies:
    """One trainee's frequencies from enrolments already loaded (cohorts with them) and their
    curricula: the same rule as ``frequencies``, without a query."""
    current = sorted((e for e in enrolments if e.withdrawn_on is None),
                     key=lambda e: (e.enrolled_on, e.id))
    if not current:
        return Frequencies(supervision_default, check_in_default)
    curriculum = curricula.get(current[-1].cohort.curriculum_id)
    return Frequencies(
        (curriculum.supervision_every_days if curriculum else None) or supervision_default,
        (curriculum.check_in_every_days if curriculum else None) or check_in_default)


def frequencies(session: Session, trainee_ids: Iterable[int], *, supervision_default: int,
                check_in_default: int) -> dict[int, Frequencies]:
    """Each trainee's frequencies from the curriculum of their latest current enrolment
    (the config defaults where it sets none, or they have no enrolment). One query."""
    ids = list(set(trainee_ids))
    found: dict[int, Frequencies] = {}
    if ids:
        rows = session.execute(
            select(Enrolment.person_id, Curriculum.supervision_every_days,
                   Curriculum.check_in_every_days)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .join(Curriculum, Curriculum.id == Cohort.curriculum_id)
            .where(Enrolment.person_id.in_(ids), Enrolment.withdrawn_on.is_(None))
            .order_by(Enrolment.enrolled_on, Enrolment.id))
        for person_id, supervision, check_in in rows:  # the latest enrolment wins
            found[person_id] = Frequencies(supervision or supervision_default,
                                           check_in or check_in_default)
    fallback = Frequencies(supervision_default, check_in_default)
    return {t: found.get(t, fallback) for t in ids}


def histories(session: Session, trainee_ids: Iterable[int]
              ) -> dict[int, list[SupervisorAssignment]]:
    """Every trainee's spans, newest first, in two queries."""
    ids = list(set(trainee_ids))
    out: dict[int, list[SupervisorAssignment]] = {t: [] for t in ids}
    if ids:
        for span in session.scalars(
                select(SupervisorAssignment).where(SupervisorAssignment.trainee_id.in_(ids))
                .options(selectinload(SupervisorAssignment.supervisor))
                .order_by(SupervisorAssignment.starts_on.desc(),
                          SupervisorAssignment.id.desc())):
            out[span.trainee_id].append(span)
    return out


def assign_in_cohort(session: Session, cohort: Cohort, chosen: dict[int, int | None], *,
                     on: date, by: Person | None = None) -> int:
    """Set the supervisors a trainer chose for trainees of ``cohort`` (trainee -> supervisor
    id, None for nobody). Every choice is checked before any is made; each is the trainee's
    own (a later cohort default leaves it alone). Returns how many changed."""
    enrolled = set(session.scalars(select(Enrolment.person_id).where(
        Enrolment.cohort_id == cohort.id)))
    wanted = {s for s in chosen.values() if s is not None}
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(wanted)))} \
        if wanted else {}
    problems: dict[str, str] = {}
    for trainee_id, supervisor_id in chosen.items():
        field = f"supervisor-{trainee_id}"
        if trainee_id not in enrolled:
            problems[field] = _l("That person is not in this cohort.")
        elif supervisor_id is not None:
            supervisor = people.get(supervisor_id)
            if supervisor is None or not supervisor.has_role(SUPERVISOR) or \
                    not supervisor.active:
                problems[field] = _l("Choose a supervisor from the list.")
            elif supervisor_id == trainee_id:
                problems[field] = _l("Nobody can supervise themselves.")
    if problems:
        raise SupervisorError(problems=problems)
    current = current_supervisor_ids(session, chosen, on)
    changed = {t: s for t, s in chosen.items() if current.get(t) != s}
    return assign_many(session, changed, on=on, by=by)
