"""People, their roles, their log-in sessions, and failed log-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow

TRAINEE = "trainee"
TRAINER = "trainer"
SUPERVISOR = "supervisor"
ADMIN = "admin"
ROLES: tuple[str, ...] = (TRAINEE, TRAINER, SUPERVISOR, ADMIN)


class Person(Base):
    __tablename__ = "lms_person"
    # One account per address; stand-ins (below) share the address of the account they stand in
    # for, so they are left out of the rule.
    __table_args__ = (Index("uq_lms_person_email", "email", unique=True,
                            sqlite_where=text("stands_in = 0"),
                            postgresql_where=text("NOT stands_in")),
                      # Look-ups by address (log-in, enrolment) filter on stands_in in ways the
                      # partial index is not matched to: a plain index serves them all.
                      Index("ix_lms_person_email", "email"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Demo people log in only while the app runs in demo mode.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an admin chooses someone's password: they must choose their own at next log-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default="0")
    # A stand-in is made when a trainer enrols an address that already has an account they may
    # not see: it holds the name the trainer typed and nothing else, so staff see what they
    # would see for a new address, until the account's owner logs in and joins
    # (lms.services.joining). It can never log in.
    stands_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # In a host app with its own users (LMS_HOST_USER): that user's stable id, so name and
    # email can change in the host without losing the lms record (lms.services.host_users).
    host_user_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Secret part of the person's calendar feed URL (calendar apps cannot log in).
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The interface language the person chose (lms.web.language); None follows the browser.
    locale: Mapped[str | None] = mapped_column(String(16))

    role_rows: Mapped[list[PersonRole]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    # Flask-Login protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    # Set on the person loaded for a request: the secret of the log-in session it came in by.
    login_token = None  # a plain attribute (str | None), not a column
    # The time zone of the cohort of their latest enrolment, read with the log-in session
    # (lms.services.login_sessions.look_up); a plain attribute, not a column.
    cohort_zone = None
    cohort_zone_known = False
    # Whether they ever came in from an LMS platform by LTI (a quiz's score then goes back to
    # it), read with the log-in session; None: not read (ask the database).
    came_by_lti = None  # bool | None
    # Their latest self-care check-in (an instant, None if never) and whether a cohort's staff
    # asked them to join (None: not read), read with the log-in session for the dashboard.
    last_check_in_at = None
    last_check_in_known = False
    join_pending = None  # bool | None

    def get_id(self) -> str:
        # Flask-Login keeps this in the signed cookie: the log-in session's secret, never the
        # person's id, so ending the session on the server ends the cookie too.
        if not self.login_token:
            raise RuntimeError("Start a log-in session (lms.services.login_sessions) first.")
        return self.login_token

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.email}>"


class PersonRole(Base):
    __tablename__ = "lms_person_role"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))

    person: Mapped[Person] = relationship(back_populates="role_rows")


class LoginSession(Base):
    """One log-in, from log-in to log-out (or an idle time, a lifetime, a password change, the
    account being switched off, or "log out everywhere"). The cookie holds a random secret;
    only its hash is stored, so a copy of the database opens no session."""

    __tablename__ = "lms_login_session"
    __table_args__ = (Index("ix_lms_login_session_person_ended", "person_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64), default="")
    # A hash of the browser's long-lived device cookie: "a place this account has used".
    device_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    # A form sent after this session ended (path and fields), offered back to the same person
    # at their next log-in; on the server, never in the readable cookie.
    kept_form: Mapped[dict | None] = mapped_column(JSON)

    person: Mapped[Person] = relationship()


class LoginFailure(Base):
    """One failed log-in; counted per account and per address inside a sliding window."""

    __tablename__ = "lms_login_failure"
    __table_args__ = (
        Index("ix_lms_login_failure_email_at", "email", "at"),
        Index("ix_lms_login_failure_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The browser's device cookie (hashed), if it sent one: a known browser has a budget of
    # its own while the account is blocked.
    device_hash: Mapped[str | None] = mapped_column(String(64))


class Invitation(Base):
    """A single-use link to choose a password: an invitation to a new account, or a reset.

    Only a hash of the token is stored, so a database reader cannot use a live link.
    """

    __tablename__ = "lms_invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                           index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))  # invite | reset
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Replaced by a newer link (or by the person choosing a password) before use.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                                 ondelete="SET NULL"))

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
