"""People and roles: create, authenticate, change passwords, assign roles."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms.models import ROLES, Cohort, Enrolment, Invitation, Person, PersonRole
from lms.models._types import utcnow
from lms.models.people import ADMIN, TRAINEE
from lms.services import audit, login_sessions, paging, passwords
from lms.services.errors import ServiceError, _l
from lms.services.paging import Paged

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH

log = logging.getLogger(__name__)


class AccountError(ServiceError):
    """A request about an account that cannot be carried out; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


# Pragmatic, not RFC 5322: something@a.domain, no spaces, quotes or angle brackets, and no empty
# part of the domain ("a@b..c").
_EMAIL = re.compile(r"[^@\s<>\"(),;:]+@[\w-]+(\.[\w-]+)+")


def email_problem(email: str) -> str | None:
    """Why ``email`` (normalised) is not an address we accept, or None. The one email rule."""
    if len(email) > 254:
        return _l("'%(email)s…' is longer than an email address can be.", email=email[:40])
    if not _EMAIL.fullmatch(email) or any(ord(c) < 32 or ord(c) == 127 for c in email):
        return _l("'%(email)s' is not an email address.", email=email)
    return None


def password_problem(password: str, *, email: str | None = None,
                     name: str | None = None) -> str | None:
    """Why a new password is refused (NIST SP 800-63B: length after normalising, not a common
    or leaked password, not the person's own email or name), or None. See ``passwords``."""
    return passwords.problem(password, email=email, name=name)


def find_by_email(session: Session, email: str) -> Person | None:
    """The account of ``email`` (never a stand-in, which shares the address but cannot log in)."""
    return session.scalar(select(Person).where(Person.email == normalise_email(email),
                                               Person.stands_in.is_(False)))


def create_person(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None,
    roles: Iterable[str] = (),
    is_demo: bool = False,
) -> Person:
    """Create a person; raises ``AccountError`` for a taken email, a weak password or a bad role."""
    email = normalise_email(email)
    problems: dict[str, str] = {}
    if email_problem(email):
        problems["email"] = _l("Enter a valid email address.")
    elif session.scalar(select(func.count()).select_from(Person).where(
            Person.email == email, Person.stands_in.is_(False))):
        problems["email"] = _l("Someone already uses this email address.")
    if blank_name(name):
        problems["name"] = _l("Enter a name.")
    if problems:
        raise AccountError(problems=problems)
    roles = set(roles)
    unknown = roles - set(ROLES)
    if unknown:
        raise AccountError(_l("Unknown role: %(roles)s.", roles=", ".join(sorted(unknown))),
                           "roles")
    if not roles:
        raise AccountError(_l("Choose at least one role."), "roles")
    person = Person(email=email, name=name.strip(), is_demo=is_demo, active=True)
    if password is not None:
        problem = password_problem(password, email=email, name=name)
        if problem and not is_demo:
            raise AccountError(problem, "password")
        person.password_hash = generate_password_hash(password)
        person.password_changed_at = utcnow()
    person.role_rows = [PersonRole(role=r) for r in sorted(roles)]
    try:
        with session.begin_nested():
            session.add(person)
    except IntegrityError:  # the same address created by another request a moment ago
        if person in session:
            session.expunge(person)
        raise AccountError(_l("Someone already uses this email address."), "email") from None
    return person


def create_trainees(session: Session, people: Sequence[tuple[str, str]]) -> list[Person]:
    """Trainee accounts for ``(name, email)`` pairs already checked (emails free and valid), with
    no password: each person chooses theirs from an invitation. Inserted with executemany (no
    password hashing, no statement per row), so a 2,000-row CSV costs a handful of statements."""
    if not people:
        return []
    now = utcnow()
    emails = [normalise_email(email) for _name, email in people]
    session.execute(insert(Person), [
        {"email": email, "name": name.strip()[:200], "active": True, "is_demo": False,
         "created_at": now, "must_change_password": False}
        for (name, _email), email in zip(people, emails, strict=True)])
    ids: list[int] = []
    for start in range(0, len(emails), 500):  # bounded IN lists
        ids += session.scalars(select(Person.id).where(
            Person.email.in_(emails[start:start + 500]), Person.stands_in.is_(False))).all()
    session.execute(insert(PersonRole), [{"person_id": pid, "role": TRAINEE} for pid in ids])
    created: list[Person] = []
    for start in range(0, len(ids), 500):
        created += session.scalars(select(Person).where(Person.id.in_(ids[start:start + 500]))
                                   .execution_options(populate_existing=True)).all()
    order = {email: n for n, email in enumerate(emails)}
    return sorted(created, key=lambda p: order[p.email])


def set_roles(session: Session, person: Person, roles: Iterable[str]) -> None:
    roles = set(roles)
    unknown = roles - set(ROLES)
    if unknown:
        raise AccountError(_l("Unknown role: %(roles)s.", roles=", ".join(sorted(unknown))),
                           "roles")
    current = {r.role: r for r in person.role_rows}
    for role, row in current.items():
        if role not in roles:
            person.role_rows.remove(row)
    for role in sorted(roles - set(current)):
        person.role_rows.append(PersonRole(role=role))
    session.flush()


def set_password(session: Session, person: Person, password: str,
                 now: datetime | None = None, *, must_change: bool = False) -> None:
    """Set a password. ``must_change`` when someone else chose it: the person must choose their
    own at their next log-in, since nobody but them should know it."""
    problem = password_problem(password, email=person.email, name=person.name)
    if problem:
        raise AccountError(problem, "password")
    person.password_hash = generate_password_hash(password)
    person.must_change_password = must_change
    revoke_links(session, person.id, now)
    person.password_changed_at = now or utcnow()
    # A new password ends every log-in session (a thief's too); the view starts a new one
    # for the browser that changed it.
    login_sessions.end_all(session, person.id, login_sessions.PASSWORD, now=now)
    session.flush()


def revoke_links(session: Session, person_id: int, now: datetime | None = None) -> None:
    """Every unused invitation or reset link of the person stops working."""
    session.execute(update(Invitation).where(
        Invitation.person_id == person_id, Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None)).values(revoked_at=now or utcnow()))


def change_password(session: Session, person: Person, current: str, new: str) -> None:
    if not person.password_hash or not check_password_hash(person.password_hash, current):
        raise AccountError(_l("Your current password is not right."), "current_password")
    if current == new:
        raise AccountError(_l("Choose a password different from the current one."), "new_password")
    try:
        set_password(session, person, new)
    except AccountError as exc:
        raise AccountError(str(exc), "new_password") from None


@dataclass
class LoginResult:
    person: Person | None
    reason: str | None = None


def blank_name(name: str | None) -> bool:
    """Whether a name has nothing visible in it: spaces, zero-width and control characters
    only (ten zero-width spaces are not a name)."""
    return not any(unicodedata.category(ch)[0] not in ("Z", "C") for ch in name or "")


def authenticate(session: Session, email: str, password: str, *, demo_mode: bool) -> LoginResult:
    """Check an email and password. The reason given to the user never says which was wrong."""
    person = find_by_email(session, email)
    if person is None or not person.password_hash:
        # Hash anyway so a missing account takes as long as a wrong password.
        check_password_hash(_DUMMY_HASH, password)
        return LoginResult(None, _l("Email or password not recognised."))
    if not check_password_hash(person.password_hash, password):
        return LoginResult(None, _l("Email or password not recognised."))
    if not person.active:
        # Saying "switched off" would confirm the password to whoever typed it: the person
        # sees the usual message, and the log has the real reason.
        log.info("log-in refused: account %s is switched off", person.id)
        return LoginResult(None, _l("Email or password not recognised."))
    if person.is_demo and not demo_mode:
        return LoginResult(None, _l("Demo accounts work only in demo mode."))
    return LoginResult(person)


_DUMMY_HASH = generate_password_hash("not a real password, only spends time")


def update_person(session: Session, actor: Person, person: Person, *, name: str,
                  roles: Iterable[str], active: bool, new_password: str | None = None,
                  email: str | None = None) -> None:
    """An admin's edit of a person. An admin cannot lock themselves out: they keep the admin
    role and their account stays on. A password an admin sets for someone else must be changed
    at that person's next log-in."""
    if person.stands_in:
        # Its name and address are what a trainer typed, kept as they see it until the owner
        # joins (lms.services.joining); the account itself is edited instead.
        raise AccountError(_l("This is a stand-in for an account that already uses this "
                              "address, waiting for its owner to join. Edit that account "
                              "instead, or withdraw the stand-in from its cohort."))
    roles = set(roles)
    problems: dict[str, str] = {}
    if person.id == actor.id and ADMIN not in roles:
        problems["roles"] = _l("You cannot take the admin role away from yourself.")
    elif not roles:
        problems["roles"] = _l("Choose at least one role.")
    if person.id == actor.id and not active:
        problems["active"] = _l("You cannot switch off your own account.")
    if blank_name(name):
        problems["name"] = _l("Enter a name.")
    if email is not None:
        email = normalise_email(email)
        if email_problem(email):
            problems["email"] = _l("Enter a valid email address.")
        elif email != person.email and session.scalar(
                select(func.count()).select_from(Person).where(
                    Person.email == email, Person.stands_in.is_(False))):
            problems["email"] = _l("Someone already uses this email address.")
    if new_password:
        problem = password_problem(new_password, email=email or person.email, name=name)
        if problem:
            problems["new_password"] = problem
    if problems:
        raise AccountError(problems=problems)
    if TRAINEE in person.roles and TRAINEE not in roles:
        enrolled = session.scalars(select(Cohort.name).join(
            Enrolment, Enrolment.cohort_id == Cohort.id).where(Enrolment.person_id == person.id))
        names = ", ".join(enrolled)
        if names:
            # Their attendance and results belong to the cohort; they stay a trainee there.
            raise AccountError(_l("%(name)s is enrolled in %(cohorts)s and stays a trainee "
                                  "while enrolled.", name=person.name, cohorts=names), "roles")
    person.name = name.strip()[:200]
    if person.active and not active:
        login_sessions.end_all(session, person.id, login_sessions.SWITCHED_OFF)
    person.active = active
    if email is not None and email != person.email:
        person.email = email
        revoke_links(session, person.id)  # links mailed to the old address die with it
    old_roles = set(person.roles)
    set_roles(session, person, roles)
    if roles != old_roles:
        audit.record(session, actor.id, audit.ROLE_CHANGE, "person", person.id, person.id,
                     {"from": sorted(old_roles), "to": sorted(roles)})
    if new_password:
        set_password(session, person, new_password, must_change=person.id != actor.id)
        if person.id != actor.id:  # an admin chose someone's password: a reset (never logged)
            audit.record(session, actor.id, audit.PASSWORD_RESET, "person", person.id,
                         person.id, {"by": "password"})


def people_by_ids(session: Session, ids: Iterable[int] | None) -> list[Person]:
    """The people with these ids, in one query (unknown ids are left out)."""
    wanted = list(ids or [])
    if not wanted:
        return []
    return list(session.scalars(select(Person).where(Person.id.in_(wanted))
                                .order_by(Person.name, Person.id)))


def list_people(session: Session) -> list[Person]:
    return list(session.scalars(select(Person).order_by(Person.name, Person.id)))


@dataclass
class PeoplePage(Paged):
    people: list[Person]
    total: int
    page: int
    per_page: int


def search_people(session: Session, query: str = "", *, page: int = 1,
                  per_page: int = 50) -> PeoplePage:
    """People whose name or email contains ``query`` (any case), a page at a time."""
    condition = []
    text = " ".join(query.split())[:200].lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        condition = [func.lower(Person.name).like(pattern, escape="\\")
                     | Person.email.like(pattern, escape="\\")]
    total = session.scalar(select(func.count()).select_from(Person).where(*condition)) or 0
    page = paging.clamp(page, total, per_page)
    people = list(session.scalars(select(Person).where(*condition)
                                  .order_by(Person.name, Person.id)
                                  .offset(paging.offset(page, per_page)).limit(per_page)))
    return PeoplePage(people, total, page, per_page)
