"""Single-use links to choose a password: invitations to new accounts, and password resets.

Nobody but the person ever knows their password. Enrolment and an admin's "new person" create
accounts with no password and an invitation; the person chooses a password on first visit. Only a
SHA-256 of each token is stored, so the database holds no working link. Issuing a new link for
someone revokes their older unused ones, and choosing a password revokes them all.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from lms.models import Invitation, Person, PersonRole
from lms.models._types import utcnow
from lms.models.people import TRAINEE
from lms.services import accounts
from lms.services.errors import ServiceError, _l

INVITE = "invite"
RESET = "reset"
PURPOSES = (INVITE, RESET)


class InvitationError(ServiceError):
    """A link that cannot be used (unknown, used, replaced or expired), or a password refused."""


@dataclass(frozen=True)
class IssuedLink:
    person: Person
    token: str  # shown once, to be handed to the person; never stored
    expires_at: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(session: Session, people: Sequence[Person], *, purpose: str, valid_for: timedelta,
          created_by: Person | None = None, now: datetime | None = None) -> list[IssuedLink]:
    """New links for ``people`` in bulk (one update, one insert), revoking their unused ones."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    now = now or utcnow()
    ids = [p.id for p in people]
    if not ids:
        return []
    session.execute(update(Invitation).where(
        Invitation.person_id.in_(ids), Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None)).values(revoked_at=now))
    links: list[IssuedLink] = []
    rows: list[dict] = []
    for person in people:
        token = secrets.token_urlsafe(32)
        links.append(IssuedLink(person, token, now + valid_for))
        rows.append({"person_id": person.id, "token_hash": digest(token), "purpose": purpose,
                     "created_at": now, "expires_at": now + valid_for,
                     "created_by_id": created_by.id if created_by else None})
    session.execute(insert(Invitation), rows)  # one executemany, however many people
    return links


def find(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """The live invitation for ``token``; an ``InvitationError`` says why it cannot be used."""
    now = now or utcnow()
    if not token or len(token) > 200:
        raise InvitationError(_l("This link is not valid. Check you copied all of it."))
    found = session.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if found is None:
        raise InvitationError(_l("This link is not valid. Check you copied all of it."))
    if found.used_at is not None:
        raise InvitationError(_l("This link has already been used. Log in with the password "
                                 "you chose, or ask for a new link."))
    if found.revoked_at is not None:
        raise InvitationError(_l("This link has been replaced by a newer one. Use the newest "
                                 "link you were given."))
    if found.expires_at <= now:
        raise InvitationError(_l("This link has expired. Ask your trainer or admin for a new "
                                 "one."))
    if not found.person.active:
        raise InvitationError(_l("This account is switched off. Ask your programme's admin."))
    return found


def accept(session: Session, token: str, password: str, now: datetime | None = None) -> Person:
    """Choose a password with a live link. The link is spent by a conditional update, so two
    submissions at once cannot both use it."""
    now = now or utcnow()
    invitation = find(session, token, now)
    # Every check a new account's link gets comes first, so a refused password reads the same
    # whether or not the address already has an account.
    problem = accounts.password_problem(password, email=invitation.person.email,
                                        name=invitation.person.name)
    if problem:
        raise InvitationError(problem, "password")
    if invitation.person.stands_in:
        # The address has an account: its owner joins by logging in (lms.services.joining),
        # and a stand-in never gets a password.
        raise InvitationError(_l("This address already has an account here. Log in with it, "
                                 "then open this link again to join."), "password")
    spent = session.execute(update(Invitation).where(
        Invitation.id == invitation.id, Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None)).values(used_at=now))
    if spent.rowcount != 1:
        raise InvitationError(_l("This link has already been used. Log in with the password "
                                 "you chose, or ask for a new link."))
    person = invitation.person
    accounts.set_password(session, person, password, now=now)
    person.must_change_password = False
    # Any other link for this person dies with this one.
    session.execute(update(Invitation).where(
        Invitation.person_id == person.id, Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None)).values(revoked_at=now))
    session.flush()
    return person


def awaiting_password(session: Session, person_ids: Sequence[int]) -> list[Person]:
    """Those of ``person_ids`` who have never chosen a password (their invitation is pending)."""
    if not person_ids:
        return []
    # Trainees only: a link for a staff account would hand a trainer that account.
    staff = select(PersonRole.person_id).where(PersonRole.role != TRAINEE)
    return list(session.scalars(select(Person).where(
        Person.id.in_(list(person_ids)), Person.password_hash.is_(None),
        Person.active.is_(True), Person.id.not_in(staff)).order_by(Person.name, Person.id)))


def awaiting_in_cohort(session: Session, cohort_id: int) -> list[Person]:
    """The cohort's trainees (not withdrawn) who have not chosen a password yet: the people a
    trainer may make new links for. One query."""
    from lms.models import Enrolment

    enrolled = select(Enrolment.person_id).where(Enrolment.cohort_id == cohort_id,
                                                 Enrolment.withdrawn_on.is_(None))
    return awaiting_password(session, list(session.scalars(enrolled)))


def links_csv(links: Sequence[IssuedLink], url_for_token: Callable[[str], str]) -> str:
    """The links as CSV (name, email, link, valid until) for a trainer to hand out or mail-merge.
    Cells that a spreadsheet would run as a formula are neutralised."""
    from lms.services.cohort_grid import neutralise

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "email", "link", "valid until (UTC)"])
    for link in links:
        writer.writerow([neutralise(link.person.name), neutralise(link.person.email),
                         url_for_token(link.token),
                         link.expires_at.strftime("%Y-%m-%d %H:%M")])
    return out.getvalue()
