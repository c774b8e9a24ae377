"""Certificates as Open Badges 3.0 credentials (W3C Verifiable Credentials), and the status
list that shows which are revoked. docs/credentials.md explains the choices.

- A certificate's credential is an ``OpenBadgeCredential``: the issuer is the programme (its
  public URL and ``LMS_SITE_NAME``), the subject is the trainee by the name printed on the
  certificate, and the achievement is the curriculum with, as its criteria, the standards
  version the deploy sign-off was judged on. It is valid from the certificate's issue and
  until the end of its expiry day in the programme's zone.
- It is secured as VC-JOSE-COSE says: the credential itself is the payload of a compact JWS
  (``typ`` ``vc+jwt``, ``cty`` ``vc``), signed EdDSA with the programme's Ed25519 key and
  naming it by ``kid`` (the RFC 7638 thumbprint published in the JWK Set). Ed25519 signatures
  are deterministic and the payload holds no clock reading, so the same certificate always
  gives the same token: the JSON download and the copy in the PDF are identical.
- Revocation: a ``BitstringStatusListEntry`` whose index is the certificate's id, in one
  ``BitstringStatusListCredential`` (purpose ``revocation``, at least 131,072 bits, GZIP and
  multibase base64url) built in one query whatever the number of certificates. Expiry is not
  a status: ``validUntil`` says it.

Nothing here reads a Flask request: the web layer passes the addresses (``Issuer``).
"""

from __future__ import annotations

import base64
import gzip
import json
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from joserfc import jws
from joserfc.jwk import OKPKey
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from lms.models import Agreement, Certificate, Curriculum, SignOff, StandardsPolicy
from lms.models._types import utcnow
from lms.services import certificates
from lms.services.standards import Policy
from lms.signing_keys import ALGORITHM, IssuerKey

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JWS_TYPE = "vc+jwt"  # VC-JOSE-COSE: the media type application/vc+jwt
CONTENT_TYPE = "vc"
MEDIA_TYPE = "application/vc+jwt"
REVOCATION = "revocation"
# Bitstring Status List: at least 16 KiB, so a list says little about how many were issued.
MINIMUM_BITS = 131_072
STATUS_LIST_TTL_MS = 5 * 60 * 1000  # how long a verifier may cache the list


@dataclass(frozen=True)
class Issuer:
    """The programme as issuer, and the addresses its credentials point to (built by the web
    layer from ``LMS_PUBLIC_URL``)."""

    id: str  # the programme's public URL; also the JWT "iss"
    name: str
    status_list_url: str
    achievement_url: Callable[[str, int], str]  # (curriculum slug, standards version) -> URL
    verify_url: Callable[[str], str]  # certificate code -> its public verify page
    zone: str = "UTC"

    def profile(self) -> dict[str, Any]:
        return {"id": self.id, "type": ["Profile"], "name": self.name, "url": self.id}


# --- the achievement: the curriculum and the standards it was judged on ---------------------


def _words(key: str) -> str:
    return key.replace("-", " ").replace("_", " ")


def _count(value: float, unit: str) -> str:
    return f"{value:g} {unit}" + ("" if value == 1 else "s")


def criteria_narrative(session: Session, curriculum: Curriculum,
                       policy: StandardsPolicy | None) -> str:
    """What a holder did, in Markdown (Open Badges allows it), from the standards version."""
    if policy is None:
        return (f"Completed the {curriculum.title} training and was signed off by a "
                "supervisor as ready to work with clients.")
    rules = Policy.from_rules(policy.rules or {})
    titles = {module.slug: module.title for module in curriculum.modules}
    lines = [f"Signed off by a supervisor as ready to work with clients, against version "
             f"{policy.number} of the {curriculum.title} standards:", ""]
    if rules.minimum_attendance_percent:
        lines.append(f"- attended at least {rules.minimum_attendance_percent:g}% of the "
                     "scheduled training time")
    if rules.core_sessions_required:
        lines.append("- attended or made up every core session")
    if rules.quiz_modules:
        names = ", ".join(titles.get(slug, _words(slug)) for slug in rules.quiz_modules)
        fresh = (f", each pass no older than {rules.quiz_valid_for_months} months"
                 if rules.quiz_valid_for_months else "")
        mark = f" with at least {rules.pass_mark}%" if rules.pass_mark else ""
        lines.append(f"- passed the quizzes{mark} on: {names}{fresh}")
    if rules.agreements:
        agreed = dict(session.execute(select(Agreement.key, Agreement.title).where(
            Agreement.curriculum_id == curriculum.id, Agreement.key.in_(rules.agreements),
            Agreement.current.is_(True))).all())
        lines.append("- signed the agreements: "
                     + ", ".join(agreed.get(key) or _words(key) for key in rules.agreements))
    if rules.minimum_supervision_sessions or rules.minimum_supervision_hours:
        lines.append("- took part in at least "
                     f"{_count(rules.minimum_supervision_sessions, 'supervision session')} "
                     f"and {_count(rules.minimum_supervision_hours, 'hour')} of supervision")
    for competency in rules.competencies:
        lines.append(f"- observed in practice and rated {_words(competency.required)}: "
                     f"{competency.title}")
    if rules.recertify_after_months:
        lines += ["", f"Re-certification is due every {rules.recertify_after_months} months."]
    return "\n".join(lines)


def standards_version(policy: StandardsPolicy | None) -> int:
    """The version number in an achievement's address (0: judged on no standards file)."""
    return policy.number if policy is not None else 0


def achievement(session: Session, curriculum: Curriculum, policy: StandardsPolicy | None,
                issuer: Issuer) -> dict[str, Any]:
    """The Open Badges ``Achievement`` of a curriculum under one standards version."""
    version = standards_version(policy)
    description = (curriculum.description or "").strip() or (
        f"The {curriculum.title} training for peer supporters, completed and signed off.")
    return {
        "id": issuer.achievement_url(curriculum.slug, version),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": curriculum.title,
        "description": description,
        "criteria": {"narrative": criteria_narrative(session, curriculum, policy)},
        "creator": issuer.profile(),
        "version": str(version),
    }


def find_achievement(session: Session, slug: str, version: int
                     ) -> tuple[Curriculum, StandardsPolicy | None] | None:
    """The curriculum and standards version an achievement address names, or None."""
    curriculum = session.scalar(select(Curriculum).where(Curriculum.slug == slug))
    if curriculum is None:
        return None
    if version == 0:
        return curriculum, None
    policy = session.scalar(select(StandardsPolicy).where(
        StandardsPolicy.curriculum_id == curriculum.id, StandardsPolicy.number == version))
    return None if policy is None else (curriculum, policy)


# --- a certificate's credential -------------------------------------------------------------


def timestamp(moment: datetime) -> str:
    """XML Schema dateTimeStamp in UTC, to the second: ``2026-03-12T09:00:00Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def valid_until(expires_on: date | None, zone: str) -> datetime | None:
    """The end of the expiry day in the programme's zone: a certificate is valid through its
    ``expires_on`` (``certificates.statuses`` calls it expired only the day after)."""
    if expires_on is None:
        return None
    return datetime.combine(expires_on + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))


def status_entry(certificate: Certificate, issuer: Issuer) -> dict[str, Any]:
    return {"id": f"{issuer.status_list_url}#{certificate.id}",
            "type": "BitstringStatusListEntry", "statusPurpose": REVOCATION,
            "statusListIndex": str(certificate.id),
            "statusListCredential": issuer.status_list_url}


def credential(session: Session, certificate: Certificate, issuer: Issuer) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` of a certificate, with the JWT claims that
    VC-JOSE-COSE allows beside it (``iss``, ``jti``, ``iat``, ``nbf``, ``exp``), each equal to
    the credential's own value."""
    sign_off: SignOff = certificate.sign_off
    curriculum = session.get(Curriculum, sign_off.curriculum_id)
    if curriculum is None:  # the foreign key forbids it; a clear error all the same
        raise LookupError(f"certificate {certificate.id} names no curriculum")
    credential_id = issuer.verify_url(certificate.code)
    issued_at = certificate.created_at
    until = valid_until(certificate.expires_on, issuer.zone)
    body: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{certificate.programme}: ready to work with clients",
        "issuer": issuer.profile(),
        "validFrom": timestamp(issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            # The name as printed on the certificate: the same fact the verify page shows.
            "identifier": [{"type": "IdentityObject", "identityType": "name",
                            "hashed": False, "identityHash": certificate.name}],
            "achievement": achievement(session, curriculum, sign_off.policy, issuer),
        },
        "credentialStatus": status_entry(certificate, issuer),
    }
    claims: dict[str, Any] = {"iss": issuer.id, "jti": credential_id,
                              "iat": int(issued_at.timestamp()),
                              "nbf": int(issued_at.timestamp())}
    if until is not None:
        body["validUntil"] = timestamp(until)
        claims["exp"] = int(until.timestamp())
    return {**body, **claims}


def sign(payload: dict[str, Any], key: IssuerKey) -> str:
    """A compact JWS of ``payload`` (a credential), as VC-JOSE-COSE secures credentials."""
    header = {"alg": ALGORITHM, "typ": JWS_TYPE, "cty": CONTENT_TYPE, "kid": key.kid}
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with warnings.catch_warnings():
        # joserfc flags "EdDSA" as deprecated by RFC 9864 in favour of "Ed25519", which few
        # verifiers understand yet; EdDSA with an Ed25519 key is the same signature.
        warnings.filterwarnings("ignore", message=".*EdDSA is deprecated.*")
        return jws.serialize_compact(header, data, OKPKey.import_key(key.private_jwk),
                                     algorithms=[ALGORITHM])


def signed_credential(session: Session, certificate: Certificate, issuer: Issuer,
                      key: IssuerKey) -> str:
    return sign(credential(session, certificate, issuer), key)


def enveloped(token: str) -> dict[str, Any]:
    """A JOSE-secured credential as JSON: VC 2.0's ``EnvelopedVerifiableCredential``, whose
    ``id`` is a data: URL holding the compact JWS."""
    return {"@context": VC_CONTEXT, "id": f"data:{MEDIA_TYPE},{token}",
            "type": "EnvelopedVerifiableCredential"}


def credential_file(token: str) -> bytes:
    """What the trainee downloads and the PDF carries: the envelope, as UTF-8 JSON."""
    return (json.dumps(enveloped(token), indent=2) + "\n").encode("utf-8")


# --- the revocation status list -------------------------------------------------------------


def revocation_facts(session: Session) -> tuple[set[int], int]:
    """The ids of revoked certificates, and the highest id issued (0: none). One query: the
    revoked certificates, plus the newest one, each with whether it is revoked."""
    is_revoked = exists().where(SignOff.decision == certificates.REVOKE,
                                SignOff.revokes_id == Certificate.sign_off_id)
    newest = select(func.max(Certificate.id)).scalar_subquery()
    revoked: set[int] = set()
    highest = 0
    for certificate_id, flagged in session.execute(
            select(Certificate.id, is_revoked).where(or_(is_revoked,
                                                         Certificate.id == newest))):
        highest = max(highest, certificate_id)
        if flagged:
            revoked.add(certificate_id)
    return revoked, highest


def list_length(highest_index: int) -> int:
    """Bits in the list: the minimum, or whole multiples of it past the highest index."""
    blocks = highest_index // MINIMUM_BITS + 1
    return blocks * MINIMUM_BITS


def encode_bits(set_bits: Iterable[int], length: int) -> str:
    """``encodedList``: the bitstring (index 0 is the first byte's highest bit), GZIP-ed,
    base64url without padding, with the multibase prefix ``u``."""
    bits = bytearray(length // 8)
    for index in set_bits:
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same list always compresses to the same bytes.
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def status_list_credential(session: Session, issuer: Issuer, now: datetime | None = None
                           ) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` of every certificate, as of ``now``."""
    now = now or utcnow()
    revoked, highest = revocation_facts(session)
    return {
        "@context": [VC_CONTEXT],
        "id": issuer.status_list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.profile(),
        "validFrom": timestamp(now),
        "credentialSubject": {
            "id": f"{issuer.status_list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": REVOCATION,
            "encodedList": encode_bits(revoked, list_length(highest)),
            "ttl": STATUS_LIST_TTL_MS,
        },
        "iss": issuer.id,
        "jti": issuer.status_list_url,
        "iat": int(now.timestamp()),
    }


def signed_status_list(session: Session, issuer: Issuer, key: IssuerKey,
                       now: datetime | None = None) -> str:
    return sign(status_list_credential(session, issuer, now), key)


def key_set(keys: Iterable[IssuerKey]) -> dict[str, Any]:
    """The public keys as a JWK Set (RFC 7517): what a verifier needs, and nothing private."""
    return {"keys": [dict(key.public_jwk) for key in keys]}
