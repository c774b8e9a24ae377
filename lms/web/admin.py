"""Admin pages: people and their roles."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from lms.forms.people import PersonEditForm, PersonForm
from lms.models import Cohort, Person
from lms.models._types import utcnow
from lms.models.people import ADMIN
from lms.services import accounts, cohorts
from lms.web.access import current_person, db_session, roles_required
from lms.web.blueprint import make_blueprint

bp = make_blueprint("lms_admin", __name__, url_prefix="/admin")


def _cohort_choices(session) -> list[SelectChoice]:
    return [SelectChoice(0, _("— none —"))] + [
        SelectChoice(c.id, c.name) for c in cohorts.list_cohorts(session)]


@bp.route("/people")
@roles_required(ADMIN)
def people():
    return render_template("lms/admin/people.html", people=accounts.list_people(db_session()))


@bp.route("/people/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def new_person():
    session = db_session()
    form = PersonForm()
    form.cohort_id.choices = _cohort_choices(session)
    status = 200
    if form.validate_on_submit():
        try:
            person = accounts.create_person(session, email=form.email.data, name=form.name.data,
                                            password=form.password.data, roles=form.roles.data)
            _enrol_if_chosen(session, person, form.cohort_id.data)
        except accounts.AccountError as exc:
            session.rollback()
            getattr(form, exc.field or "email").errors.append(str(exc))
            status = 422
        else:
            session.commit()
            flash(_("%(name)s can now log in.", name=person.name), "success")
            return redirect(url_for("lms_admin.people"))
    elif request.method == "POST":
        status = 422
    return render_template("lms/admin/person_new.html", form=form), status


@bp.route("/people/<id:person_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_person(person_id: int):
    session = db_session()
    person = session.get(Person, person_id)
    if person is None:
        abort(404, description=_("There is no such person."))
    form = PersonEditForm(obj=person if request.method == "GET" else None)
    form.cohort_id.choices = _cohort_choices(session)
    if request.method == "GET":
        form.roles.data = sorted(person.roles)
    status = 200
    if form.validate_on_submit():
        try:
            accounts.update_person(session, current_person(), person, name=form.name.data,
                                   roles=form.roles.data or [], active=bool(form.active.data),
                                   new_password=form.new_password.data or None)
            _enrol_if_chosen(session, person, form.cohort_id.data)
        except accounts.AccountError as exc:
            session.rollback()
            getattr(form, exc.field or "name").errors.append(str(exc))
            status = 422
        else:
            session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("lms_admin.people"))
    elif request.method == "POST":
        status = 422
    return render_template("lms/admin/person_edit.html", form=form, person=person,
                           enrolments=cohorts.enrolments_of(session, person.id)), status


def _enrol_if_chosen(session, person: Person, cohort_id: int | None) -> None:
    if not cohort_id:
        return
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise accounts.AccountError(_("There is no such cohort."), "cohort_id")
    cohorts.enrol(session, cohort, person, utcnow().date())
