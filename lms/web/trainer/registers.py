"""Registers: attendance marks, their corrections and history, and make-ups."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from lms.forms.choices import choices
from lms.forms.cohorts import MakeUpForm
from lms.models.agenda import STATUSES
from lms.services import attendance
from lms.web.access import current_person, db_session, roles_required
from lms.web.form_handling import handle_post
from lms.web.trainer import STAFF, bp, managed_cohort, session_in


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/register", methods=["GET", "POST"])
@roles_required(*STAFF)
def session_register(cohort_id: int, session_id: int):
    found = managed_cohort(cohort_id)
    item = session_in(found, session_id)
    session = db_session()
    rows = attendance.register(session, item)
    problems: dict[int, str] = {}
    submitted: dict[int, tuple[str, str]] = {}
    reason = ""
    if request.method == "POST":
        # One field per trainee, so the register is parsed by the service, not a WTForms form.
        reason = request.form.get("reason", "")[:500]
        try:
            marks, submitted, problems = attendance.marks_from_form(rows, request.form)
        except ValueError as exc:
            abort(400, description=str(exc))
        if not problems:
            try:
                changed = attendance.record_register(session, item, marks, current_person(),
                                                     reason=reason)
            except attendance.AttendanceError as exc:
                session.rollback()
                problems = exc.problems
            else:
                session.commit()
                flash(ngettext("Register saved: %(num)d mark recorded or changed.",
                               "Register saved: %(num)d marks recorded or changed.", changed),
                      "success")
                return redirect(url_for("lms_trainer.session_register", cohort_id=found.id,
                                        session_id=item.id))
    return render_template("lms/trainer/register.html", cohort=found, item=item, rows=rows,
                           statuses=STATUSES, labels=attendance.STATUS_LABELS,
                           problems=problems, submitted=submitted, reason=reason,
                           has_register=attendance.has_register(item),
                           partial=attendance.PARTIAL), 422 if problems else 200


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/history")
@roles_required(*STAFF)
def register_history(cohort_id: int, session_id: int):
    found = managed_cohort(cohort_id)
    item = session_in(found, session_id)
    return render_template("lms/trainer/register_history.html", cohort=found, item=item,
                           changes=attendance.history(db_session(), item),
                           labels=attendance.STATUS_LABELS)


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/make-up", methods=["GET", "POST"])
@roles_required(*STAFF)
def make_up(cohort_id: int, session_id: int):
    found = managed_cohort(cohort_id)
    item = session_in(found, session_id)
    session = db_session()
    form = MakeUpForm()
    people = {r.person.id: r.person for r in attendance.register(session, item)}
    form.person_id.choices = choices((p.id, p.name) for p in people.values())
    candidates = {s.id: s for s in attendance.make_up_candidates(session, item)}
    form.via_session_id.choices = choices(
        [(0, _("— none: record an activity instead —"))] +
        [(s.id, f"{s.cohort.name}: {s.title} ({format_date(s.on_date)})")
         for s in candidates.values()])

    def record() -> None:
        attendance.record_make_up(
            session, people[form.person_id.data], item, recorder=current_person(),
            via=candidates.get(form.via_session_id.data), activity=form.activity.data or "",
            minutes=form.minutes.data)

    outcome = handle_post(
        form, record,
        success=lambda _r: _("Make-up recorded for %(name)s.",
                             name=people[form.person_id.data].name),
        redirect_to=url_for("lms_trainer.session_register", cohort_id=found.id,
                            session_id=item.id))
    if outcome.done:
        return outcome.response
    return render_template("lms/trainer/make_up.html", cohort=found, item=item, form=form,
                           ), outcome.status
