"""LTI 1.3: the platforms (Moodle, Canvas, ...) that may launch lms, and what a launch leaves.

The rules live in ``lms.services.lti``; docs/lti.md says how a platform is set up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow
from lms.models.cohorts import Cohort
from lms.models.people import Person


class LtiPlatform(Base):
    """A platform registered by an admin: who it is (issuer and the client id it gave lms),
    which deployments may launch, and where its log-in, token and key-set endpoints are."""

    __tablename__ = "lms_lti_platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    deployment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    key_set_url: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Removing a platform removes every link to it; the people and cohorts stay.
    contexts: Mapped[list[LtiContext]] = relationship(back_populates="platform",
                                                      cascade="all, delete-orphan")
    users: Mapped[list[LtiUser]] = relationship(back_populates="platform",
                                                cascade="all, delete-orphan")


class LtiToolKey(Base):
    """lms's own RSA key pair: it signs the client assertion for grade passback, and its
    public half is published at /lti/jwks.json. Every key stays published; the oldest signs,
    so two workers making one at once still agree."""

    __tablename__ = "lms_lti_tool_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiLaunchState(Base):
    """An OIDC log-in in progress: the state lms sent, the nonce the id_token must carry and
    the page asked for. Kept on the server (a cross-site POST brings no Lax cookie) and spent
    by the launch that uses it, once."""

    __tablename__ = "lms_lti_launch_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lms_lti_platform.id",
                                                        ondelete="CASCADE"), index=True)
    target_link_uri: Mapped[str] = mapped_column(String(1000))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LtiNonce(Base):
    """A nonce seen in a launch, until its token would have expired: the unique rule refuses
    a replayed id_token even when several workers receive it at once."""

    __tablename__ = "lms_lti_nonce"
    __table_args__ = (UniqueConstraint("platform_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lms_lti_platform.id",
                                                        ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LtiContext(Base):
    """A platform's course, tied to the lms cohort made for it at its first launch (one per
    curriculum its links open). Holds where the course's gradebook columns are."""

    __tablename__ = "lms_lti_context"
    __table_args__ = (UniqueConstraint("platform_id", "context_id", "curriculum_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lms_lti_platform.id",
                                                        ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("lms_curriculum.id"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("lms_cohort.id", ondelete="CASCADE"),
                                           index=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    # Assignment and Grade Services: the course's line-item container and the scopes granted.
    lineitems_url: Mapped[str | None] = mapped_column(String(1000))
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[LtiPlatform] = relationship(back_populates="contexts")
    cohort: Mapped[Cohort] = relationship()
    line_items: Mapped[list[LtiLineItem]] = relationship(back_populates="context",
                                                         cascade="all, delete-orphan")


class LtiUser(Base):
    """A platform's user (its ``sub``) and the lms person made for them. Linked only by sub:
    an email alone never hands over an existing lms account."""

    __tablename__ = "lms_lti_user"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lms_lti_platform.id",
                                                        ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                           index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[LtiPlatform] = relationship(back_populates="users")
    person: Mapped[Person] = relationship()


class LtiLineItem(Base):
    """A gradebook column in a platform's course: ``module:<slug>`` for a quiz, ``readiness``
    for the readiness state."""

    __tablename__ = "lms_lti_line_item"
    __table_args__ = (UniqueConstraint("context_id", "resource_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lms_lti_context.id",
                                                       ondelete="CASCADE"))
    resource_key: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    context: Mapped[LtiContext] = relationship(back_populates="line_items")
