"""Admin pages: people, their roles, their accounts' log-in links."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from lms.forms.people import PersonEditForm, PersonForm
from lms.models import Cohort, Person
from lms.models.people import ADMIN
from lms.services import accounts, audit, cohorts, invitations
from lms.web import programme
from lms.web.access import current_person, db_session, roles_required
from lms.web.blueprint import make_blueprint
from lms.web.form_handling import handle_post
from lms.web.invitation_links import link_url, mail_plan, send_after, valid_for

bp = make_blueprint("lms_admin", __name__, url_prefix="/admin")
PER_PAGE = 50


def _cohort_choices(session) -> list[SelectChoice]:
    return [SelectChoice(0, _("— none —"))] + [
        SelectChoice(c.id, c.name) for c in cohorts.list_cohorts(session)]


def _person(person_id: int) -> Person:
    person = db_session().get(Person, person_id)
    if person is None:
        abort(404, description=_("There is no such person."))
    return person


@bp.route("/people")
@roles_required(ADMIN)
def people():
    query = request.args.get("q", "")[:200]
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    found = accounts.search_people(db_session(), query, page=page, per_page=PER_PAGE)
    return render_template("lms/admin/people.html", page=found, people=found.people, q=query)


@bp.route("/people/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def new_person():
    session = db_session()
    form = PersonForm()
    form.cohort_id.choices = _cohort_choices(session)
    links: list[invitations.IssuedLink] = []

    def create() -> Person:
        person = accounts.create_person(session, email=form.email.data, name=form.name.data,
                                        password=None, roles=form.roles.data)
        _enrol_if_chosen(session, person, form.cohort_id.data)
        lifetime = valid_for(invitations.INVITE)
        if lifetime is not None:  # a host app's users log in through the host: no link
            links.extend(invitations.issue(session, [person], purpose=invitations.INVITE,
                                           valid_for=lifetime, created_by=current_person()))
        return person

    outcome = handle_post(form, create)
    if outcome.done and not links:
        flash(_("%(name)s was added. They use the training pages through your site's own "
                "log-in.", name=outcome.result.name), "success")
        return redirect(url_for("lms_admin.people"))
    if outcome.done:
        # The link is shown once, here: only its hash is stored.
        return _link_page(outcome.result, links, invitations.INVITE, new=True)
    return render_template("lms/admin/person_new.html", form=form), outcome.status


@bp.route("/people/<id:person_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_person(person_id: int):
    session = db_session()
    person = _person(person_id)
    form = PersonEditForm(obj=person if request.method == "GET" else None)
    form.cohort_id.choices = _cohort_choices(session)
    if request.method == "GET":
        form.roles.data = sorted(person.roles)
    if request.method == "POST" and person.active and not request.form.get("active") and \
            not request.form.get("confirm_switch_off") and form.validate_on_submit():
        # Switching an account off is confirmed on a page of its own (no JavaScript needed).
        # A typed password is never written back into a page: it is asked for again.
        return render_template("lms/admin/confirm_switch_off.html", person=person,
                               dropped_password=bool(request.form.get("new_password")),
                               fields=[(k, v) for k, vs in request.form.lists() for v in vs
                                       if k != "new_password"])

    def save() -> None:
        accounts.update_person(session, current_person(), person, name=form.name.data,
                               email=form.email.data, roles=form.roles.data or [],
                               active=bool(form.active.data),
                               new_password=form.new_password.data or None)
        _enrol_if_chosen(session, person, form.cohort_id.data)

    outcome = handle_post(form, save, success=_("Saved."),
                          redirect_to=url_for("lms_admin.people"))
    if outcome.done:
        return outcome.response
    return render_template("lms/admin/person_edit.html", form=form, person=person,
                           enrolments=cohorts.enrolments_of(session, person.id)), outcome.status


@bp.route("/people/<id:person_id>/link", methods=["POST"])
@roles_required(ADMIN)
def new_link(person_id: int):
    """A new log-in link for someone who forgot their password (or lost their invitation).
    Their older unused links stop working."""
    if valid_for(invitations.INVITE) is None:
        abort(404, description=_("People log in through the host application."))
    session = db_session()
    person = _person(person_id)
    if not person.active:
        flash(_("Switch the account on first."), "error")
        return redirect(url_for("lms_admin.edit_person", person_id=person.id))
    purpose = invitations.RESET if person.password_hash else invitations.INVITE
    links = invitations.issue(session, [person], purpose=purpose, valid_for=valid_for(purpose),
                              created_by=current_person())
    audit.record(session, current_person().id, audit.PASSWORD_RESET, "person", person.id,
                 person.id, {"by": "link", "purpose": purpose})
    session.commit()
    return _link_page(person, links, purpose, new=False)


def _link_page(person: Person, links: list[invitations.IssuedLink], purpose: str, *,
               new: bool):
    """The link, shown once; mailed after the page has gone when mail is set up. The page is
    never kept in a browser's or proxy's cache."""
    messages = mail_plan(links, purpose)
    response = make_response(render_template(
        "lms/admin/link_issued.html", person=person, links=links,
        url=link_url(links[0].token), mailed=len(messages), new=new))
    response.headers["Cache-Control"] = "no-store"
    return send_after(response, messages)


def _enrol_if_chosen(session, person: Person, cohort_id: int | None) -> None:
    if not cohort_id:
        return
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise accounts.AccountError(_("There is no such cohort."), "cohort_id")
    cohorts.enrol(session, cohort, person, supervision_day=programme.today())


# The audit log's and the API tokens' pages, on this blueprint.
from lms.web import api_clients, audit_log  # noqa: E402,F401
