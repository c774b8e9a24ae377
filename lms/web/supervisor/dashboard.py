"""The supervisor's dashboard (supervisees by urgency), a supervisee's page, and
acknowledging a flag."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.forms.flags import AcknowledgeForm
from lms.services import (
    attendance,
    check_ins,
    debriefs,
    flags,
    progress,
    quizzes,
    supervision,
    supervisors,
)
from lms.services.errors import ServiceError
from lms.web import programme
from lms.web.access import current_person, db_session, roles_required
from lms.web.form_handling import add_errors
from lms.web.supervisor import ROLES, bp, current_supervisee, flag_settings, today


@bp.route("/")
@roles_required(*ROLES)
def dashboard():
    rows = flags.dashboard(db_session(), current_person().id, today(), flag_settings())
    return render_template("lms/supervisor/dashboard.html", rows=rows, today=today(),
                           zone=programme.zone())


@bp.route("/people/<id:person_id>")
@roles_required(*ROLES)
def supervisee(person_id: int):
    """Everything a supervisor needs about one supervisee, from the same services the
    trainer's and trainee's pages use."""
    person = current_supervisee(person_id)
    session = db_session()
    me = current_person()
    history = check_ins.history(session, person.id)
    check_ins.log_note_reads(session, me.id, history)
    page = render_template(
        "lms/supervisor/supervisee.html", person=person, today=today(), zone=programme.zone(),
        flags=flags.for_trainee(session, person.id, today(), flag_settings()),
        curricula=progress.trainee_progress(session, person.id),
        attempts_by_quiz=_by_quiz(quizzes.attempt_history(session, person.id)),
        debrief_types=dict(debriefs.INCIDENT_TYPES),
        attendance=attendance.trainee_attendance(session, person.id),
        records=supervision.records_visible_to_supervisor(session, me.id, person.id, today()),
        debriefs=debriefs.debriefs_visible_to_supervisor(session, me.id, person.id, today()),
        check_ins=history, chart=check_ins.chart_points(history, zone=flag_settings().zone),
        assignments=supervisors.history(session, person.id))
    session.commit()  # the audit rows for the notes just shown
    return page


def _by_quiz(attempts: list) -> dict[int, list]:
    by_quiz: dict[int, list] = {}
    for item in attempts:
        by_quiz.setdefault(item.quiz_id, []).append(item)
    return by_quiz


@bp.route("/people/<id:person_id>/flags/<kind>/acknowledge", methods=["GET", "POST"])
@roles_required(*ROLES)
def acknowledge(person_id: int, kind: str):
    person = current_supervisee(person_id)
    session = db_session()
    form = AcknowledgeForm()
    key = form.key.data or request.args.get("key", "")
    flag = flags.find(session, person.id, kind, key, today(), flag_settings())
    if flag is None:
        abort(404, description=_("This flag has cleared, or there is no such flag: there is "
                                 "nothing to acknowledge."))
    form.key.data = key
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                flags.acknowledge(session, current_person(), person, kind, key, form.note.data,
                                  today(), flag_settings())
            except ServiceError as error:
                add_errors(form, error)
            else:
                session.commit()
                flash(_("Flag acknowledged. It shows again if things get worse."), "success")
                return redirect(url_for("lms_supervisor.dashboard"))
        status = 400
    return render_template("lms/supervisor/acknowledge.html", person=person, flag=flag,
                           form=form), status
