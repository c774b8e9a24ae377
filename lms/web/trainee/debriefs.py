"""Debriefs after a critical incident, started and read by the trainee.

A trainee reaches only their own debriefs (whoever started them): any other id is a 404, so
nothing leaks. Reading one that their supervisor started is logged in the audit table.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.forms.debriefs import (
    CorrectionForm,
    FollowUpDoneForm,
    TraineeDebriefForm,
    TraineeEditDebriefForm,
)
from lms.models import Debrief
from lms.models._types import utcnow
from lms.models.people import TRAINEE
from lms.services import debriefs, supervisors
from lms.services.debriefs import IdentifyingTextFound
from lms.web.access import current_person, db_session, roles_required
from lms.web.debrief_forms import form_context, submit_debrief_form, submit_edit
from lms.web.form_handling import run_action
from lms.web.programme import edit_window_days, today
from lms.web.trainee import bp


def _own_debrief(debrief_id: int) -> Debrief:
    found = debriefs.debrief_for(db_session(), debrief_id)
    # Another trainee's debrief is answered exactly like a missing one.
    if found is None or found.trainee_id != current_person().id:
        abort(404, description=_("There is no such debrief of yours."))
    return found


def _debrief_url(debrief: Debrief, anchor: str = "") -> str:
    return url_for("lms_trainee.my_debrief", debrief_id=debrief.id) + anchor


def _saved(debrief: Debrief) -> str:
    if debrief.supervisor_id is None:
        return _("Your debrief is saved. You have no supervisor at the moment: no supervisor "
                 "will see it until one is assigned to you.")
    return _("Your debrief is saved. Your supervisor can read it.")


@bp.route("/my/debriefs")
@roles_required(TRAINEE)
def my_debriefs():
    """The list shows types, dates and follow-ups, not the text: opening one is the read."""
    session = db_session()
    person = current_person()
    return render_template("lms/trainee/debriefs.html",
                           debriefs=debriefs.debriefs_for_trainee(session, person.id),
                           incident_types=debriefs.INCIDENT_TYPES, today=today())


@bp.route("/my/debriefs/new", methods=["GET", "POST"])
@roles_required(TRAINEE)
def start_debrief():
    session = db_session()
    person = current_person()
    form = TraineeDebriefForm()
    if request.method == "GET":
        form.incident_on.data = today()
    outcome, warning = submit_debrief_form(
        form, lambda: debriefs.start_debrief(
            session, person, person, incident_type=form.incident_type.data,
            incident_on=form.incident_on.data, **form.texts(), actions=form.actions(),
            keep_identifying=form.keep_identifying.data, today=today()),
        success=_saved, redirect_to=_debrief_url)
    if outcome.done:
        return outcome.response
    supervisor = supervisors.current_supervisors(session, [person.id], today()).get(person.id)
    return render_template("lms/trainee/debrief_form.html", form=form, debrief=None,
                           supervisor=supervisor, **form_context(warning)), outcome.status


def _render_debrief(found: Debrief, *, correction_form: CorrectionForm,
                    warning: IdentifyingTextFound | None = None, status: int = 200):
    """The debrief page; a read the audit log keeps when someone else started it (the caller
    commits)."""
    session = db_session()
    me = current_person()
    debriefs.read_debrief(session, me, found, today())
    return render_template(
        "lms/trainee/debrief.html", debrief=found, trainee=found.trainee,
        history=debriefs.history(session, found),
        editable=debriefs.can_edit(session, me, found, now=utcnow(),
                                   window_days=edit_window_days(), today=today()),
        can_write=True, correction_form=correction_form, done_form=FollowUpDoneForm(),
        window_days=edit_window_days(), **form_context(warning)), status


@bp.route("/my/debriefs/<id:debrief_id>")
@roles_required(TRAINEE)
def my_debrief(debrief_id: int):
    found = _own_debrief(debrief_id)
    page = _render_debrief(found, correction_form=CorrectionForm())
    db_session().commit()  # the audit row, when their supervisor started it
    return page


@bp.route("/my/debriefs/<id:debrief_id>/edit", methods=["GET", "POST"])
@roles_required(TRAINEE)
def edit_my_debrief(debrief_id: int):
    found = _own_debrief(debrief_id)
    session = db_session()
    me = current_person()
    if not debriefs.can_edit(session, me, found, now=utcnow(), window_days=edit_window_days(),
                             today=today()):
        if me.id != found.started_by_id:
            flash(_("Your supervisor started this debrief, so only they can edit it. You can "
                    "add a correction."), "info")
        else:
            flash(_("This debrief can no longer be edited; add a correction instead."), "info")
        return redirect(_debrief_url(found, "#correction"))
    form = TraineeEditDebriefForm(obj=found)
    outcome, warning = submit_edit(session, found, me, form, redirect_to=_debrief_url)
    if outcome.done:
        return outcome.response
    return render_template("lms/trainee/debrief_form.html", form=form, debrief=found,
                           supervisor=None, **form_context(warning)), outcome.status


@bp.route("/my/debriefs/<id:debrief_id>/corrections", methods=["POST"])
@roles_required(TRAINEE)
def my_debrief_correction(debrief_id: int):
    found = _own_debrief(debrief_id)
    session = db_session()
    form = CorrectionForm()
    outcome, warning = submit_debrief_form(
        form, lambda: debriefs.add_correction(session, found, current_person(),
                                              form.body.data,
                                              keep_identifying=form.keep_identifying.data,
                                              today=today()),
        success=_("Correction added to the debrief."),
        redirect_to=_debrief_url(found, "#history"))
    if outcome.done:
        return outcome.response
    page = _render_debrief(found, correction_form=form, warning=warning,
                           status=outcome.status)
    session.commit()  # the audit row, when their supervisor started it
    return page


@bp.route("/my/follow-ups/<id:action_id>/done", methods=["POST"])
@roles_required(TRAINEE)
def my_follow_up_done(action_id: int):
    session = db_session()
    me = current_person()
    action = debriefs.follow_up_for(session, action_id)
    if action is None or action.debrief.trainee_id != me.id:
        abort(404, description=_("There is no such follow-up of yours."))
    if not FollowUpDoneForm().validate_on_submit():
        abort(400, description=_("The form has expired: go back and try again."))
    done = request.form.get("done") != "0"
    run_action(lambda: debriefs.set_follow_up_done(session, action, me, done, today()),
               success=_("Follow-up marked done.") if done else _("Follow-up marked not done."))
    return redirect(url_for("lms_trainee.my_debrief", debrief_id=action.debrief_id)
                    + "#follow-ups")
