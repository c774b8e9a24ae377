"""Log-in sessions kept on the server: started at log-in, ended by log-out, by a password
change, by the account being switched off, by "log out everywhere", after an idle time and
after an absolute lifetime.

The browser's cookie holds a random secret; the database holds its SHA-256, so neither a copy
of the database nor of an old cookie opens a session that has ended.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, exists, func, select, update
from sqlalchemy.orm import Session, aliased, joinedload

from lms.models import CheckIn, Cohort, Enrolment, JoinRequest, LoginSession, LtiUser, Person
from lms.models._types import utcnow
from lms.services import content_cache, enrolled_curricula
from lms.services.errors import _l

LOGOUT = "logout"
PASSWORD = "password"  # noqa: S105 (a reason's name)
SWITCHED_OFF = "switched_off"
EVERYWHERE = "everywhere"
IDLE = "idle"
EXPIRED = "expired"
ENDED_BY_OTHER = "ended"  # one session ended from another ("end this session")

# last_seen_at is written at most this often: not a write on every page view.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=2)
    lifetime: timedelta = timedelta(hours=24)


def _printable(text: str) -> str:
    """A header as text: no control characters (PostgreSQL refuses NUL outright)."""
    return "".join(char if char.isprintable() else " " for char in text)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, person: Person, *, address: str = "", user_agent: str = "",
          device: str | None = None, now: datetime | None = None) -> str:
    """A new log-in session for ``person``; returns the secret for the cookie (and sets it on
    ``person.login_token``)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=token_hash(token), person_id=person.id, created_at=now,
                             last_seen_at=now, address=(address or "")[:64],
                             user_agent=_printable(user_agent or "")[:200],
                             device_hash=token_hash(device) if device else None))
    session.flush()
    person.login_token = token
    return token


def _look_up_statement():
    # The person's roles, their cohort's time zone, the content stamp and the curricula they
    # are enrolled in come in the same query: every page needs the roles and content, every
    # trainee page shows times, and the module and quiz pages check the curricula.
    zone = (select(Cohort.timezone).join(Enrolment, Enrolment.cohort_id == Cohort.id)
            .where(Enrolment.person_id == Person.id)
            .order_by(Enrolment.enrolled_on.desc(), Enrolment.id.desc()).limit(1)
            .correlate(Person).scalar_subquery())
    # Whether a quiz's score goes back to an LTI platform: asked on every submission, and
    # an indexed EXISTS here costs less than a statement of its own there.
    by_lti = exists().where(LtiUser.person_id == Person.id).correlate(Person)
    # The two things a trainee's dashboard asks besides their training: when they last
    # checked in (indexed by trainee and time) and whether they are asked to join a cohort
    # (rare: the dashboard then reads the requests). Here they cost an index probe each;
    # on their own, a statement each on every dashboard.
    last_check_in = (select(func.max(CheckIn.at)).where(CheckIn.trainee_id == Person.id)
                     .correlate(Person).scalar_subquery())
    # The same requests as joining._PENDING: not joined yet, the stand-in still switched on.
    stand_in = aliased(Person)
    join_pending = (exists().where(JoinRequest.person_id == Person.id,
                                   JoinRequest.joined_at.is_(None),
                                   stand_in.id == JoinRequest.stand_in_id,
                                   stand_in.active.is_(True))
                    .correlate(Person))
    return (select(LoginSession, Person, zone, content_cache.stamp_query(), by_lti,
                   last_check_in, join_pending, enrolled_curricula.as_column())
            .join(Person, Person.id == LoginSession.person_id)
            .where(LoginSession.token_hash == bindparam("token_hash"))
            .options(joinedload(Person.role_rows))
            .execution_options(populate_existing=True))


# Built once: every request runs it.
_LOOK_UP = _look_up_statement()


def look_up(session: Session, token: str) -> tuple[LoginSession, Person] | None:
    """A session and its person by the cookie's secret, in one query (live or not)."""
    if not token or len(token) > 100:
        return None
    found = session.execute(_LOOK_UP, {"token_hash": token_hash(token)}).unique().first()
    if not found:
        return None
    found[1].cohort_zone, found[1].cohort_zone_known = found[2], True
    found[1].came_by_lti = bool(found[4])
    found[1].last_check_in_at, found[1].last_check_in_known = found[5], True
    found[1].join_pending = bool(found[6])
    content_cache.noted(session, found[3])  # the page's content then needs no query of its own
    enrolled_curricula.note(session, found[1].id, found[7])  # nor which modules they may open
    return found[0], found[1]


@dataclass(frozen=True)
class Verdict:
    """What a page view finds: the person (None: nobody is logged in), and what to record:
    the session's end (``ended``: why) or that it was seen (``touch``)."""

    person: Person | None
    row_id: int | None = None
    ended: str | None = None
    touch: bool = False


def examine(session: Session, token: str, policy: SessionPolicy,
            now: datetime | None = None) -> Verdict:
    """Whether ``token`` still lets its person in, without writing anything."""
    now = now or utcnow()
    found = look_up(session, token)
    if found is None or found[0].ended_at is not None:
        return Verdict(None)
    row, person = found
    if now - row.created_at >= policy.lifetime:
        return Verdict(None, row.id, ended=EXPIRED)
    if now - row.last_seen_at >= policy.idle:
        return Verdict(None, row.id, ended=IDLE)
    if not person.active:
        return Verdict(None, row.id, ended=SWITCHED_OFF)
    person.login_token = token
    return Verdict(person, row.id, touch=now - row.last_seen_at >= TOUCH_EVERY)


def note(session: Session, verdict: Verdict, now: datetime | None = None) -> None:
    """Record what ``examine`` found (an end, or "seen now"). Only a live session changes: a
    lost race just means the next page does it."""
    now = now or utcnow()
    if verdict.ended:
        _end_where(session, verdict.ended, now, LoginSession.id == verdict.row_id)
    elif verdict.touch:
        session.execute(update(LoginSession).where(
            LoginSession.id == verdict.row_id, LoginSession.ended_at.is_(None),
            LoginSession.last_seen_at < now).values(last_seen_at=now)
            .execution_options(synchronize_session=False))


def resume(session: Session, token: str, policy: SessionPolicy,
           now: datetime | None = None) -> Person | None:
    """``examine`` and ``note`` in one session: the person of a live session, or None."""
    verdict = examine(session, token, policy, now)
    note(session, verdict, now)
    return verdict.person


def _end_where(session: Session, reason: str, now: datetime, *conditions) -> int:
    result = session.execute(
        update(LoginSession).where(LoginSession.ended_at.is_(None), *conditions)
        .values(ended_at=now, ended_reason=reason)
        .execution_options(synchronize_session=False))
    return result.rowcount


def end(session: Session, token: str, reason: str = LOGOUT, now: datetime | None = None) -> None:
    _end_where(session, reason, now or utcnow(), LoginSession.token_hash == token_hash(token))


def end_all(session: Session, person_id: int, reason: str, *, keep_token: str | None = None,
            now: datetime | None = None) -> int:
    """End every live session of a person (but ``keep_token``'s); how many were ended."""
    conditions = [LoginSession.person_id == person_id]
    if keep_token:
        conditions.append(LoginSession.token_hash != token_hash(keep_token))
    return _end_where(session, reason, now or utcnow(), *conditions)


def end_one(session: Session, person_id: int, session_id: int,
            now: datetime | None = None) -> bool:
    """End one of the person's own sessions (from the list of their sessions)."""
    return _end_where(session, ENDED_BY_OTHER, now or utcnow(),
                      LoginSession.person_id == person_id, LoginSession.id == session_id) == 1


def live(session: Session, person_id: int, policy: SessionPolicy,
         now: datetime | None = None) -> list[LoginSession]:
    """The person's sessions that would still let them in, newest first."""
    now = now or utcnow()
    return list(session.scalars(select(LoginSession).where(
        LoginSession.person_id == person_id, LoginSession.ended_at.is_(None),
        LoginSession.created_at > now - policy.lifetime,
        LoginSession.last_seen_at > now - policy.idle)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())))


def is_known_device(session: Session, person_id: int, device: str | None, *,
                    since: timedelta = timedelta(days=90), now: datetime | None = None) -> bool:
    """Has this person logged in from this browser (its device cookie) lately? Only the
    cookie counts, never the address: a café's or a proxy's address is shared by strangers."""
    if not device:
        return False
    now = now or utcnow()
    return session.scalar(select(LoginSession.id).where(
        LoginSession.person_id == person_id, LoginSession.created_at > now - since,
        LoginSession.device_hash == token_hash(device)).limit(1)) is not None


def keep_form(session: Session, token: str, path: str, fields: list[tuple[str, str]],
              now: datetime | None = None) -> bool:
    """Keep a form sent after ``token``'s session ran out (idle or too old), on that
    session's row. Not after a log-out, a new password or "log out everywhere": whoever holds
    such a cookie may not be its owner."""
    found = look_up(session, token)
    if found is None or found[0].ended_reason not in (IDLE, EXPIRED):
        return False
    found[0].kept_form = {"path": path, "fields": [list(pair) for pair in fields],
                          "at": (now or utcnow()).isoformat()}
    session.flush()
    return True


def kept_form_for(session: Session, token: str, person_id: int) -> int | None:
    """The id of ``token``'s session if it holds a kept form and was ``person_id``'s."""
    found = look_up(session, token)
    if found is None or found[0].person_id != person_id or not found[0].kept_form:
        return None
    return found[0].id


def take_kept_form(session: Session, row_id: int, person_id: int) -> dict | None:
    """The kept form of session ``row_id`` if it was ``person_id``'s, removed as it is taken."""
    row = session.get(LoginSession, row_id)
    if row is None or row.person_id != person_id or not row.kept_form:
        return None
    kept, row.kept_form = row.kept_form, None
    session.flush()
    return kept


def forget_old(session: Session, now: datetime | None = None,
               keep: timedelta = timedelta(days=90)) -> None:
    """Sessions (and any form they kept) older than ``keep``: no longer a known device."""
    session.execute(delete(LoginSession).where(LoginSession.created_at < (now or utcnow()) - keep))


def person_of(session: Session, hashed: str) -> int | None:
    """Whose session (live or ended) has this token hash."""
    return session.scalar(select(LoginSession.person_id).where(
        LoginSession.token_hash == hashed))


def describe_browser(user_agent: str) -> str:
    """A rough, human name for a browser ("Chrome on Android") for the list of sessions."""
    agent = user_agent or ""
    browser = next((name for key, name in (
        ("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"),
        ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"),
        ("Safari/", "Safari")) if key in agent), str(_l("A browser")))
    system = next((name for key, name in (
        ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
        ("Mac OS X", str(_l("a Mac"))), ("CrOS", "ChromeOS"), ("Linux", "Linux"))
        if key in agent), "")
    return str(_l("%(browser)s on %(system)s", browser=browser, system=system)) if system \
        else browser
