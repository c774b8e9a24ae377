"""Self-care check-ins: the form, and the history with its chart.

Days are days in the programme's zone (``LMS_TIMEZONE``), as for the supervisor's flags, so
"due today" here and "missed check-in" there agree.
"""

from __future__ import annotations

from flask import current_app, flash, render_template, url_for
from flask_babel import gettext as _

from lms.forms.check_ins import CheckInForm
from lms.models import Enrolment, Person
from lms.models.people import TRAINEE
from lms.services import check_ins, supervisors
from lms.services.content_cache import content
from lms.web.access import current_person, db_session, roles_required
from lms.web.form_handling import handle_post
from lms.web.programme import today, zone
from lms.web.trainee import bp


def due_state(person: Person, enrolments: list[Enrolment] | None = None) -> check_ins.DueState:
    """When the person's next check-in is due, at their curriculum's frequency (or the
    config default). Its last check-in came with the log-in session (else one query); the
    frequency costs one more query unless the caller hands over the person's enrolments
    (cohorts loaded), as the dashboard does."""
    session = db_session()
    config = current_app.config
    defaults = {"supervision_default": config["LMS_SUPERVISION_EVERY_DAYS"],
                "check_in_default": config["LMS_CHECK_IN_EVERY_DAYS"]}
    if enrolments is None:
        every = supervisors.frequencies(session, [person.id], **defaults)[person.id]
    else:
        known = content(session)
        every = supervisors.frequencies_from(
            enrolments, {c.id: c for c in known.curricula(e.cohort.curriculum_id
                                                           for e in enrolments)}, **defaults)
    every = every.check_in_days
    if person.last_check_in_known:  # read with the log-in session: no query
        return check_ins.due_after(person.last_check_in_at, every_days=every, today=today(),
                                   zone=zone())
    return check_ins.next_due(session, person.id, every_days=every, today=today(),
                              zone=zone())


@bp.route("/my/check-in", methods=["GET", "POST"])
@roles_required(TRAINEE)
def check_in():
    session = db_session()
    person = current_person()
    form = CheckInForm()
    outcome = handle_post(
        form, lambda: check_ins.record_check_in(
            session, person, scores=form.scores(), note=form.note.data or "",
            wants_to_talk=bool(form.wants_to_talk.data)),
        success=_("Thank you. Your check-in is saved."),
        redirect_to=url_for("lms_trainee.check_in_history"))
    if outcome.done:
        if outcome.result.wants_to_talk:
            if supervisors.current_supervisor_ids(session, [person.id], today()):
                flash(_("Your supervisor will see that you would like to talk."), "success")
            else:
                flash(_("You have no supervisor at the moment; speak to your trainer."),
                      "info")
        return outcome.response
    return render_template("lms/trainee/check_in.html", form=form), outcome.status


@bp.route("/my/check-ins")
@roles_required(TRAINEE)
def check_in_history():
    person = current_person()
    # Only ever the signed-in trainee's own: there is no id in the URL to change.
    items = check_ins.history(db_session(), person.id)
    return render_template("lms/trainee/check_in_history.html", check_ins=items,
                           chart=check_ins.chart_points(items, zone=zone()),
                           due=due_state(person), zone=zone())
