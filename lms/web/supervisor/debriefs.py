"""Supervisor pages: debriefs after a critical incident (start one for a supervisee, read,
edit within the window, add a correction, mark follow-ups done).

A debrief that is not the supervisor's to read is a 403 (a missing one a 404). Reading one
writes an audit row unless the reader started it. The form plumbing shared with the trainee's
debrief pages is in ``lms.web.debrief_forms``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.forms.debriefs import CorrectionForm, DebriefForm, EditDebriefForm, FollowUpDoneForm
from lms.models import Debrief, Person
from lms.models._types import utcnow
from lms.services import debriefs
from lms.services.debriefs import IdentifyingTextFound
from lms.web.access import current_person, db_session, roles_required
from lms.web.debrief_forms import form_context, submit_debrief_form, submit_edit
from lms.web.form_handling import run_action
from lms.web.programme import edit_window_days
from lms.web.supervisor import ROLES, bp, current_supervisee, today


def _readable(debrief_id: int) -> Debrief:
    """The debrief, if this supervisor may read it: else 404 (no such debrief) or 403."""
    found = debriefs.debrief_for(db_session(), debrief_id)
    if found is None:
        abort(404, description=_("There is no such debrief."))
    if not debriefs.can_read(db_session(), current_person(), found, today()):
        abort(403, description=_("This debrief is not about one of your supervisees."))
    return found


def _debrief_url(debrief: Debrief, anchor: str = "") -> str:
    return url_for("lms_supervisor.debrief", debrief_id=debrief.id) + anchor


@bp.route("/people/<id:person_id>/debriefs/new", methods=["GET", "POST"])
@roles_required(*ROLES)
def new_debrief(person_id: int):
    trainee = current_supervisee(person_id)
    session = db_session()
    me = current_person()
    form = DebriefForm()
    if request.method == "GET":
        form.incident_on.data = today()
    outcome, warning = submit_debrief_form(
        form, lambda: debriefs.start_debrief(
            session, me, trainee, incident_type=form.incident_type.data,
            incident_on=form.incident_on.data, **form.texts(), actions=form.actions(),
            keep_identifying=form.keep_identifying.data, today=today()),
        success=_("Debrief saved. %(name)s can read it too.", name=trainee.name),
        redirect_to=_debrief_url)
    if outcome.done:
        return outcome.response
    return render_template("lms/supervisor/debrief_form.html", trainee=trainee, form=form,
                           debrief=None, **form_context(warning)), outcome.status


def _render_debrief(found: Debrief, me: Person, *, correction_form: CorrectionForm,
                    warning: IdentifyingTextFound | None = None, status: int = 200):
    """The debrief page; it is a read, so it is logged (the caller commits)."""
    session = db_session()
    debriefs.read_debrief(session, me, found, today())
    editable = debriefs.can_edit(session, me, found, now=utcnow(), window_days=edit_window_days(),
                                 today=today())
    return render_template(
        "lms/supervisor/debrief.html", debrief=found, trainee=found.trainee,
        history=debriefs.history(session, found), editable=editable,
        # The trainee's current supervisor adds corrections and marks follow-ups.
        can_write=debriefs.can_correct(session, me, found, today()),
        correction_form=correction_form, done_form=FollowUpDoneForm(),
        window_days=edit_window_days(), **form_context(warning)), status


@bp.route("/debriefs/<id:debrief_id>")
@roles_required(*ROLES)
def debrief(debrief_id: int):
    found = _readable(debrief_id)
    page = _render_debrief(found, current_person(), correction_form=CorrectionForm())
    db_session().commit()  # the audit row for this read
    return page


@bp.route("/debriefs/<id:debrief_id>/edit", methods=["GET", "POST"])
@roles_required(*ROLES)
def edit_debrief(debrief_id: int):
    found = _readable(debrief_id)
    session = db_session()
    me = current_person()
    if me.id != found.started_by_id:
        abort(403, description=_("Only the person who started a debrief can edit it."))
    if not debriefs.can_edit(session, me, found, now=utcnow(), window_days=edit_window_days(),
                             today=today()):
        flash(_("This debrief can no longer be edited; add a correction instead."), "info")
        return redirect(_debrief_url(found, "#correction"))
    form = EditDebriefForm(obj=found)
    outcome, warning = submit_edit(session, found, me, form, redirect_to=_debrief_url)
    if outcome.done:
        return outcome.response
    return render_template("lms/supervisor/debrief_form.html", trainee=found.trainee,
                           form=form, debrief=found, **form_context(warning)), outcome.status


@bp.route("/debriefs/<id:debrief_id>/corrections", methods=["POST"])
@roles_required(*ROLES)
def debrief_correction(debrief_id: int):
    found = _readable(debrief_id)
    session = db_session()
    me = current_person()
    if not debriefs.can_correct(session, me, found, today()):
        abort(403, description=_("Only the current supervisor can add a correction to this "
                                 "debrief."))
    form = CorrectionForm()
    outcome, warning = submit_debrief_form(
        form, lambda: debriefs.add_correction(session, found, me, form.body.data,
                                              keep_identifying=form.keep_identifying.data,
                                              today=today()),
        success=_("Correction added to the debrief."),
        redirect_to=_debrief_url(found, "#history"))
    if outcome.done:
        return outcome.response
    page = _render_debrief(found, me, correction_form=form, warning=warning,
                           status=outcome.status)
    session.commit()  # the audit row for this read
    return page


@bp.route("/follow-ups/<id:action_id>/done", methods=["POST"])
@roles_required(*ROLES)
def follow_up_done(action_id: int):
    session = db_session()
    me = current_person()
    action = debriefs.follow_up_for(session, action_id)
    if action is None:
        abort(404, description=_("There is no such follow-up."))
    if not debriefs.can_mark_follow_up(session, me, action, today()):
        abort(403, description=_("This follow-up is not about one of your supervisees."))
    if not FollowUpDoneForm().validate_on_submit():
        abort(400, description=_("The form has expired: go back and try again."))
    done = request.form.get("done") != "0"
    run_action(lambda: debriefs.set_follow_up_done(session, action, me, done, today()),
               success=_("Follow-up marked done.") if done else _("Follow-up marked not done."))
    return redirect(url_for("lms_supervisor.debrief", debrief_id=action.debrief_id)
                    + "#follow-ups")
