"""People and roles: create, authenticate, change passwords, assign roles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms.models import ROLES, Cohort, Enrolment, Person, PersonRole
from lms.models._types import utcnow
from lms.models.people import ADMIN, TRAINEE

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if password.strip() == "":
        return "A password cannot be only spaces."
    return None


def find_by_email(session: Session, email: str) -> Person | None:
    return session.scalar(select(Person).where(Person.email == normalise_email(email)))


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
    if "@" not in email or len(email) > 254:
        raise AccountError("Enter a valid email address.", "email")
    if not name.strip():
        raise AccountError("Enter a name.", "name")
    if session.scalar(select(func.count()).select_from(Person).where(Person.email == email)):
        raise AccountError("Someone already uses this email address.", "email")
    roles = set(roles)
    unknown = roles - set(ROLES)
    if unknown:
        raise AccountError(f"Unknown role: {', '.join(sorted(unknown))}.", "roles")
    if not roles:
        raise AccountError("Choose at least one role.", "roles")
    person = Person(email=email, name=name.strip(), is_demo=is_demo, active=True)
    if password is not None:
        problem = password_problem(password)
        if problem and not is_demo:
            raise AccountError(problem, "password")
        person.password_hash = generate_password_hash(password)
        person.password_changed_at = utcnow()
    person.role_rows = [PersonRole(role=r) for r in sorted(roles)]
    session.add(person)
    session.flush()
    return person


def set_roles(session: Session, person: Person, roles: Iterable[str]) -> None:
    roles = set(roles)
    unknown = roles - set(ROLES)
    if unknown:
        raise AccountError(f"Unknown role: {', '.join(sorted(unknown))}.", "roles")
    current = {r.role: r for r in person.role_rows}
    for role, row in current.items():
        if role not in roles:
            person.role_rows.remove(row)
    for role in sorted(roles - set(current)):
        person.role_rows.append(PersonRole(role=role))
    session.flush()


def set_password(session: Session, person: Person, password: str,
                 now: datetime | None = None) -> None:
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, "password")
    person.password_hash = generate_password_hash(password)
    # Moving this stamp changes the session id (Person.get_id), which ends other sessions.
    person.password_changed_at = now or utcnow()
    session.flush()


def change_password(session: Session, person: Person, current: str, new: str) -> None:
    if not person.password_hash or not check_password_hash(person.password_hash, current):
        raise AccountError("Your current password is not right.", "current_password")
    if current == new:
        raise AccountError("Choose a password different from the current one.", "new_password")
    try:
        set_password(session, person, new)
    except AccountError as exc:
        raise AccountError(str(exc), "new_password") from None


@dataclass
class LoginResult:
    person: Person | None
    reason: str | None = None


def authenticate(session: Session, email: str, password: str, *, demo_mode: bool) -> LoginResult:
    """Check an email and password. The reason given to the user never says which was wrong."""
    person = find_by_email(session, email)
    if person is None or not person.password_hash:
        # Hash anyway so a missing account takes as long as a wrong password.
        check_password_hash(_DUMMY_HASH, password)
        return LoginResult(None, "Email or password not recognised.")
    if not check_password_hash(person.password_hash, password):
        return LoginResult(None, "Email or password not recognised.")
    if not person.active:
        return LoginResult(None, "This account is switched off. Ask your programme's admin.")
    if person.is_demo and not demo_mode:
        return LoginResult(None, "Demo accounts work only in demo mode.")
    return LoginResult(person)


_DUMMY_HASH = generate_password_hash("not a real password, only spends time")


def load_person(session: Session, session_id: str) -> Person | None:
    """Resolve a Flask-Login id ``"<id>:<password stamp>"``; a stale stamp logs the person out."""
    try:
        raw_id, raw_stamp = session_id.split(":", 1)
        person = session.get(Person, int(raw_id))
    except (ValueError, TypeError):
        return None
    if person is None or not person.active or person.get_id() != f"{raw_id}:{raw_stamp}":
        return None
    return person


def update_person(session: Session, actor: Person, person: Person, *, name: str,
                  roles: Iterable[str], active: bool, new_password: str | None = None) -> None:
    """An admin's edit of a person. An admin cannot lock themselves out: they keep the admin
    role and their account stays on."""
    roles = set(roles)
    if person.id == actor.id and ADMIN not in roles:
        raise AccountError("You cannot take the admin role away from yourself.", "roles")
    if person.id == actor.id and not active:
        raise AccountError("You cannot switch off your own account.", "active")
    if not name.strip():
        raise AccountError("Enter a name.", "name")
    if not roles:
        raise AccountError("Choose at least one role.", "roles")
    if TRAINEE in person.roles and TRAINEE not in roles:
        enrolled = session.scalars(select(Cohort.name).join(
            Enrolment, Enrolment.cohort_id == Cohort.id).where(Enrolment.person_id == person.id))
        names = ", ".join(enrolled)
        if names:
            # Their attendance and results belong to the cohort; they stay a trainee there.
            raise AccountError(f"{person.name} is enrolled in {names} and stays a trainee "
                               "while enrolled.", "roles")
    person.name = name.strip()[:200]
    person.active = active
    set_roles(session, person, roles)
    if new_password:
        try:
            set_password(session, person, new_password)
        except AccountError as exc:
            raise AccountError(str(exc), "new_password") from None


def people_by_ids(session: Session, ids: Iterable[int] | None) -> list[Person]:
    """The people with these ids, in one query (unknown ids are left out)."""
    wanted = list(ids or [])
    if not wanted:
        return []
    return list(session.scalars(select(Person).where(Person.id.in_(wanted))
                                .order_by(Person.name, Person.id)))


def list_people(session: Session) -> list[Person]:
    return list(session.scalars(select(Person).order_by(Person.name, Person.id)))
