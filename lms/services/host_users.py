"""People of a host app that has its own users (``LMS_HOST_USER``): the host says who is logged
in (a stable id, a name, an email) and, optionally, their lms roles; lms keeps one ``Person`` per
host user, made on their first visit and kept in step with the host on every visit after.

The host is the authority on who someone is. It is not, by default, the authority on lms
accounts made before it: a first visit takes over an existing lms person with the same email
only if that person has never been used on their own (no password: made by an enrolment, so the
trainer's enrolment and the host user meet), or if ``link_by_email`` says the programme is moving
its standalone accounts into the host.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.database import is_unique_violation
from lms.models import Person, PersonRole
from lms.models.people import ROLES
from lms.services import accounts, audit
from lms.services.errors import ServiceError, _l

log = logging.getLogger(__name__)


class HostUserError(ServiceError):
    """The host's user cannot be given an lms person (an email taken by an lms account)."""


@dataclass(frozen=True)
class HostUser:
    id: str
    name: str
    email: str
    roles: frozenset[str] | None  # None: lms's own roles are kept (admins set them in lms)


def _field(user: Any, name: str) -> Any:
    return user.get(name) if isinstance(user, Mapping) else getattr(user, name, None)


def read(user: Any, roles: Iterable[str] | None) -> HostUser:
    """The host's user (any object or mapping with ``id``, ``name`` and ``email``) and the roles
    its roles callable gave. A missing field or an unknown role is the host's mistake: a
    ``ValueError`` naming it, never a guess."""
    user_id = _field(user, "id")
    name = " ".join(str(_field(user, "name") or "").split())
    email = accounts.normalise_email(str(_field(user, "email") or ""))
    if user_id is None or str(user_id).strip() == "":
        raise ValueError("LMS_HOST_USER returned a user without an id")
    if not name:
        raise ValueError(f"LMS_HOST_USER returned user {user_id!r} without a name")
    if accounts.email_problem(email):
        raise ValueError(f"LMS_HOST_USER returned user {user_id!r} without a valid email")
    wanted: frozenset[str] | None = None
    if roles is not None:
        wanted = frozenset(roles)
        unknown = wanted - set(ROLES)
        if unknown:
            raise ValueError(f"LMS_HOST_ROLES gave unknown roles {sorted(unknown)}; lms roles "
                             f"are {list(ROLES)}")
    return HostUser(str(user_id)[:255], name[:200], email, wanted)


def find(session: Session, user: HostUser) -> Person | None:
    """The person of ``user`` if they have visited before (one query, roles with it)."""
    return session.scalar(select(Person).where(Person.host_user_id == user.id))


def in_step(person: Person, user: HostUser) -> bool:
    """Whether ``person`` already says what the host says (then a visit writes nothing)."""
    return person.name == user.name and person.email == user.email and \
        (user.roles is None or person.roles == set(user.roles))


def person_for(session: Session, user: HostUser, *, link_by_email: bool = False) -> Person:
    """The person of ``user``: found, made on a first visit, and brought in step with the host.
    Several first requests at once (a page and its prefetches) make one person."""
    for _attempt in range(2):
        person = find(session, user)
        if person is None:
            try:
                with session.begin_nested():
                    person = _first_visit(session, user, link_by_email)
            except IntegrityError as error:
                if not is_unique_violation(error):
                    raise
                session.expire_all()
                continue  # another request made them a moment ago: read theirs
        _keep_in_step(session, person, user)
        return person
    raise HostUserError(_l("Your training record is being set up. Reload the page."))


def _first_visit(session: Session, user: HostUser, link_by_email: bool) -> Person:
    existing = accounts.find_by_email(session, user.email)
    if existing is not None and existing.host_user_id == user.id:
        return existing  # another of their first requests made it a moment ago
    if existing is not None and existing.host_user_id is None and \
            (link_by_email or existing.password_hash is None):
        existing.host_user_id = user.id
        session.flush()
        return existing
    if existing is not None:
        log.warning("host user %r: lms person %d already uses %s", user.id, existing.id,
                    user.email)
        raise HostUserError(_l("A training account already uses your email address. Ask the "
                               "programme's admin to link it to your account here."))
    person = Person(email=user.email, name=user.name, host_user_id=user.id, active=True)
    session.add(person)
    session.flush()
    return person


def _keep_in_step(session: Session, person: Person, user: HostUser) -> None:
    if person.name != user.name:
        person.name = user.name
    if person.email != user.email:
        taken = accounts.find_by_email(session, user.email)
        if taken is None or taken.id == person.id:
            person.email = user.email
        else:  # the host's new address is another lms person's: keep the old one, say why
            log.warning("host user %r: new email %s belongs to lms person %d; kept %s",
                        user.id, user.email, taken.id, person.email)
    if user.roles is not None and person.roles != set(user.roles):
        before = sorted(person.roles)
        for row in list(person.role_rows):
            if row.role not in user.roles:
                person.role_rows.remove(row)
        for role in sorted(user.roles - person.roles):
            person.role_rows.append(PersonRole(role=role))
        session.flush()
        audit.record(session, None, audit.ROLE_CHANGE, "person", person.id, person.id,
                     {"from": before, "to": sorted(user.roles), "by": "host"})
    session.flush()
