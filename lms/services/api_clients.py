"""The read-only JSON API's clients and what each may read.

An admin issues a client a token (shown once; only its SHA-256 is kept), names it, scopes it to
one curriculum's programme (or all) and revokes it. Every answer is built here from the same
services as the pages, in bulk: a page of 100 people costs a fixed number of queries.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, aliased

from lms.models import ApiClient, Certificate, Cohort, Curriculum, Enrolment, Person, SignOff
from lms.models._types import utcnow
from lms.services import attendance, certificates, readiness
from lms.services.errors import ServiceError, _l
from lms.services.paging import clamp

MAX_PER_PAGE = 100


class ApiClientError(ServiceError):
    """A client that cannot be issued (no name, an unknown curriculum)."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(session: Session, *, name: str, curriculum_id: int | None,
          by: Person | None, now: datetime | None = None) -> tuple[ApiClient, str]:
    """A new client and its token (returned once, never stored)."""
    name = " ".join((name or "").split())
    problems: dict[str, str] = {}
    if not name:
        problems["name"] = _l("Name the system that will use this token.")
    elif len(name) > 200:
        problems["name"] = _l("Keep the name under 200 characters.")
    if curriculum_id is not None and session.get(Curriculum, curriculum_id) is None:
        problems["curriculum_id"] = _l("Choose a programme from the list.")
    if problems:
        raise ApiClientError(problems=problems)
    token = "lms_" + secrets.token_urlsafe(32)
    client = ApiClient(name=name, token_hash=digest(token), token_prefix=token[:12],
                       curriculum_id=curriculum_id, created_by_id=by.id if by else None,
                       created_at=now or utcnow())
    session.add(client)
    session.flush()
    return client, token


def authenticate(session: Session, token: str | None,
                 now: datetime | None = None) -> ApiClient | None:
    """The live client of ``token``, its last use noted; None for a wrong or revoked one."""
    if not token or len(token) > 200:
        return None
    client = session.scalar(select(ApiClient).where(ApiClient.token_hash == digest(token)))
    if client is None or not client.live:
        return None
    client.last_used_at = now or utcnow()
    return client


def revoke(session: Session, client_id: int, by: Person,
           now: datetime | None = None) -> ApiClient | None:
    """Stop the client's token working at once (kept, for the audit log's sake)."""
    session.execute(update(ApiClient).where(ApiClient.id == client_id,
                                            ApiClient.revoked_at.is_(None))
                    .values(revoked_at=now or utcnow(), revoked_by_id=by.id))
    return session.get(ApiClient, client_id, populate_existing=True)


def clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.revoked_at.isnot(None),
                                                           ApiClient.name, ApiClient.id)))


# --- what a client may read -----------------------------------------------------------------


def _cohorts(client: ApiClient) -> Select:
    query = select(Cohort.id)
    if client.curriculum_id is not None:
        query = query.where(Cohort.curriculum_id == client.curriculum_id)
    return query


def _trainee_ids(client: ApiClient) -> Select:
    return select(Enrolment.person_id).where(Enrolment.cohort_id.in_(_cohorts(client)))


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _bounds(page: int, per_page: int, total: int) -> tuple[int, int]:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    return clamp(page, total, per_page), per_page


def _valid_certificates(session: Session, client: ApiClient, person_ids: list[int],
                        today: date) -> dict[int, list[Certificate]]:
    query = select(Certificate).join(SignOff, SignOff.id == Certificate.sign_off_id) \
        .where(Certificate.trainee_id.in_(person_ids))
    if client.curriculum_id is not None:
        query = query.where(SignOff.curriculum_id == client.curriculum_id)
    found = list(session.scalars(query.order_by(Certificate.issued_on.desc(), Certificate.id)))
    states = certificates.statuses(session, found, today)
    valid: dict[int, list[Certificate]] = {}
    for certificate in found:
        if states[certificate.id].valid:
            valid.setdefault(certificate.trainee_id, []).append(certificate)
    return valid


def people(session: Session, client: ApiClient, *, page: int, per_page: int, today: date,
           signed_off: bool | None = None) -> Page:
    """Trainees of the client's programme, by name, with whether they hold a valid certificate
    (signed off for deployment and not revoked or expired). Five queries a page."""
    query = select(Person).where(Person.id.in_(_trainee_ids(client)),
                                 Person.stands_in.is_(False))
    if signed_off is not None:
        revoking = aliased(SignOff)
        holders = select(Certificate.trainee_id).join(
            SignOff, SignOff.id == Certificate.sign_off_id).where(
            ~select(revoking.id).where(revoking.revokes_id == Certificate.sign_off_id)
            .correlate(Certificate).exists(),
            (Certificate.expires_on.is_(None)) | (Certificate.expires_on >= today))
        if client.curriculum_id is not None:
            holders = holders.where(SignOff.curriculum_id == client.curriculum_id)
        query = query.where(Person.id.in_(holders) if signed_off else Person.id.not_in(holders))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = _bounds(page, per_page, total)
    found = list(session.scalars(query.order_by(Person.name, Person.id)
                                 .offset((page - 1) * per_page).limit(per_page)))
    ids = [p.id for p in found]
    cohort_ids: dict[int, list[int]] = {}
    for person_id, cohort_id in session.execute(
            select(Enrolment.person_id, Enrolment.cohort_id).where(
                Enrolment.person_id.in_(ids), Enrolment.cohort_id.in_(_cohorts(client)))
            .order_by(Enrolment.cohort_id)):
        cohort_ids.setdefault(person_id, []).append(cohort_id)
    valid = _valid_certificates(session, client, ids, today)
    return Page([_person(p, cohort_ids.get(p.id, []), valid.get(p.id, [])) for p in found],
                page, per_page, total)


def _person(person: Person, cohort_ids: list[int], valid: list[Certificate]) -> dict:
    return {"id": person.id, "name": person.name, "email": person.email,
            "cohort_ids": cohort_ids, "signed_off": bool(valid),
            "certificate_codes": [certificates.grouped(c.code) for c in valid]}


def person(session: Session, client: ApiClient, person_id: int, *,
           today: date) -> dict | None:
    """One trainee of the programme with their readiness in each of its cohorts, criterion by
    criterion; None if they are not the client's to read."""
    found = session.scalar(select(Person).where(Person.id == person_id,
                                                Person.id.in_(_trainee_ids(client)),
                                                Person.stands_in.is_(False)))
    if found is None:
        return None
    scope = set(session.scalars(_cohorts(client)))
    rows = [r for r in readiness.trainee_readiness(session, found.id, today=today)
            if r.cohort.id in scope]
    valid = _valid_certificates(session, client, [found.id], today).get(found.id, [])
    body = _person(found, sorted(r.cohort.id for r in rows), valid)
    body["readiness"] = [{
        "cohort_id": r.cohort.id, "ready": r.ready, "withdrawn": r.withdrawn,
        "standards_version": r.policy.number if r.policy else None,
        "latest_decision": r.latest_sign_off.decision if r.latest_sign_off else None,
        "criteria": [{"key": c.key, "met": c.met} for c in r.criteria]} for r in rows]
    return body


def cohorts(session: Session, client: ApiClient, *, page: int, per_page: int) -> Page:
    """The programme's cohorts, newest first, with how many trainees each has."""
    query = select(Cohort).where(Cohort.id.in_(_cohorts(client)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = _bounds(page, per_page, total)
    found = list(session.scalars(query.order_by(Cohort.starts_on.desc().nulls_last(),
                                                Cohort.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    counts = dict(session.execute(
        select(Enrolment.cohort_id, func.count()).where(
            Enrolment.cohort_id.in_([c.id for c in found]), Enrolment.withdrawn_on.is_(None))
        .group_by(Enrolment.cohort_id)).all())
    return Page([_cohort(c, counts.get(c.id, 0)) for c in found], page, per_page, total)


def _cohort(cohort: Cohort, trainees: int) -> dict:
    return {"id": cohort.id, "name": cohort.name, "curriculum": cohort.curriculum.slug,
            "starts_on": cohort.starts_on.isoformat() if cohort.starts_on else None,
            "ends_on": cohort.ends_on.isoformat() if cohort.ends_on else None,
            "timezone": cohort.timezone, "trainees": trainees}


def cohort(session: Session, client: ApiClient, cohort_id: int, *, today: date,
           now: datetime | None = None) -> dict | None:
    """One cohort with each trainee's attendance summary and readiness (a fixed number of
    queries whatever its size); None if it is not the client's to read."""
    found = session.scalar(select(Cohort).where(Cohort.id == cohort_id,
                                                Cohort.id.in_(_cohorts(client))))
    if found is None:
        return None
    now = now or utcnow()
    rows = readiness.cohort_readiness(session, found, today=today, now=now)
    marks = attendance.cohort_attendance(session, found, now, with_lines=False)
    trainees = []
    for row in rows:
        att = marks.get(row.person.id)
        trainees.append({
            "person_id": row.person.id, "name": row.person.name, "withdrawn": row.withdrawn,
            "ready": row.ready,
            "attendance": {
                "percent": round(att.percentage, 1) if att and att.percentage is not None
                else None,
                "scheduled_minutes": att.scheduled_minutes if att else 0,
                "attended_minutes": att.attended_minutes if att else 0,
                "excused_minutes": att.excused_minutes if att else 0,
                "core_sessions_missed": len(att.core_missed) if att else 0,
                "sessions_not_marked": len(att.unmarked) if att else 0}})
    body = _cohort(found, sum(1 for t in trainees if not t["withdrawn"]))
    body["members"] = trainees
    return body


def certificate_list(session: Session, client: ApiClient, *, page: int, per_page: int,
                     today: date) -> Page:
    """The programme's certificates, newest first, each with its status today."""
    query = select(Certificate).join(SignOff, SignOff.id == Certificate.sign_off_id)
    if client.curriculum_id is not None:
        query = query.where(SignOff.curriculum_id == client.curriculum_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = _bounds(page, per_page, total)
    found = list(session.scalars(query.order_by(Certificate.issued_on.desc(),
                                                Certificate.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    states = certificates.statuses(session, found, today)
    return Page([{"code": certificates.grouped(c.code), "person_id": c.trainee_id,
                  "name": c.name, "programme": c.programme,
                  "issued_on": c.issued_on.isoformat(),
                  "expires_on": c.expires_on.isoformat() if c.expires_on else None,
                  "status": states[c.id].state,
                  "status_since": states[c.id].on.isoformat() if states[c.id].on else None}
                 for c in found], page, per_page, total)
