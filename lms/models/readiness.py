"""Minimum standards, agreements, competency ratings, sign-offs and certificates.

Policies and agreement texts come from files and are versioned like quizzes; signatures,
ratings, sign-offs and certificates are append-only records (a revocation or a re-assessment
is a new row, never an edit).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import Base
from lms.models._types import UTCDateTime, utcnow
from lms.models.audit import AuditEvent
from lms.models.content import Curriculum
from lms.models.people import Person


class StandardsPolicy(Base):
    """One version of a curriculum's ``standards.yaml``: the rules as parsed, kept whole so a
    sign-off can say exactly what it was judged against."""

    __tablename__ = "lms_standards_policy"
    __table_args__ = (UniqueConstraint("curriculum_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("lms_curriculum.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    curriculum: Mapped[Curriculum] = relationship()


class Agreement(Base):
    """One version of an agreement text (the confidentiality agreement, the code of conduct)."""

    __tablename__ = "lms_agreement"
    __table_args__ = (UniqueConstraint("curriculum_id", "key", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("lms_curriculum.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body_html: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgreementSignature(Base):
    """A trainee's signature of one version of an agreement: the name they typed, and when."""

    __tablename__ = "lms_agreement_signature"
    __table_args__ = (UniqueConstraint("person_id", "agreement_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                           index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("lms_agreement.id"))
    typed_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agreement: Mapped[Agreement] = relationship()


class CompetencyRating(Base):
    """One observation of one competency. A new rating is a new row; none is ever edited."""

    __tablename__ = "lms_competency_rating"
    __table_args__ = (Index("ix_lms_competency_rating_trainee", "trainee_id", "competency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("lms_curriculum.id"))
    competency: Mapped[str] = mapped_column(String(100))  # the key in standards.yaml
    rating: Mapped[str] = mapped_column(String(20))  # not_yet | developing | competent
    observed_on: Mapped[date] = mapped_column(Date)
    setting: Mapped[str] = mapped_column(String(30))  # role_play | observed_session | shadowing
    evidence: Mapped[str] = mapped_column(Text)
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                               ondelete="SET NULL"))
    # An admin rating in a supervisor's place, recorded as such.
    as_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rated_by: Mapped[Person | None] = relationship(foreign_keys=[rated_by_id])


class SignOff(Base):
    """A deployment decision: deploy, defer or revoke. Append-only; each keeps the policy
    version and a snapshot of the evidence it was judged on."""

    __tablename__ = "lms_sign_off"
    __table_args__ = (Index("ix_lms_sign_off_trainee", "trainee_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"))
    curriculum_id: Mapped[int] = mapped_column(ForeignKey("lms_curriculum.id"))
    decision: Mapped[str] = mapped_column(String(20))  # deploy | defer | revoke
    reasons: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    review_on: Mapped[date | None] = mapped_column(Date)
    # A deploy with criteria unmet needs a written justification (and is audited).
    override_justification: Mapped[str | None] = mapped_column(Text)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("lms_standards_policy.id"))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_person.id",
                                                                ondelete="SET NULL"))
    as_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # A revocation names the sign-off it revokes.
    # Indexed: the public verify page asks whether a certificate's sign-off was revoked.
    revokes_id: Mapped[int | None] = mapped_column(ForeignKey("lms_sign_off.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signed_by: Mapped[Person | None] = relationship(foreign_keys=[signed_by_id])
    policy: Mapped[StandardsPolicy | None] = relationship()


class Certificate(Base):
    """Issued from a deploy sign-off; verified by anyone with its code. Never edited: it is
    revoked when its sign-off is (a revoke sign-off names it), and expires on ``expires_on``."""

    __tablename__ = "lms_certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sign_off_id: Mapped[int] = mapped_column(ForeignKey("lms_sign_off.id"), unique=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("lms_person.id", ondelete="CASCADE"),
                                            index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # as printed
    programme: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sign_off: Mapped[SignOff] = relationship()


class AppendOnlyError(Exception):
    """A signature, rating, sign-off, certificate or audit event was about to be changed or
    deleted."""


def _refuse(_mapper, _connection, target) -> None:
    raise AppendOnlyError(f"{type(target).__name__} records are never edited or deleted: "
                          "add a new record instead")


# Evidence of readiness is history: a correction is a new row, never an edit (the ORM refuses
# both; the audit log records who added what).
for _model in (AgreementSignature, CompetencyRating, SignOff, Certificate, AuditEvent):
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)
