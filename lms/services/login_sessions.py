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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lms.models import LoginSession, Person
from lms.models._types import utcnow

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
                             user_agent=(user_agent or "")[:200],
                             device_hash=token_hash(device) if device else None))
    session.flush()
    person.login_token = token
    return token


def look_up(session: Session, token: str) -> tuple[LoginSession, Person] | None:
    """A session and its person by the cookie's secret, in one query (live or not)."""
    if not token or len(token) > 100:
        return None
    found = session.execute(select(LoginSession, Person)
                            .join(Person, Person.id == LoginSession.person_id)
                            .where(LoginSession.token_hash == token_hash(token))).first()
    return (found[0], found[1]) if found else None


def why_over(row: LoginSession, person: Person, policy: SessionPolicy,
             now: datetime) -> str | None:
    """Why this session no longer lets its person in (a reason to record), or None."""
    if now - row.created_at >= policy.lifetime:
        return EXPIRED
    if now - row.last_seen_at >= policy.idle:
        return IDLE
    if not person.active:
        return SWITCHED_OFF
    return None


def note(session: Session, row_id: int, now: datetime, ended: str | None = None) -> None:
    """Record that the session was seen at ``now``, or that it ended (``ended``: why). Only
    a live session changes: a lost race just means the next page does it."""
    values = {"ended_at": now, "ended_reason": ended} if ended else {"last_seen_at": now}
    condition = [LoginSession.id == row_id, LoginSession.ended_at.is_(None)]
    if not ended:
        condition.append(LoginSession.last_seen_at < now)
    session.execute(update(LoginSession).where(*condition).values(values)
                    .execution_options(synchronize_session=False))


def resume(session: Session, token: str, policy: SessionPolicy,
           now: datetime | None = None) -> Person | None:
    """The person of a live session, or None (ending it if it has just run out)."""
    now = now or utcnow()
    found = look_up(session, token)
    if found is None or found[0].ended_at is not None:
        return None
    row, person = found
    reason = why_over(row, person, policy, now)
    if reason is not None:
        note(session, row.id, now, ended=reason)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        note(session, row.id, now)
    person.login_token = token
    return person


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


def is_known_place(session: Session, person_id: int, *, address: str, device: str | None,
                   since: timedelta = timedelta(days=90), now: datetime | None = None) -> bool:
    """Has this person logged in from this browser (its device cookie) or this address lately?
    The log-in throttle never turns away a right password from such a place."""
    now = now or utcnow()
    place = LoginSession.address == address
    if device:
        place = place | (LoginSession.device_hash == token_hash(device))
    return session.scalar(select(LoginSession.id).where(
        LoginSession.person_id == person_id, LoginSession.created_at > now - since, place)
        .limit(1)) is not None


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
        ("Safari/", "Safari")) if key in agent), "A browser")
    system = next((name for key, name in (
        ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
        ("Mac OS X", "a Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux")) if key in agent), "")
    return f"{browser} on {system}" if system else browser
