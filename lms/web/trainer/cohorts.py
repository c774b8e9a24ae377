"""Cohorts and enrolment (one by one or from a CSV file)."""

from __future__ import annotations

from flask import Response, abort, make_response, render_template, request, url_for
from flask_babel import gettext as _

from lms.forms.choices import choices
from lms.forms.cohorts import CohortForm, EnrolCsvForm, EnrolOneForm
from lms.models import Cohort
from lms.models.people import SUPERVISOR, TRAINER
from lms.services import (
    accounts,
    agenda,
    audit,
    catalogue,
    cohorts,
    invitations,
    supervisors,
    time_zones,
)
from lms.services.errors import ServiceError
from lms.web import programme
from lms.web.access import current_person, db_session, roles_required
from lms.web.form_handling import add_errors, handle_post
from lms.web.invitation_links import link_url, mail_plan, send_after, valid_for
from lms.web.trainer import STAFF, bp, managed_cohort


@bp.route("")
@roles_required(*STAFF)
def list_cohorts():
    return render_template("lms/trainer/cohorts.html",
                           cohorts=cohorts.cohorts_for(db_session(), current_person()))


def _cohort_form_choices(form: CohortForm, cohort: Cohort | None = None) -> None:
    session = db_session()
    trainers = cohorts.staff_ids(cohort, TRAINER) if cohort else []
    supervisors = cohorts.staff_ids(cohort, SUPERVISOR) if cohort else []
    form.curriculum_id.choices = choices((c.id, c.title) for c in catalogue.curricula(session))
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

    def create() -> Cohort:
        return cohorts.create_cohort(
            session, name=form.name.data, curriculum_id=form.curriculum_id.data,
            starts_on=form.starts_on.data, ends_on=form.ends_on.data,
            timezone=form.timezone.data,
            trainers=accounts.people_by_ids(session, form.trainers.data),
            supervisors=accounts.people_by_ids(session, form.supervisors.data), actor=me)

    outcome = handle_post(
        form, create, success=_("Cohort created. Now enrol trainees and build the agenda."),
        redirect_to=lambda cohort: url_for("lms_trainer.cohort", cohort_id=cohort.id))
    if outcome.done:
        return outcome.response
    return render_template("lms/trainer/cohort_form.html", form=form, cohort=None,
                           zones=time_zones.offered_zones()), \
        outcome.status


def _supervisor_choices(cohort: Cohort):
    staff = set(cohorts.staff_ids(cohort, SUPERVISOR))
    people = agenda.people_with_roles(db_session(), (SUPERVISOR,))
    people.sort(key=lambda p: (p.id not in staff, p.name))
    return choices([(0, _("— none —"))] + [(p.id, p.name) for p in people])


def _cohort_page(cohort: Cohort, *, one: EnrolOneForm | None = None,
                 csv_form: EnrolCsvForm | None = None, csv_errors=(), status: int = 200):
    if one is None:
        one = EnrolOneForm(prefix="one", formdata=None)
    one.supervisor_id.choices = _supervisor_choices(cohort)
    session = db_session()
    enrolments = cohorts.enrolments(session, cohort.id)
    supervised_by = supervisors.current_supervisors(
        session, [e.person_id for e in enrolments], programme.today())
    return render_template("lms/trainer/cohort.html", cohort=cohort, enrolments=enrolments,
                           supervised_by=supervised_by,
                           awaiting=len(invitations.awaiting_in_cohort(db_session(),
                                                                       cohort.id)),
                           one=one, csv_form=csv_form or EnrolCsvForm(prefix="csv",
                                                                      formdata=None),
                           csv_errors=list(csv_errors)), status


@bp.route("/<id:cohort_id>")
@roles_required(*STAFF)
def cohort(cohort_id: int):
    return _cohort_page(managed_cohort(cohort_id))


@bp.route("/<id:cohort_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_cohort(cohort_id: int):
    found = managed_cohort(cohort_id)
    session = db_session()
    form = CohortForm(obj=found if request.method == "GET" else None)
    _cohort_form_choices(form, found)
    form.curriculum_id.data = found.curriculum_id  # a cohort keeps its curriculum
    if request.method == "GET":
        form.trainers.data = cohorts.staff_ids(found, TRAINER)
        form.supervisors.data = cohorts.staff_ids(found, SUPERVISOR)

    def save() -> None:
        cohorts.update_cohort(session, found, name=form.name.data,
                              starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                              timezone=form.timezone.data)
        cohorts.set_staff(session, found,
                          trainers=accounts.people_by_ids(session, form.trainers.data),
                          supervisors=accounts.people_by_ids(session, form.supervisors.data),
                          actor=current_person())

    outcome = handle_post(form, save, success=_("Saved."),
                          redirect_to=url_for("lms_trainer.cohort", cohort_id=found.id))
    if outcome.done:
        return outcome.response
    return render_template("lms/trainer/cohort_form.html", form=form, cohort=found,
                           zones=time_zones.offered_zones()), \
        outcome.status


@bp.route("/<id:cohort_id>/enrol", methods=["POST"])
@roles_required(*STAFF)
def enrol_one(cohort_id: int):
    found = managed_cohort(cohort_id)
    session = db_session()
    one = EnrolOneForm(prefix="one")
    one.supervisor_id.choices = _supervisor_choices(found)
    values = dict(name=one.name.data or "", email=one.email.data or "",
                  supervisor_id=one.supervisor_id.data or None, on=one.enrolled_on.data,
                  backdate_reason=one.backdate_reason.data or "", actor=current_person())
    if not one.validate_on_submit():
        # The form's own checks failed: add the service's, so every problem shows at once.
        problems = cohorts.enrol_one_problems(session, found, **values)
        add_errors(one, cohorts.CohortError(problems={
            k: v for k, v in problems.items() if not getattr(one, k).errors}))
        return _cohort_page(found, one=one, status=422)
    try:
        result = cohorts.enrol_one(session, found, valid_for=valid_for(invitations.INVITE),
                                   supervision_day=programme.today(), **values)
    except ServiceError as exc:
        # Also EnrolmentErrors (the same address enrolled by a second click at the same
        # moment) and a supervisor changed by someone else meanwhile.
        session.rollback()
        add_errors(one, exc)
        return _cohort_page(found, one=one, status=422)
    session.commit()
    return _after_enrolment(found, result)


@bp.route("/<id:cohort_id>/enrol-csv", methods=["POST"])
@roles_required(*STAFF)
def enrol_csv(cohort_id: int):
    found = managed_cohort(cohort_id)
    session = db_session()
    csv_form = EnrolCsvForm(prefix="csv")
    errors: list[tuple[int, str]] = []
    if csv_form.validate_on_submit():
        try:
            result = cohorts.enrol_csv(
                session, found, csv_form.file.data.read(cohorts.MAX_CSV_BYTES + 1),
                csv_form.enrolled_on.data, backdate_reason=csv_form.backdate_reason.data or "",
                actor=current_person(), valid_for=valid_for(invitations.INVITE),
                supervision_day=programme.today())
        except cohorts.EnrolmentErrors as exc:
            session.rollback()
            errors = exc.errors
            add_errors(csv_form, cohorts.CohortError(problems={
                k: v for k, v in exc.problems.items() if k is not None}))
        except ServiceError as exc:  # a supervisor changed by someone else meanwhile
            session.rollback()
            add_errors(csv_form, exc)
        else:
            session.commit()
            return _after_enrolment(found, result)
    return _cohort_page(found, csv_form=csv_form, csv_errors=errors, status=422)


def _after_enrolment(cohort: Cohort, result: cohorts.EnrolmentResult):
    # Invitation links are shown once, here (only their hashes are stored), and mailed when
    # mail is configured.
    messages = mail_plan(result.links, invitations.INVITE)
    response = make_response(render_template("lms/trainer/enrolled.html", cohort=cohort,
                                             result=result, mailed=len(messages),
                                             link_url=link_url))
    response.headers["Cache-Control"] = "no-store"  # live links: never kept in a cache
    return send_after(response, messages)


@bp.route("/<id:cohort_id>/invitations.csv", methods=["POST"])
@roles_required(*STAFF)
def invitation_links_csv(cohort_id: int):
    """New links for every trainee of the cohort who has not chosen a password yet, as CSV.
    Their older links stop working; people who have a password are never touched."""
    found = managed_cohort(cohort_id)
    lifetime = valid_for(invitations.INVITE)
    if lifetime is None:
        abort(404, description=_("People log in through the host application."))
    session = db_session()
    links = invitations.issue(session, invitations.awaiting_in_cohort(session, found.id),
                              purpose=invitations.INVITE, valid_for=lifetime,
                              created_by=current_person())
    text = invitations.links_csv(links, link_url)
    audit.record(session, current_person().id, audit.CSV_EXPORT, "invitation_links", found.id,
                 detail={"rows": len(links)})
    session.commit()
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="cohort-{found.id}-log-in-links.csv"',
                             "Cache-Control": "no-store"})
