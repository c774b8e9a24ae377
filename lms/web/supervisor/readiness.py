"""Readiness for a supervisor (or an admin acting as one): every criterion with its evidence,
rating observed competencies, signing off or deferring, and revoking a deployment."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask_babel import gettext as _

from lms.forms.sign_offs import RatingForm, RevokeForm, SignOffForm
from lms.models import Cohort, Person, SignOff
from lms.models.people import ADMIN, SUPERVISOR
from lms.services import certificates, readiness, sign_offs, standards
from lms.web import lti
from lms.web.access import current_person, db_session, roles_required
from lms.web.blueprint import as_id
from lms.web.form_handling import handle_post
from lms.web.programme import today, zone
from lms.web.supervisor import bp

JUDGES = (SUPERVISOR, ADMIN)


def _judged(person_id: int) -> tuple[Person, sign_offs.Judge]:
    session = db_session()
    trainee = session.get(Person, person_id) if as_id(person_id) else None
    if trainee is None:
        abort(404, description=_("There is no such person."))
    judge = sign_offs.judge_of(session, current_person(), trainee, today())
    if judge is None:
        abort(403, description=_("Only this trainee's current supervisor, or an admin, can "
                                 "judge their readiness."))
    return trainee, judge


def _page_url(trainee: Person) -> str:
    return url_for("lms_supervisor.readiness_page", person_id=trainee.id)


def _render(trainee: Person, judge: sign_offs.Judge, *, forms: dict | None = None,
            status: int = 200):
    session = db_session()
    rows = readiness.trainee_readiness(session, trainee.id, today=today())
    sections = []
    for row in rows:
        history, ratings = sign_offs.history(session, trainee.id, row.cohort.curriculum_id)
        revoked = {s.revokes_id for s in history if s.revokes_id}
        policy = standards.Policy.from_rules(row.policy.rules) if row.policy else None
        given = (forms or {}).get(row.cohort.id, {})
        rating = given.get("rating") or RatingForm(prefix=f"rate-{row.cohort.id}",
                                                    formdata=None)
        rating.competency.choices = [(c.key, c.title) for c in policy.competencies] \
            if policy else []
        sections.append({
            "readiness": row, "policy": policy, "history": history, "ratings": ratings,
            "revoked": revoked,
            "live_deploy": next((s for s in history if s.decision == sign_offs.DEPLOY
                                 and s.id not in revoked), None),
            "certificates": {c.sign_off_id: c for c in certificates.certificates_of(
                session, trainee.id)},
            "rating_form": rating,
            "sign_off_form": given.get("sign_off") or SignOffForm(
                prefix=f"sign-{row.cohort.id}", formdata=None),
            "revoke_form": given.get("revoke") or RevokeForm(prefix=f"revoke-{row.cohort.id}",
                                                              formdata=None)})
    return render_template("lms/supervisor/readiness.html", trainee=trainee, judge=judge,
                           sections=sections, today=today(),
                           settings=sign_offs.SETTINGS), status


def _cohort_of(trainee: Person, cohort_id: int) -> Cohort:
    cohort = db_session().get(Cohort, cohort_id)
    if cohort is None or readiness.readiness_in(db_session(), cohort, trainee.id,
                                                today=today()) is None:
        abort(404, description=_("This trainee is not enrolled in that cohort."))
    return cohort


@bp.route("/people/<id:person_id>/readiness")
@roles_required(*JUDGES)
def readiness_page(person_id: int):
    trainee, judge = _judged(person_id)
    return _render(trainee, judge)


@bp.route("/people/<id:person_id>/readiness/<id:cohort_id>/ratings", methods=["POST"])
@roles_required(*JUDGES)
def rate(person_id: int, cohort_id: int):
    trainee, judge = _judged(person_id)
    cohort = _cohort_of(trainee, cohort_id)
    form = RatingForm(prefix=f"rate-{cohort.id}")
    outcome = handle_post(form, lambda: sign_offs.rate(
        db_session(), judge, trainee, cohort, competency=form.competency.data,
        rating=form.rating.data, observed_on=form.observed_on.data, setting=form.setting.data,
        evidence=form.evidence.data, today=today()),
        success=_("Rating saved. Earlier ratings stay in the history."),
        redirect_to=_page_url(trainee) + "#ratings")
    if outcome.done:
        return outcome.response
    return _render(trainee, judge, forms={cohort.id: {"rating": form}}, status=422)


@bp.route("/people/<id:person_id>/readiness/<id:cohort_id>/sign-off", methods=["POST"])
@roles_required(*JUDGES)
def sign_off(person_id: int, cohort_id: int):
    trainee, judge = _judged(person_id)
    cohort = _cohort_of(trainee, cohort_id)
    form = SignOffForm(prefix=f"sign-{cohort.id}")
    outcome = handle_post(form, lambda: sign_offs.sign_off(
        db_session(), judge, trainee, cohort, decision=form.decision.data,
        reasons=form.reasons.data, plan=form.plan.data, review_on=form.review_on.data,
        override_justification=form.override_justification.data, today=today(), zone=zone()),
        success=lambda decision: _("Signed off for deployment; a certificate is issued.")
        if decision.decision == sign_offs.DEPLOY
        else _("Deferred. The review date will show as a flag when it comes."),
        redirect_to=_page_url(trainee) + "#decisions")
    if outcome.done:
        return lti.readiness_after(outcome.response, trainee.id, cohort.curriculum_id)
    return _render(trainee, judge, forms={cohort.id: {"sign_off": form}}, status=422)


@bp.route("/sign-offs/<id:sign_off_id>/revoke", methods=["POST"])
@roles_required(*JUDGES)
def revoke(sign_off_id: int):
    session = db_session()
    deploy = session.get(SignOff, sign_off_id)
    if deploy is None:
        abort(404, description=_("There is no such sign-off."))
    trainee, judge = _judged(deploy.trainee_id)
    cohort_id = next((r.cohort.id for r in readiness.trainee_readiness(
        session, trainee.id, today=today()) if r.cohort.curriculum_id == deploy.curriculum_id),
        None)
    form = RevokeForm(prefix=f"revoke-{cohort_id}")
    outcome = handle_post(form, lambda: sign_offs.revoke(session, judge, trainee, deploy,
                                                         form.reason.data),
                          success=_("Deployment revoked. Its certificate now shows as revoked."),
                          redirect_to=_page_url(trainee) + "#decisions")
    if outcome.done:
        return lti.readiness_after(outcome.response, trainee.id, deploy.curriculum_id)
    return _render(trainee, judge, forms={cohort_id: {"revoke": form}}, status=422)
