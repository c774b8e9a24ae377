"""People, their roles, and failed log-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
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

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
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
    # Secret part of the person's calendar feed URL (calendar apps cannot log in).
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)

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

    def get_id(self) -> str:
        # The password-change time is part of the id so changing a password ends other sessions.
        stamp = (int(self.password_changed_at.timestamp() * 1_000_000)
                 if self.password_changed_at else 0)
        return f"{self.id}:{stamp}"

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.email}>"


class PersonRole(Base):
    __tablename__ = "lms_person_role"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))

    person: Mapped[Person] = relationship(back_populates="role_rows")


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
