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
from datetime import datetime

from sqlalchemy import insert, select, update
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
    detail = session.scalar(select(AuditEvent.detail).where(
        AuditEvent.action == audit.JOIN, AuditEvent.subject_type == "person",
        AuditEvent.subject_id == row.stand_in_id).order_by(AuditEvent.id))
    ids = (detail or {}).get("cohorts", [])
    return list(session.scalars(select(Cohort).where(Cohort.id.in_(ids))
                                .order_by(Cohort.name, Cohort.id)))


def join(session: Session, token: str, person: Person, now: datetime | None = None) -> Invited:
    """``person`` joins what the stand-in of ``token`` was enrolled in: every row recorded
    against the stand-in moves to them, the link is spent and the stand-in switched off."""
    now = now or utcnow()
    found = invited(session, token, person, now)
    if found is None:
        raise JoinError(_l("This link is not an invitation to join."))
    request, stand_in_id = found.request, found.request.stand_in_id

    def joined_meanwhile() -> Invited | None:
        # A second click that waited for the first: it gets the first one's answer.
        cohorts = already_joined(session, token, person)
        return Invited(request, cohorts) if cohorts is not None else None

    clash = session.scalars(select(Cohort.name).join(Enrolment, Enrolment.cohort_id == Cohort.id)
                            .where(Enrolment.person_id == person.id,
                                   Cohort.id.in_([c.id for c in found.cohorts]))).first()
    if clash is not None:
        if (done := joined_meanwhile()) is not None:
            return done
        raise JoinError(_l("You are already in %(cohort)s. Ask your programme's admin to join "
                           "the two records.", cohort=clash))
    # Spent by a conditional update: a second click finds it used and joins nothing twice.
    spent = session.execute(update(Invitation).where(
        Invitation.token_hash == invitations.digest(token), Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None)).values(used_at=now))
    if spent.rowcount != 1:
        if (done := joined_meanwhile()) is not None:
            return done
        raise invitations.InvitationError(_l("This link has already been used."))
    if session.scalar(select(SupervisorAssignment.id).where(
            SupervisorAssignment.trainee_id == person.id, SupervisorAssignment.ends_on.is_(None))):
        # One current supervisor per person: they keep theirs, and the stand-in's span becomes
        # history (the cohort's staff can change it, as for anyone).
        session.execute(update(SupervisorAssignment).where(
            SupervisorAssignment.trainee_id == stand_in_id,
            SupervisorAssignment.ends_on.is_(None)).values(ends_on=now.date()))
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
    request.joined_at = now
    audit.record(session, person.id, audit.JOIN, "person", stand_in_id, person_id=person.id,
                 detail={"cohorts": [c.id for c in found.cohorts]}, now=now)
    session.flush()
    session.expire_all()  # rows moved under the ORM's feet
    return found
