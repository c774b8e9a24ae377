"""Stand-ins, and joining: how a trainer enrols an address without learning whether it already
has an account.

A trainer may enrol an existing account directly only when it is already a trainee of one of
their cohorts (``cohorts.enrollable_existing``). For any other address, telling them "this
address already has an account" would say that someone is a peer supporter in another
programme. So such an address is enrolled as a *stand-in*: a person row holding the name and
address the trainer typed, with no password, no activity and no link to the account's record.
Every staff page reads it exactly as it reads a brand-new account, and it gets an invitation link
like one.

The stand-in is tied to the account by a ``JoinRequest``. The account's owner logs in and opens
the link; joining is their consent. Only then does everything recorded against the stand-in
(enrolments, attendance, supervision assignments) move to the account, and the cohort's staff
see the person as they are. Until then nothing of the account reaches the cohort's staff.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, case, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.database import Base
from lms.models import (
    AuditEvent,
    Cohort,
    Enrolment,
    Invitation,
    JoinRequest,
    Person,
    PersonRole,
    SupervisorAssignment,
)
from lms.models._types import utcnow
from lms.models.people import TRAINEE
from lms.services import audit, invitations
from lms.services.errors import ServiceError, _l
from lms.services.supervisors import current_supervisor_ids

# Tables whose rows about the stand-in stay with it when its owner joins: the audit log is
# history (it keeps saying who was enrolled, and a "join" event ties the two), links and log-in
# sessions are the stand-in's own, and roles and the request itself are handled by name.
_KEPT_WITH_STAND_IN = frozenset({"lms_person", "lms_person_role", "lms_join_request",
                                 "lms_invitation", "lms_login_session", "lms_audit_event"})


class JoinError(ServiceError):
    """A join that cannot happen: the link is someone else's, or the cohort already has them."""


@dataclass(frozen=True)
class Invited:
    """What the owner of an account is asked to join, for the page that asks them."""

    request: JoinRequest
    cohorts: list[Cohort]


def stand_ins_in_reach(session: Session, emails: Iterable[str],
                       reachable: set[int]) -> dict[str, Person]:
    """Stand-ins for ``emails`` that are already among ``reachable`` people (the actor's own
    trainees): enrolling the address again reuses its stand-in, as it would a new account."""
    wanted = sorted(set(emails))
    found: dict[str, Person] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        for person in session.scalars(
                select(Person).where(Person.email.in_(wanted[start:start + 500]),
                                     Person.stands_in.is_(True), Person.active.is_(True))
                .order_by(Person.id)):
            if person.id in reachable:
                found.setdefault(person.email, person)
    return found


def make_stand_ins(session: Session, cohort: Cohort,
                   wanted: Sequence[tuple[str, str, Person]], *, by: Person | None,
                   now: datetime | None = None) -> list[Person]:
    """One stand-in per ``(typed name, email, existing account)``, in that order, each with a
    join request for ``cohort``. A handful of statements however many rows (no per-row work):
    a stand-in has no password to hash."""
    if not wanted:
        return []
    now = now or utcnow()
    session.execute(insert(Person), [  # one executemany
        {"email": email, "name": name.strip()[:200], "active": True, "is_demo": False,
         "stands_in": True, "created_at": now, "must_change_password": False}
        for name, email, _account in wanted])
    # The new rows are the stand-ins of these addresses without a join request yet (every
    # earlier stand-in got its request in the same transaction). Addresses are distinct here.
    emails = [email for _name, email, _account in wanted]
    by_email: dict[str, int] = {}
    for start in range(0, len(emails), 500):  # bounded IN lists
        by_email.update(session.execute(select(Person.email, Person.id).where(
            Person.email.in_(emails[start:start + 500]), Person.stands_in.is_(True),
            ~select(JoinRequest.id).where(JoinRequest.stand_in_id == Person.id).exists())
        ).all())
    ids = [by_email[email] for email in emails]
    session.execute(insert(PersonRole), [{"person_id": pid, "role": TRAINEE} for pid in ids])
    # The unique (account, cohort) pair makes a second click's stand-in fail here, so the
    # enrolment retries and finds the first.
    session.execute(insert(JoinRequest), [
        {"stand_in_id": pid, "person_id": account.id, "cohort_id": cohort.id,
         "requested_by_id": by.id if by else None, "created_at": now}
        for pid, (_name, _email, account) in zip(ids, wanted, strict=True)])
    made: dict[int, Person] = {}
    for start in range(0, len(ids), 500):
        made.update((p.id, p) for p in session.scalars(
            select(Person).where(Person.id.in_(ids[start:start + 500]))
            .execution_options(populate_existing=True)))
    return [made[pid] for pid in ids]


def invited(session: Session, token: str, person: Person,
            now: datetime | None = None) -> Invited | None:
    """What ``person`` is asked to join by the invitation ``token``, or None when the link is an
    ordinary invitation (a new account's). Raises ``InvitationError`` for a dead link and
    ``JoinError`` when the link asks someone else."""
    invitation = invitations.find(session, token, now)
    request = session.scalar(select(JoinRequest).where(
        JoinRequest.stand_in_id == invitation.person_id))
    if request is None:
        return None
    if request.person_id != person.id:
        raise JoinError(_l("This link is for someone else, and you are logged in as %(name)s.",
                           name=person.name))
    cohorts = list(session.scalars(
        select(Cohort).join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.person_id == request.stand_in_id).order_by(Cohort.name, Cohort.id)))
    return Invited(request, cohorts)


def already_joined(session: Session, token: str, person: Person) -> list[Cohort] | None:
    """The cohorts ``person`` joined with ``token``, if they did (None otherwise): opening the
    spent link again, or a second click, gets the answer the first one got."""
    row = session.execute(
        select(JoinRequest.stand_in_id).join(Invitation,
                                             Invitation.person_id == JoinRequest.stand_in_id)
        .where(Invitation.token_hash == invitations.digest(token[:200]),
               Invitation.used_at.is_not(None), JoinRequest.person_id == person.id,
               JoinRequest.joined_at.is_not(None))).first()
    if row is None:
        return None
    return _joined_cohorts(session, row.stand_in_id)


# Built once: every trainee's dashboard runs it (see readiness's statements).
_PENDING = (select(JoinRequest).join(Person, Person.id == JoinRequest.stand_in_id)
            .where(JoinRequest.person_id == bindparam("person_id"),
                   JoinRequest.joined_at.is_(None), Person.active.is_(True))
            .order_by(JoinRequest.id))


def pending_for(session: Session, person_id: int, *, maybe: bool | None = None
                ) -> list[Invited]:
    """What ``person_id`` has been asked to join and has not yet (stand-ins still on), with the
    cohorts of each: shown on their dashboard, so joining needs no link (a host app's users
    have none). Two queries; none when ``maybe`` is False (the caller knows there is no
    request waiting: ``Person.join_pending``, read with the log-in session)."""
    if maybe is False:
        return []
    requests = list(session.scalars(_PENDING, {"person_id": person_id}))
    if not requests:
        return []
    cohorts: dict[int, list[Cohort]] = {}
    for stand_in_id, cohort in session.execute(
            select(Enrolment.person_id, Cohort).join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(Enrolment.person_id.in_([r.stand_in_id for r in requests]))
            .order_by(Cohort.name, Cohort.id)):
        cohorts.setdefault(stand_in_id, []).append(cohort)
    return [Invited(r, cohorts.get(r.stand_in_id, [])) for r in requests]


def pending_request(session: Session, request_id: int, person: Person) -> Invited | None:
    """One of ``person``'s pending requests, or None (someone else's, joined or unknown)."""
    return next((found for found in pending_for(session, person.id)
                 if found.request.id == request_id), None)


def join(session: Session, token: str, person: Person, *, today: date,
         now: datetime | None = None) -> Invited:
    """``person`` joins with the link ``token``: see ``join_request``."""
    now = now or utcnow()
    found = invited(session, token, person, now)
    if found is None:
        raise JoinError(_l("This link is not an invitation to join."))
    return _join(session, found, person, now, today, token=token)


def join_request(session: Session, request_id: int, person: Person, *, today: date,
                 now: datetime | None = None) -> Invited:
    """``person`` joins what the stand-in of their request ``request_id`` was enrolled in:
    every row recorded against the stand-in moves to them, its links stop working and it is
    switched off. A second click gets the first one's answer."""
    now = now or utcnow()
    found = pending_request(session, request_id, person)
    if found is None:
        done = _joined_request(session, request_id, person)
        if done is not None:
            return done
        raise JoinError(_l("There is nothing to join here."))
    return _join(session, found, person, now, today)


def supervisor_after(session: Session, found: Invited, person: Person,
                     today: date) -> Person | None:
    """Who becomes ``person``'s supervisor by joining: the stand-in's, when they have none of
    their own (and it is not themselves). The join page names them, since a supervisor sees
    their supervisee's check-ins."""
    own = current_supervisor_ids(session, [person.id], today)
    theirs = current_supervisor_ids(session, [found.request.stand_in_id], today)
    chosen = theirs.get(found.request.stand_in_id)
    if person.id in own or chosen is None or chosen == person.id:
        return None
    return session.get(Person, chosen)


def _joined_request(session: Session, request_id: int, person: Person) -> Invited | None:
    request = session.get(JoinRequest, request_id, populate_existing=True)
    if request is None or request.person_id != person.id or request.joined_at is None:
        return None
    return Invited(request, _joined_cohorts(session, request.stand_in_id))


def _joined_cohorts(session: Session, stand_in_id: int) -> list[Cohort]:
    detail = session.scalar(select(AuditEvent.detail).where(
        AuditEvent.action == audit.JOIN, AuditEvent.subject_type == "person",
        AuditEvent.subject_id == stand_in_id).order_by(AuditEvent.id))
    ids = (detail or {}).get("cohorts", [])
    return list(session.scalars(select(Cohort).where(Cohort.id.in_(ids))
                                .order_by(Cohort.name, Cohort.id)))


def _join(session: Session, found: Invited, person: Person, now: datetime, today: date, *,
          token: str | None = None) -> Invited:
    request, stand_in_id = found.request, found.request.stand_in_id

    def joined_meanwhile() -> Invited | None:
        # A second click that waited for the first: it gets the first one's answer.
        return _joined_request(session, request.id, person)

    clash = session.scalars(select(Cohort.name).join(Enrolment, Enrolment.cohort_id == Cohort.id)
                            .where(Enrolment.person_id == person.id,
                                   Cohort.id.in_([c.id for c in found.cohorts]))).first()
    if clash is not None:
        if (done := joined_meanwhile()) is not None:
            return done
        raise JoinError(_l("You are already in %(cohort)s. Ask your programme's admin to join "
                           "the two records.", cohort=clash))
    # Claimed by a conditional update: a second click finds it joined and moves nothing twice.
    claimed = session.execute(update(JoinRequest).where(
        JoinRequest.id == request.id, JoinRequest.joined_at.is_(None)).values(joined_at=now))
    if claimed.rowcount != 1:
        if (done := joined_meanwhile()) is not None:
            return done
        raise JoinError(_l("There is nothing to join here."))
    if token is not None:
        session.execute(update(Invitation).where(
            Invitation.token_hash == invitations.digest(token)).values(used_at=now))
    # One current supervisor per person, never themselves: if they have one, they keep it and
    # the stand-in's span becomes history, ended on the programme's day (or at its own start,
    # if it starts later), as a change of supervisor is.
    ending = [SupervisorAssignment.trainee_id == stand_in_id,
              SupervisorAssignment.ends_on.is_(None)]
    if not session.scalar(select(SupervisorAssignment.id).where(
            SupervisorAssignment.trainee_id == person.id, SupervisorAssignment.ends_on.is_(None))):
        ending.append(SupervisorAssignment.supervisor_id == person.id)
    session.execute(update(SupervisorAssignment).where(*ending).values(
        ends_on=case((SupervisorAssignment.starts_on > today, SupervisorAssignment.starts_on),
                     else_=today)))
    try:
        with session.begin_nested():
            for table in Base.metadata.sorted_tables:
                if table.name in _KEPT_WITH_STAND_IN:
                    continue
                for column in table.columns:
                    if any(fk.column.table.name == "lms_person" for fk in column.foreign_keys):
                        session.execute(update(table).where(column == stand_in_id)
                                        .values({column.name: person.id}))
    except IntegrityError:
        raise JoinError(_l("Some of this cohort's records cannot be joined to yours. Ask your "
                           "programme's admin.")) from None
    if not person.has_role(TRAINEE):
        session.add(PersonRole(person_id=person.id, role=TRAINEE))
    session.execute(update(Person).where(Person.id == stand_in_id).values(active=False))
    session.execute(update(Invitation).where(
        Invitation.person_id == stand_in_id, Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None)).values(revoked_at=now))
    audit.record(session, person.id, audit.JOIN, "person", stand_in_id, person_id=person.id,
                 detail={"cohorts": [c.id for c in found.cohorts]}, now=now)
    session.flush()
    session.expire_all()  # rows moved under the ORM's feet
    return found
