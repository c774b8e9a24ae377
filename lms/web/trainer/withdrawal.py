"""Withdrawing a trainee from a cohort, on a page of its own (no JavaScript needed), and
reinstating one withdrawn by mistake."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.forms.withdrawal import ReinstateForm, WithdrawForm
from lms.models import Cohort, Enrolment
from lms.services import time_zones, withdrawal
from lms.web.access import current_person, db_session, roles_required
from lms.web.form_handling import handle_post, run_action
from lms.web.trainer import STAFF, bp, managed_cohort


def _enrolment(cohort: Cohort, person_id: int) -> Enrolment:
    found = withdrawal.enrolment_in(db_session(), cohort, person_id)
    if found is None:
        abort(404, description=_("That person is not enrolled in this cohort."))
    return found


def _cohort_url(cohort: Cohort) -> str:
    return url_for("lms_trainer.cohort", cohort_id=cohort.id)


@bp.route("/<id:cohort_id>/trainees/<id:person_id>/withdraw", methods=["GET", "POST"])
@roles_required(*STAFF)
def withdraw(cohort_id: int, person_id: int):
    """GET asks to confirm, with the date (today in the cohort's zone) and a reason; POST
    withdraws. For someone already withdrawn, the page shows the withdrawal and offers to undo
    it."""
    found = managed_cohort(cohort_id)
    enrolment = _enrolment(found, person_id)
    session = db_session()
    form = WithdrawForm()
    if request.method == "GET":
        form.withdrawn_on.data = time_zones.local_today(found.timezone)
    outcome = handle_post(
        form, lambda: withdrawal.withdraw(session, enrolment, form.withdrawn_on.data,
                                          form.reason.data or "", current_person()),
        success=_("%(name)s is withdrawn from %(cohort)s. Their records are kept.",
                  name=enrolment.person.name, cohort=found.name),
        redirect_to=_cohort_url(found))
    if outcome.done:
        return outcome.response
    return render_template("lms/trainer/withdraw.html", cohort=found, enrolment=enrolment,
                           form=form, reinstate_form=ReinstateForm(),
                           withdrawn_by=withdrawal.withdrawn_by(session, enrolment)), \
        outcome.status


@bp.route("/<id:cohort_id>/trainees/<id:person_id>/reinstate", methods=["POST"])
@roles_required(*STAFF)
def reinstate(cohort_id: int, person_id: int):
    found = managed_cohort(cohort_id)
    enrolment = _enrolment(found, person_id)
    session = db_session()
    if not ReinstateForm().validate_on_submit():
        abort(400, description=_("The form has expired: go back and try again."))
    done = run_action(
        lambda: withdrawal.reinstate(session, enrolment, current_person()),
        success=_("%(name)s is back in %(cohort)s: sessions after the old withdrawal date "
                  "count again.", name=enrolment.person.name, cohort=found.name))
    if not done:
        return redirect(url_for("lms_trainer.withdraw", cohort_id=found.id,
                                person_id=person_id))
    return redirect(_cohort_url(found))
