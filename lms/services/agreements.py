"""Agreements a trainee reads and signs: the confidentiality agreement, the code of conduct.

The texts come from ``curricula/<slug>/agreements/<key>.md`` and are versioned at sync
(``content_sync``): each change is a new ``Agreement`` row and only the newest is ``current``.
A trainee signs a version by typing their full name. The signature keeps that version (its
row), the time and the name exactly as typed (trimmed). A new version asks them to sign again:
the old signature stays, and is "out of date" (readiness says "sign the new version").

The typed name must be the name on their account, ignoring case, spacing and accents, so
"jose  GARCÍA" signs for "José García". Signing the same version twice (a double click)
returns the first signature.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.models import Agreement, AgreementSignature, Cohort, Enrolment, Person
from lms.models._types import utcnow
from lms.services.errors import ServiceError, _l

SIGNED = "signed"
OUT_OF_DATE = "out_of_date"
UNSIGNED = "unsigned"
MAX_TYPED_NAME = 200  # the column's length


def _curriculum_ids(session: Session, person_id: int) -> set[int]:
    return set(session.scalars(
        select(Cohort.curriculum_id).join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.person_id == person_id)))


def current_for(session: Session, person_id: int
                ) -> list[tuple[Agreement, AgreementSignature | None, str]]:
    """The current version of each agreement of the trainee's curricula, with their latest
    signature of that agreement (any version) and its state: signed, out_of_date or unsigned.
    Three queries."""
    curricula = _curriculum_ids(session, person_id)
    if not curricula:
        return []
    agreements = list(session.scalars(
        select(Agreement).where(Agreement.curriculum_id.in_(curricula),
                                Agreement.current.is_(True))
        .order_by(Agreement.curriculum_id, Agreement.title, Agreement.id)))
    latest: dict[tuple[int, str], AgreementSignature] = {}
    for signature, curriculum_id, key in session.execute(
            select(AgreementSignature, Agreement.curriculum_id, Agreement.key)
            .join(Agreement, Agreement.id == AgreementSignature.agreement_id)
            .where(AgreementSignature.person_id == person_id,
                   Agreement.curriculum_id.in_(curricula))
            .order_by(Agreement.number, AgreementSignature.signed_at)):
        latest[(curriculum_id, key)] = signature  # the newest version wins
    out = []
    for agreement in agreements:
        signature = latest.get((agreement.curriculum_id, agreement.key))
        if signature is None:
            state = UNSIGNED
        elif signature.agreement_id == agreement.id:
            state = SIGNED
        else:
            state = OUT_OF_DATE
        out.append((agreement, signature, state))
    return out


def agreement_for(session: Session, person_id: int, agreement_id: int) -> Agreement | None:
    """The agreement if it is the current version of one of the trainee's curricula; else
    None, so an old version, another programme's text or an unknown id all read as missing."""
    agreement = session.get(Agreement, agreement_id)
    if agreement is None or not agreement.current \
            or agreement.curriculum_id not in _curriculum_ids(session, person_id):
        return None
    return agreement


def signature_of(session: Session, person_id: int, agreement: Agreement
                 ) -> AgreementSignature | None:
    """The trainee's signature of exactly this version, if any."""
    return session.scalar(select(AgreementSignature).where(
        AgreementSignature.person_id == person_id,
        AgreementSignature.agreement_id == agreement.id))


def latest_signature(session: Session, person_id: int, agreement: Agreement
                     ) -> AgreementSignature | None:
    """The trainee's newest signature of this agreement, whichever version it was."""
    return session.scalar(
        select(AgreementSignature)
        .join(Agreement, Agreement.id == AgreementSignature.agreement_id)
        .where(AgreementSignature.person_id == person_id,
               Agreement.curriculum_id == agreement.curriculum_id,
               Agreement.key == agreement.key)
        .order_by(Agreement.number.desc(), AgreementSignature.signed_at.desc()).limit(1))


def comparable_name(name: str) -> str:
    """A name as compared for a signature: accents dropped (NFKD, combining marks removed),
    case folded, runs of spaces made one."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def sign(session: Session, person: Person, agreement: Agreement, typed_name: str,
         now: datetime | None = None) -> AgreementSignature:
    """Sign the current version of ``agreement`` as ``person``; see the module docstring."""
    existing = signature_of(session, person.id, agreement)
    if existing is not None:  # a double click, or a second tab: the first one stands
        return existing
    if not agreement.current:
        raise ServiceError(_l("There is a newer version of this agreement. Read that one and "
                              "sign it instead."))
    typed = (typed_name or "").strip()
    if not typed or len(typed) > MAX_TYPED_NAME \
            or comparable_name(typed) != comparable_name(person.name):
        raise ServiceError(_l("Type your full name as it appears on your account: %(name)s",
                              name=person.name), "typed_name")
    signature = AgreementSignature(person_id=person.id, agreement_id=agreement.id,
                                   typed_name=typed, signed_at=now or utcnow())
    try:
        with session.begin_nested():  # two requests at once: the unique index decides
            session.add(signature)
            session.flush()
    except IntegrityError:
        found = signature_of(session, person.id, agreement)
        if found is None:
            raise
        return found
    return signature
