"""Throttle failed log-ins per account and per address.

Failures are rows in the database, so every process behind a proxy sees the same counts and a
restart forgets nothing. A log-in records its attempt and commits it before the password is
checked, then counts: of many parallel guesses, the one committed n-th sees at least n, so no
more than the limit are ever checked. A right password from a place the account has used
before is let in even when blocked (see ``lms.web.auth``): guessers cannot lock people out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lms.models import LoginFailure
from lms.models._types import utcnow


@dataclass(frozen=True)
class ThrottlePolicy:
    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class ThrottleState:
    blocked: bool
    retry_after: timedelta | None = None


def check(session: Session, email: str, address: str, policy: ThrottlePolicy,
          now: datetime | None = None, *, counted_own: bool = False) -> ThrottleState:
    """Blocked once the failures in the window reach the limit. ``counted_own``: this
    request's own attempt is already recorded, so one more is allowed before the limit."""
    now = now or utcnow()
    allowance = 1 if counted_own else 0
    since = now - policy.window
    email = email.strip().lower()
    for column, value, limit in (
        (LoginFailure.email, email, policy.per_account),
        (LoginFailure.address, address, policy.per_address),
    ):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                column == value, LoginFailure.at > since
            )
        ).one()
        if count >= limit + allowance:
            retry = (oldest + policy.window) - now if oldest else policy.window
            return ThrottleState(True, max(retry, timedelta(seconds=1)))
    return ThrottleState(False)


def record_failure(session: Session, email: str, address: str,
                   now: datetime | None = None, *, device_hash: str | None = None) -> int:
    """Record a failed (or not yet checked) attempt; its id."""
    row = LoginFailure(email=email.strip().lower()[:254], address=address[:64],
                       at=now or utcnow(), device_hash=device_hash)
    session.add(row)
    session.flush()
    return row.id


def clear_account(session: Session, email: str) -> None:
    """A successful log-in clears the account's failures (not the address's)."""
    session.execute(delete(LoginFailure).where(LoginFailure.email == email.strip().lower()))


def device_failures(session: Session, email: str, device_hash: str, policy: ThrottlePolicy,
                    now: datetime | None = None) -> int:
    """Failures for this account from this one browser within the window: a browser the
    account has used gets its own budget while the account is blocked, not an open door."""
    since = (now or utcnow()) - policy.window
    return session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.email == email.strip().lower(), LoginFailure.device_hash == device_hash,
        LoginFailure.at > since)) or 0


def forget_old(session: Session, now: datetime | None = None,
               keep: timedelta = timedelta(days=1)) -> None:
    """Failures long past any window: the table stays small."""
    session.execute(delete(LoginFailure).where(LoginFailure.at < (now or utcnow()) - keep))
