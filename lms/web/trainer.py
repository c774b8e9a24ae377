"""Trainers (and admins): cohorts, enrolment, the agenda, registers, the grid, statistics."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from lms.forms.choices import choices
from lms.forms.cohorts import (
    CancelForm,
    CohortForm,
    CopyAgendaForm,
    EnrolCsvForm,
    EnrolOneForm,
    MakeUpForm,
    SessionForm,
)
from lms.models import Cohort, Curriculum, Module, Person, TrainingSession
from lms.models._types import utcnow
from lms.models.agenda import STATUSES
from lms.models.people import ADMIN, SUPERVISOR, TRAINER
from lms.services import (
    accounts,
    agenda,
    attendance,
    calendar_feeds,
    cohort_grid,
    cohorts,
    feedback,
    item_statistics,
)
from lms.web.access import current_person, db_session, roles_required
from lms.web.blueprint import make_blueprint

bp = make_blueprint("lms_trainer", __name__, url_prefix="/cohorts")
STAFF = (TRAINER, ADMIN)


def _cohort(cohort_id: int) -> Cohort:
    cohort = db_session().get(Cohort, cohort_id)
    if cohort is None:
        abort(404, description=_("There is no such cohort."))
    if not cohorts.can_manage(current_person(), cohort):
        abort(403, description=_("This is not one of your cohorts."))
    return cohort


def _session_of(cohort: Cohort, session_id: int) -> TrainingSession:
    item = db_session().get(TrainingSession, session_id)
    if item is None or item.cohort_id != cohort.id:
        abort(404, description=_("There is no such session in this cohort."))
    return item




# --- cohorts ----------------------------------------------------------------------------


@bp.route("")
@roles_required(*STAFF)
def list_cohorts():
    return render_template("lms/trainer/cohorts.html",
                           cohorts=cohorts.cohorts_for(db_session(), current_person()))


def _cohort_form_choices(form: CohortForm, cohort: Cohort | None = None) -> None:
    session = db_session()
    trainers = cohorts.staff_ids(cohort, TRAINER) if cohort else []
    supervisors = cohorts.staff_ids(cohort, SUPERVISOR) if cohort else []
    form.curriculum_id.choices = choices(
        (c.id, c.title) for c in session.scalars(select(Curriculum).order_by(Curriculum.title)))
    # Current staff stay in the lists even if switched off, so saving never drops them quietly.
    form.trainers.choices = choices(
        (p.id, p.name) for p in agenda.people_with_roles(session, (TRAINER,), keep=trainers))
    form.supervisors.choices = choices(
        (p.id, p.name)
        for p in agenda.people_with_roles(session, (SUPERVISOR,), keep=supervisors))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_cohort():
    session = db_session()
    me = current_person()
    form = CohortForm()
    _cohort_form_choices(form)
    if request.method == "GET" and me.has_role(TRAINER):
        form.trainers.data = [me.id]
    status = 200
    if form.validate_on_submit():
        try:
            cohort = cohorts.create_cohort(
                session, name=form.name.data,
                curriculum=session.get(Curriculum, form.curriculum_id.data),
                starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                timezone=form.timezone.data.strip(),
                trainers=accounts.people_by_ids(session, form.trainers.data),
                supervisors=accounts.people_by_ids(session, form.supervisors.data),
                actor=me)
        except cohorts.CohortError as exc:
            session.rollback()
            getattr(form, exc.field or "name").errors.append(str(exc))
            status = 422
        else:
            session.commit()
            flash(_("Cohort created. Now enrol trainees and build the agenda."), "success")
            return redirect(url_for("lms_trainer.cohort", cohort_id=cohort.id))
    elif request.method == "POST":
        status = 422
    return render_template("lms/trainer/cohort_form.html", form=form, cohort=None), status


@bp.route("/<id:cohort_id>")
@roles_required(*STAFF)
def cohort(cohort_id: int):
    found = _cohort(cohort_id)
    session = db_session()
    one = EnrolOneForm(prefix="one")
    one.supervisor_id.choices = _supervisor_choices(found)
    return render_template("lms/trainer/cohort.html", cohort=found,
                           enrolments=cohorts.enrolments(session, found.id),
                           one=one, csv_form=EnrolCsvForm(prefix="csv"), result=None)


def _supervisor_choices(cohort: Cohort):
    staff = set(cohorts.staff_ids(cohort, SUPERVISOR))
    people = agenda.people_with_roles(db_session(), (SUPERVISOR,))
    people.sort(key=lambda p: (p.id not in staff, p.name))
    return choices([(0, _("— none —"))] + [(p.id, p.name) for p in people])


@bp.route("/<id:cohort_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_cohort(cohort_id: int):
    found = _cohort(cohort_id)
    session = db_session()
    form = CohortForm(obj=found if request.method == "GET" else None)
    _cohort_form_choices(form, found)
    form.curriculum_id.data = found.curriculum_id  # a cohort keeps its curriculum
    if request.method == "GET":
        form.trainers.data = cohorts.staff_ids(found, TRAINER)
        form.supervisors.data = cohorts.staff_ids(found, SUPERVISOR)
    status = 200
    if form.validate_on_submit():
        try:
            cohorts.update_cohort(session, found, name=form.name.data,
                                  starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                                  timezone=form.timezone.data.strip())
            cohorts.set_staff(
                session, found,
                trainers=accounts.people_by_ids(session, form.trainers.data),
                supervisors=accounts.people_by_ids(session, form.supervisors.data),
                actor=current_person())
        except cohorts.CohortError as exc:
            session.rollback()
            getattr(form, exc.field or "name").errors.append(str(exc))
            status = 422
        else:
            session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("lms_trainer.cohort", cohort_id=found.id))
    elif request.method == "POST":
        status = 422
    return render_template("lms/trainer/cohort_form.html", form=form, cohort=found), status


@bp.route("/<id:cohort_id>/enrol", methods=["POST"])
@roles_required(*STAFF)
def enrol_one(cohort_id: int):
    found = _cohort(cohort_id)
    session = db_session()
    one = EnrolOneForm(prefix="one")
    one.supervisor_id.choices = _supervisor_choices(found)
    result = None
    if one.validate_on_submit():
        supervisor = session.get(Person, one.supervisor_id.data) if one.supervisor_id.data \
            else None
        row = cohorts.EnrolmentRow(1, one.name.data.strip(), one.email.data.strip(),
                                   supervisor.email if supervisor else "")
        try:
            result = cohorts.enrol_rows(session, found, [row], utcnow().date(),
                                        actor=current_person())
        except cohorts.EnrolmentErrors as exc:
            session.rollback()
            one.email.errors.append("; ".join(reason for _n, reason in exc.errors))
        else:
            session.commit()
            return _after_enrolment(found, result)
    return render_template("lms/trainer/cohort.html", cohort=found,
                           enrolments=cohorts.enrolments(session, found.id),
                           one=one, csv_form=EnrolCsvForm(prefix="csv"), result=result), 422


@bp.route("/<id:cohort_id>/enrol-csv", methods=["POST"])
@roles_required(*STAFF)
def enrol_csv(cohort_id: int):
    found = _cohort(cohort_id)
    session = db_session()
    csv_form = EnrolCsvForm(prefix="csv")
    errors: list[tuple[int, str]] = []
    if csv_form.validate_on_submit():
        try:
            rows = cohorts.parse_enrolment_csv(
                csv_form.file.data.read(cohorts.MAX_CSV_BYTES + 1))
            result = cohorts.enrol_rows(session, found, rows, utcnow().date(),
                                        actor=current_person())
        except cohorts.EnrolmentErrors as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            return _after_enrolment(found, result)
    one = EnrolOneForm(prefix="one", formdata=None)
    one.supervisor_id.choices = _supervisor_choices(found)
    return render_template("lms/trainer/cohort.html", cohort=found,
                           enrolments=cohorts.enrolments(session, found.id),
                           one=one, csv_form=csv_form, csv_errors=errors, result=None), 422


def _after_enrolment(cohort: Cohort, result: cohorts.EnrolmentResult):
    # New accounts' one-time passwords are shown once, on this page, and never stored in clear.
    return render_template("lms/trainer/enrolled.html", cohort=cohort, result=result)


# --- the agenda ---------------------------------------------------------------------------


@bp.route("/<id:cohort_id>/agenda")
@roles_required(*STAFF)
def cohort_agenda(cohort_id: int):
    found = _cohort(cohort_id)
    session = db_session()
    return render_template("lms/trainer/agenda.html", cohort=found,
                           sessions=agenda.agenda(session, found.id),
                           ratings=feedback.per_session(session, found.id),
                           registers={s.id for s in agenda.agenda(session, found.id)
                                      if attendance.has_register(s)},
                           feed_url=url_for("lms_calendar.feed", token=found.calendar_token,
                                            _external=True) if found.calendar_token else None,
                           cancel_form=CancelForm())


def _session_form_choices(form: SessionForm, cohort: Cohort,
                          item: TrainingSession | None = None) -> None:
    session = db_session()
    keep = item.facilitator_id if item else None
    form.facilitator_id.choices = choices(
        [(0, _("— none —"))] +
        [(p.id, p.name) for p in agenda.facilitator_choices(session, keep=keep)])
    form.module_ids.choices = choices(
        (m.id, m.title) for m in session.scalars(
            select(Module).where(Module.curriculum_id == cohort.curriculum_id,
                                 Module.retired.is_(False)).order_by(Module.position)))


def _session_input(form: SessionForm) -> agenda.SessionInput:
    return agenda.SessionInput(
        title=form.title.data or "", on_date=form.on_date.data, start_time=form.start_time.data,
        duration_minutes=form.duration_minutes.data, venue=form.venue.data or "",
        online_link=form.online_link.data or "",
        facilitator_id=form.facilitator_id.data or None, module_ids=form.module_ids.data or [],
        activities=form.activities.data or [], is_core=bool(form.is_core.data))


@bp.route("/<id:cohort_id>/sessions/new", methods=["GET", "POST"])
@bp.route("/<id:cohort_id>/sessions/<id:session_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_session(cohort_id: int, session_id: int | None = None):
    found = _cohort(cohort_id)
    session = db_session()
    item = _session_of(found, session_id) if session_id else None
    form = SessionForm(obj=item if (item and request.method == "GET") else None)
    _session_form_choices(form, found, item)
    if item and request.method == "GET":
        form.module_ids.data = item.module_ids
        form.facilitator_id.data = item.facilitator_id or 0
    status = 200
    if form.validate_on_submit():
        try:
            if item is None:
                agenda.add_session(session, found, _session_input(form))
            else:
                agenda.update_session(session, item, _session_input(form))
        except agenda.AgendaError as exc:
            session.rollback()
            for name, message in exc.problems.items():
                getattr(form, name).errors.append(message)
            status = 422
        else:
            session.commit()
            flash(_("Session saved."), "success")
            return redirect(url_for("lms_trainer.cohort_agenda", cohort_id=found.id))
    elif request.method == "POST":
        status = 422
    return render_template("lms/trainer/session_form.html", form=form, cohort=found,
                           item=item), status


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/move", methods=["POST"])
@roles_required(*STAFF)
def move_session(cohort_id: int, session_id: int):
    found = _cohort(cohort_id)
    item = _session_of(found, session_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400, description=_("Move a session up or down."))
    agenda.move_session(db_session(), item, -1 if direction == "up" else 1)
    db_session().commit()
    return redirect(url_for("lms_trainer.cohort_agenda", cohort_id=found.id))


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/cancel", methods=["POST"])
@roles_required(*STAFF)
def cancel_session(cohort_id: int, session_id: int):
    found = _cohort(cohort_id)
    item = _session_of(found, session_id)
    form = CancelForm()
    try:
        agenda.cancel_session(db_session(), item, form.reason.data or "", by=current_person())
    except agenda.AgendaError as exc:
        db_session().rollback()
        flash(str(exc.problems.get("reason")), "error")
    else:
        db_session().commit()
        flash(_("“%(title)s” is cancelled. Its history is kept.", title=item.title), "success")
    return redirect(url_for("lms_trainer.cohort_agenda", cohort_id=found.id))


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/reinstate", methods=["POST"])
@roles_required(*STAFF)
def reinstate_session(cohort_id: int, session_id: int):
    found = _cohort(cohort_id)
    try:
        agenda.reinstate_session(db_session(), _session_of(found, session_id),
                                 by=current_person())
    except agenda.AgendaError as exc:
        db_session().rollback()
        flash(str(exc.problems.get("reason")), "error")
    else:
        db_session().commit()
    return redirect(url_for("lms_trainer.cohort_agenda", cohort_id=found.id))


@bp.route("/<id:cohort_id>/agenda/copy", methods=["GET", "POST"])
@roles_required(*STAFF)
def copy_agenda(cohort_id: int):
    found = _cohort(cohort_id)
    session = db_session()
    me = current_person()
    form = CopyAgendaForm()
    form.source_id.choices = choices((c.id, c.name) for c in cohorts.cohorts_for(session, me)
                                     if c.id != found.id)
    status = 200
    if form.validate_on_submit():
        source = session.get(Cohort, form.source_id.data)
        if source is None or not cohorts.can_manage(me, source):
            abort(403, description=_("You can copy only from your own cohorts."))
        try:
            copies = agenda.copy_agenda(session, source, found, form.first_date.data)
        except agenda.AgendaError as exc:
            session.rollback()
            form.source_id.errors.append("; ".join(exc.problems.values()))
            status = 422
        else:
            session.commit()
            flash(_("%(n)d sessions copied.", n=len(copies)), "success")
            return redirect(url_for("lms_trainer.cohort_agenda", cohort_id=found.id))
    elif request.method == "POST":
        status = 422
    return render_template("lms/trainer/copy_agenda.html", form=form, cohort=found), status


@bp.route("/<id:cohort_id>/agenda/print")
@roles_required(*STAFF)
def print_agenda(cohort_id: int):
    found = _cohort(cohort_id)
    return render_template("lms/agenda_print.html", cohort=found,
                           sessions=agenda.agenda(db_session(), found.id))


@bp.route("/<id:cohort_id>/agenda/feed", methods=["POST"])
@roles_required(*STAFF)
def cohort_calendar_feed(cohort_id: int):
    found = _cohort(cohort_id)
    calendar_feeds.cohort_token(db_session(), found, renew=True)
    db_session().commit()
    flash(_("The cohort's calendar link is ready. Any earlier link no longer works."), "success")
    return redirect(url_for("lms_trainer.cohort_agenda", cohort_id=found.id))


@bp.route("/<id:cohort_id>/agenda.ics")
@roles_required(*STAFF)
def agenda_ics(cohort_id: int):
    found = _cohort(cohort_id)
    return ics_response(agenda.agenda(db_session(), found.id), found.name,
                        f"cohort-{found.id}.ics")


def ics_response(sessions, name: str, filename: str) -> Response:
    body = agenda.calendar(sessions, name, host=request.host.split(":")[0] or "lms")
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- attendance -----------------------------------------------------------------------------


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/register", methods=["GET", "POST"])
@roles_required(*STAFF)
def session_register(cohort_id: int, session_id: int):
    found = _cohort(cohort_id)
    item = _session_of(found, session_id)
    session = db_session()
    rows = attendance.register(session, item)
    problems: dict[int, str] = {}
    submitted: dict[int, tuple[str, str]] = {}
    reason = ""
    if request.method == "POST":
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
    status_code = 422 if problems else 200
    return render_template("lms/trainer/register.html", cohort=found, item=item, rows=rows,
                           statuses=STATUSES, labels=attendance.STATUS_LABELS,
                           problems=problems, submitted=submitted, reason=reason,
                           has_register=attendance.has_register(item),
                           partial=attendance.PARTIAL), status_code


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/history")
@roles_required(*STAFF)
def register_history(cohort_id: int, session_id: int):
    found = _cohort(cohort_id)
    item = _session_of(found, session_id)
    return render_template("lms/trainer/register_history.html", cohort=found, item=item,
                           changes=attendance.history(db_session(), item),
                           labels=attendance.STATUS_LABELS)


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/make-up", methods=["GET", "POST"])
@roles_required(*STAFF)
def make_up(cohort_id: int, session_id: int):
    found = _cohort(cohort_id)
    item = _session_of(found, session_id)
    session = db_session()
    form = MakeUpForm()
    form.person_id.choices = choices((r.person.id, r.person.name)
                                     for r in attendance.register(session, item))
    candidates = attendance.make_up_candidates(session, item)
    form.via_session_id.choices = choices(
        [(0, _("— none: record an activity instead —"))] +
        [(s.id, f"{s.cohort.name}: {s.title} ({s.on_date.isoformat()})") for s in candidates])
    status = 200
    problems: dict[int, str] = {}
    if form.validate_on_submit():
        person = session.get(Person, form.person_id.data)
        via = session.get(TrainingSession, form.via_session_id.data) \
            if form.via_session_id.data else None
        try:
            attendance.record_make_up(session, person, item, recorder=current_person(), via=via,
                                      activity=form.activity.data or "",
                                      minutes=form.minutes.data)
        except attendance.AttendanceError as exc:
            session.rollback()
            problems = exc.problems
            status = 422
        else:
            session.commit()
            flash(_("Make-up recorded for %(name)s.", name=person.name), "success")
            return redirect(url_for("lms_trainer.session_register", cohort_id=found.id,
                                    session_id=item.id))
    elif request.method == "POST":
        status = 422
    return render_template("lms/trainer/make_up.html", cohort=found, item=item, form=form,
                           problems=problems), status


# --- the grid, statistics and feedback -----------------------------------------------------


@bp.route("/<id:cohort_id>/grid")
@roles_required(*STAFF)
def grid(cohort_id: int):
    found = _cohort(cohort_id)
    sort = request.args.get("sort", "name")
    if sort not in cohort_grid.SORTS:
        sort = "name"
    only_behind = request.args.get("show") == "behind"
    result = cohort_grid.cohort_grid(
        db_session(), found, sort=sort, only_behind=only_behind,
        behind_below=float(current_app.config["LMS_BEHIND_ATTENDANCE_PERCENT"]))
    return render_template("lms/trainer/grid.html", cohort=found, grid=result, sort=sort,
                           only_behind=only_behind)


@bp.route("/<id:cohort_id>/grid.csv")
@roles_required(*STAFF)
def grid_csv(cohort_id: int):
    found = _cohort(cohort_id)
    result = cohort_grid.cohort_grid(
        db_session(), found,
        behind_below=float(current_app.config["LMS_BEHIND_ATTENDANCE_PERCENT"]))
    return Response(cohort_grid.grid_csv(result), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="cohort-{found.id}-grid.csv"'})


@bp.route("/<id:cohort_id>/statistics/<slug>")
@roles_required(*STAFF)
def cohort_statistics(cohort_id: int, slug: str):
    found = _cohort(cohort_id)
    return _statistics(slug, found)


@bp.route("/statistics/<slug>")
@roles_required(ADMIN)
def statistics(slug: str):
    """Over every cohort: admins only, since a trainer sees only their own cohorts' trainees."""
    return _statistics(slug, None)


def _statistics(slug: str, cohort: Cohort | None):
    session = db_session()
    module = session.scalar(select(Module).where(Module.slug == slug))
    if module is None or module.quiz is None:
        abort(404, description=_("There is no quiz for that module."))
    if cohort is not None and module.curriculum_id != cohort.curriculum_id:
        abort(404, description=_("That quiz is not part of this cohort's curriculum."))
    first_only = request.args.get("attempts") != "all"
    result = item_statistics.quiz_statistics(session, module.quiz,
                                             cohort_id=cohort.id if cohort else None,
                                             first_only=first_only)
    return render_template("lms/trainer/statistics.html", cohort=cohort, module=module,
                           stats=result, minimum=item_statistics.MIN_ATTEMPTS_FOR_FLAGS)


@bp.route("/<id:cohort_id>/feedback")
@roles_required(*STAFF)
def cohort_feedback(cohort_id: int):
    found = _cohort(cohort_id)
    session = db_session()
    return render_template("lms/trainer/feedback.html", cohort=found,
                           sessions=agenda.agenda(session, found.id),
                           ratings=feedback.per_session(session, found.id),
                           facilitators=feedback.per_facilitator(session, found.id),
                           comments=feedback.comments(session, found.id))
