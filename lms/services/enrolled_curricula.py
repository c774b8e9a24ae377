"""The curricula a person is enrolled in (through any cohort, withdrawn or not): what decides
which modules and quizzes a trainee may open.

Nearly every trainee page asks. The log-in session's look-up (``login_sessions.look_up``)
reads them in the same statement as the person and notes them for the rest of the
transaction, so a page asks no query of its own. What was noted is not used while the session
holds an unflushed change to an enrolment or a cohort, and is forgotten when the transaction
ends, when a flush changes an enrolment or a cohort, and when a bulk insert, update or delete
runs through the session: the next question then reads the database.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import String, bindparam, cast, event, func, select
from sqlalchemy.orm import ORMExecuteState, Session

from lms.models import Cohort, Enrolment, Person

_KEY = "lms_enrolled_curricula"

# Built once: nearly every trainee page runs it (building a statement and its cache key cost
# more than running it).
_ENROLLED_CURRICULA = select(Cohort.curriculum_id).join(
    Enrolment, Enrolment.cohort_id == Cohort.id).where(
    Enrolment.person_id == bindparam("person_id"))


def enrolled_curriculum_ids(session: Session, person_id: int) -> set[int]:
    """The ids of the curricula ``person_id`` is enrolled in."""
    known = session.info.get(_KEY)
    if known is not None and known[0] == person_id and not _changes_pending(session):
        return set(known[1])
    # The query flushes first (autoflush), so what the session holds unflushed is counted.
    return set(session.scalars(_ENROLLED_CURRICULA, {"person_id": person_id}))


def _changes_pending(session: Session) -> bool:
    """Whether the session holds an enrolment or cohort added, changed or deleted but not
    flushed yet: what was noted may then be out of date."""
    return any(isinstance(item, (Enrolment, Cohort))
               for item in chain(session.new, session.dirty, session.deleted))


def as_column() -> Any:
    """The same ids as one text column ("3,7", or NULL) correlated to ``Person``, for a
    statement that reads the person anyway; hand its value to ``note``."""
    return (select(func.aggregate_strings(cast(Cohort.curriculum_id, String), ","))
            .join(Enrolment, Enrolment.cohort_id == Cohort.id)
            .where(Enrolment.person_id == Person.id).correlate(Person).scalar_subquery())


def note(session: Session, person_id: int, column_value: str | None) -> None:
    """Keep what ``as_column`` read for ``person_id`` until the transaction ends."""
    ids = frozenset(int(part) for part in (column_value or "").split(",") if part)
    session.info[_KEY] = (person_id, ids)


@event.listens_for(Session, "before_flush")
def _forget_on_change(session: Session, _context: Any, _instances: Any) -> None:
    if _KEY in session.info and _changes_pending(session):
        session.info.pop(_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_bulk_write(state: ORMExecuteState) -> None:
    if _KEY in state.session.info and (state.is_insert or state.is_update or state.is_delete):
        state.session.info.pop(_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, _transaction: Any) -> None:
    session.info.pop(_KEY, None)
