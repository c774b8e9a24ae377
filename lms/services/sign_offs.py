"""Competency ratings and deployment sign-offs: who may judge, and the append-only records.

Only the trainee's current supervisor judges them, or an admin acting as supervisor (recorded
as such); nobody judges themselves. A rating is a new row each time. A sign-off is "deploy"
only when every readiness criterion is met, or with a written justification (an override,
audited); "defer" needs reasons, a plan and a review date, which raises a flag when it passes.
Each sign-off keeps the policy version and a snapshot of the evidence; a later policy change
never rewrites it. Revoking is a new record naming the sign-off it revokes. The models refuse
updates and deletes (``lms.models.readiness``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.models import Cohort, CompetencyRating, Enrolment, Person, SignOff
from lms.models._types import utcnow
from lms.models.people import ADMIN
from lms.services import audit, certificates, readiness, standards, supervisors
from lms.services.errors import ServiceError, _l

DEPLOY = "deploy"
DEFER = "defer"
REVOKE = "revoke"
SETTINGS = {"role_play": _l("Role-play"), "observed_session": _l("Observed session"),
            "shadowing": _l("Shadowing")}
DOUBLE_SUBMIT = timedelta(minutes=2)
MAX_TEXT = 5000
MIN_JUSTIFICATION = 20  # a sentence, not "ok"


class SignOffError(ServiceError):
    pass


@dataclass(frozen=True)
class Judge:
    """Who is judging: ``as_admin`` when an admin acts in a supervisor's place."""

    person: Person
    as_admin: bool


def judge_of(session: Session, person: Person, trainee: Person, today: date) -> Judge | None:
    """The person as a judge of ``trainee``, or None: the current supervisor, else an admin
    (as admin); never the trainee themselves."""
    if person.id == trainee.id:
        return None
    if supervisors.is_current_supervisor(session, person.id, trainee.id, today):
        return Judge(person, False)
    if person.has_role(ADMIN):
        return Judge(person, True)
    return None


def _text(value: str | None) -> str:
    return (value or "").strip()


def rate(session: Session, judge: Judge, trainee: Person, cohort: Cohort, *, competency: str,
         rating: str, observed_on: date | None, setting: str, evidence: str, today: date,
         now: datetime | None = None) -> CompetencyRating:
    """Add a rating of one observed competency (never edits an earlier one)."""
    now = now or utcnow()
    policy_row = standards.current_policy(session, cohort.curriculum_id)
    policy = standards.Policy.from_rules(policy_row.rules) if policy_row else None
    keys = {c.key for c in policy.competencies} if policy else set()
    evidence = _text(evidence)
    problems: dict[str, str] = {}
    if _withdrawn(session, cohort, trainee):
        raise SignOffError(_l("%(name)s was withdrawn from this cohort: nothing more is "
                              "rated or signed off here.", name=trainee.name))
    if competency not in keys:
        problems["competency"] = _l("Choose a competency from the list.")
    if rating not in standards.RATINGS:
        problems["rating"] = _l("Choose a rating: not yet, developing or competent.")
    if setting not in SETTINGS:
        problems["setting"] = _l("Choose where you saw it: role-play, an observed session or "
                                 "shadowing.")
    if observed_on is None:
        problems["observed_on"] = _l("Enter the date you saw it.")
    elif observed_on > today:
        problems["observed_on"] = _l("The date cannot be in the future.")
    elif observed_on.year < 2000:
        problems["observed_on"] = _l("Enter a date from 2000 on.")
    if not evidence:
        problems["evidence"] = _l("Say what you saw: the evidence for this rating.")
    elif len(evidence) > MAX_TEXT:
        problems["evidence"] = _l("Keep the evidence under 5,000 characters.")
    if problems:
        raise SignOffError(problems=problems)
    same = session.scalar(select(CompetencyRating).where(
        CompetencyRating.trainee_id == trainee.id, CompetencyRating.competency == competency,
        CompetencyRating.rating == rating, CompetencyRating.observed_on == observed_on,
        CompetencyRating.evidence == evidence,
        CompetencyRating.rated_by_id == judge.person.id,
        CompetencyRating.created_at >= now - DOUBLE_SUBMIT).limit(1))
    if same is not None:
        return same  # a double-click
    row = CompetencyRating(trainee_id=trainee.id, curriculum_id=cohort.curriculum_id,
                           competency=competency, rating=rating, observed_on=observed_on,
                           setting=setting, evidence=evidence, rated_by_id=judge.person.id,
                           as_admin=judge.as_admin, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, judge.person.id, audit.RATING, "competency_rating", row.id,
                 trainee.id, {"competency": competency, "rating": rating,
                              "as_admin": judge.as_admin}, now=now)
    return row


def sign_off(session: Session, judge: Judge, trainee: Person, cohort: Cohort, *,
             decision: str, reasons: str = "", plan: str = "", review_on: date | None = None,
             override_justification: str = "", today: date, zone: str = "UTC",
             now: datetime | None = None) -> SignOff:
    """Record a deploy or defer decision, with the policy and the evidence as they are now.
    A deployment issues its certificate, dated in the programme's ``zone``."""
    now = now or utcnow()
    found = readiness.readiness_in(session, cohort, trainee.id, today=today, now=now)
    if found is None:
        raise SignOffError(_l("%(name)s is not enrolled in this cohort.", name=trainee.name))
    if found.withdrawn:
        raise SignOffError(_l("%(name)s was withdrawn from this cohort: nothing more is "
                              "rated or signed off here.", name=trainee.name))
    reasons, plan = _text(reasons), _text(plan)
    justification = _text(override_justification)
    problems: dict[str, str] = {}
    if decision == DEFER and live_deploys(session, trainee.id, cohort.curriculum_id):
        problems["decision"] = _l("%(name)s is deployed now: revoke the deployment first, "
                                  "then defer.", name=trainee.name)
    if decision not in (DEPLOY, DEFER):
        problems["decision"] = _l("Choose deploy or defer.")
    if found.policy is None:
        problems[None] = _l("This curriculum has no standards file, so there is nothing to "
                            "judge against.")
    if decision == DEPLOY and found.policy is not None and not found.ready \
            and len(justification) < MIN_JUSTIFICATION:
        problems["override_justification"] = _l(
            "Not every standard is met. To deploy anyway, write why (at least a "
            "sentence); this override is recorded in the audit log.")
    if decision == DEFER:
        if not reasons:
            problems["reasons"] = _l("Give the reasons for deferring.")
        if not plan:
            problems["plan"] = _l("Write the plan: what happens before the review.")
        if review_on is None:
            problems["review_on"] = _l("Enter the date of the review.")
        elif review_on <= today:
            problems["review_on"] = _l("The review date must be after today.")
        elif review_on > today + timedelta(days=366):
            problems["review_on"] = _l("Set a review within a year.")
    for field, value in (("reasons", reasons), ("plan", plan),
                         ("override_justification", justification)):
        if len(value) > MAX_TEXT:
            problems[field] = _l("Keep this under 5,000 characters.")
    if problems:
        raise SignOffError(problems=problems)
    latest = found.latest_sign_off
    if latest is not None and latest.signed_by_id == judge.person.id \
            and latest.created_at >= now - DOUBLE_SUBMIT \
            and (latest.decision, latest.reasons, latest.plan, latest.review_on,
                 latest.override_justification or "") == (
                decision, reasons, plan, review_on if decision == DEFER else None,
                justification if decision == DEPLOY and not found.ready else ""):
        return latest  # a double-click: the very same decision again
    override = decision == DEPLOY and not found.ready
    row = SignOff(trainee_id=trainee.id, curriculum_id=cohort.curriculum_id,
                  decision=decision, reasons=reasons, plan=plan,
                  review_on=review_on if decision == DEFER else None,
                  override_justification=justification if override else None,
                  policy_id=found.policy.id, evidence=found.snapshot(),
                  signed_by_id=judge.person.id, as_admin=judge.as_admin, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, judge.person.id, audit.SIGN_OFF, "sign_off", row.id, trainee.id,
                 {"decision": decision, "as_admin": judge.as_admin, "override": override,
                  "policy_number": found.policy.number}, now=now)
    if override:
        audit.record(session, judge.person.id, audit.OVERRIDE, "sign_off", row.id, trainee.id,
                     {"unmet": [c.key for c in found.criteria if not c.met]}, now=now)
    if decision == DEPLOY:
        certificates.issue(session, row, programme=cohort.curriculum.title, now=now, zone=zone)
    return row


def revoke(session: Session, judge: Judge, trainee: Person, deploy: SignOff, reason: str, *,
           now: datetime | None = None) -> SignOff:
    """Revoke a deployment: a new record naming it, and one for every earlier deployment still
    live (a re-certification's older certificate must not stay valid). Their certificates then
    show revoked. Returns the revocation of ``deploy``."""
    now = now or utcnow()
    reason = _text(reason)
    if deploy.trainee_id != trainee.id or deploy.decision != DEPLOY:
        raise SignOffError(_l("Only a deployment sign-off can be revoked."))
    if revocation_of(session, deploy) is not None:
        raise SignOffError(_l("This deployment was already revoked."))
    if not reason:
        raise SignOffError(_l("Give the reason for revoking."), "reason")
    if len(reason) > MAX_TEXT:
        raise SignOffError(_l("Keep this under 5,000 characters."), "reason")
    first = None
    for live in [deploy] + [d for d in live_deploys(session, trainee.id, deploy.curriculum_id)
                            if d.id != deploy.id]:
        row = SignOff(trainee_id=trainee.id, curriculum_id=live.curriculum_id,
                      decision=REVOKE, reasons=reason, policy_id=live.policy_id, evidence={},
                      signed_by_id=judge.person.id, as_admin=judge.as_admin,
                      revokes_id=live.id, created_at=now)
        session.add(row)
        session.flush()
        audit.record(session, judge.person.id, audit.REVOCATION, "sign_off", row.id,
                     trainee.id, {"revokes": live.id, "as_admin": judge.as_admin}, now=now)
        first = first or row
    return first


def live_deploys(session: Session, trainee_id: int, curriculum_id: int) -> list[SignOff]:
    """Deployments of the trainee in the curriculum not revoked yet, newest first."""
    revoked = select(SignOff.revokes_id).where(SignOff.revokes_id.is_not(None))
    return list(session.scalars(
        select(SignOff).where(SignOff.trainee_id == trainee_id,
                              SignOff.curriculum_id == curriculum_id,
                              SignOff.decision == DEPLOY, SignOff.id.not_in(revoked))
        .order_by(SignOff.created_at.desc(), SignOff.id.desc())))


def _withdrawn(session: Session, cohort: Cohort, trainee: Person) -> bool:
    return session.scalar(select(Enrolment.withdrawn_on).where(
        Enrolment.cohort_id == cohort.id, Enrolment.person_id == trainee.id)) is not None


def revocation_of(session: Session, deploy: SignOff) -> SignOff | None:
    return session.scalar(select(SignOff).where(SignOff.revokes_id == deploy.id).limit(1))


def history(session: Session, trainee_id: int, curriculum_id: int
            ) -> tuple[list[SignOff], list[CompetencyRating]]:
    """Sign-offs and ratings, newest first (their signers loaded in the same queries)."""
    sign_offs = list(session.scalars(
        select(SignOff).where(SignOff.trainee_id == trainee_id,
                              SignOff.curriculum_id == curriculum_id)
        .options(selectinload(SignOff.signed_by))
        .order_by(SignOff.created_at.desc(), SignOff.id.desc())))
    ratings = list(session.scalars(
        select(CompetencyRating).where(CompetencyRating.trainee_id == trainee_id,
                                       CompetencyRating.curriculum_id == curriculum_id)
        .options(selectinload(CompetencyRating.rated_by))
        .order_by(CompetencyRating.created_at.desc(), CompetencyRating.id.desc())))
    return sign_offs, ratings
