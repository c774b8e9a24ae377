"""Admins issue, list and revoke the JSON API's tokens (on the admin blueprint)."""

from __future__ import annotations

from flask import abort, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lms.forms.api_clients import ApiClientForm, RevokeApiClientForm
from lms.models import Curriculum
from lms.models.people import ADMIN
from lms.services import api_clients, audit
from lms.web.access import current_person, db_session, roles_required
from lms.web.admin import bp
from lms.web.form_handling import handle_post


def _form() -> ApiClientForm:
    form = ApiClientForm()
    form.curriculum_id.choices = [(0, _("Every programme"))] + [
        (c.id, c.title) for c in db_session().scalars(
            select(Curriculum).order_by(Curriculum.title, Curriculum.id))]
    return form


@bp.route("/api-clients", methods=["GET", "POST"])
@roles_required(ADMIN)
def api_clients_page():
    session = db_session()
    form = _form()

    def issue():
        client, token = api_clients.issue(session, name=form.name.data,
                                          curriculum_id=form.curriculum_id.data or None,
                                          by=current_person())
        audit.record(session, current_person().id, audit.API_CLIENT, "api_client", client.id,
                     detail={"issued": client.name, "curriculum_id": client.curriculum_id})
        return client, token

    outcome = handle_post(form, issue)
    if outcome.done:
        client, token = outcome.result
        # The token is shown once, here: only its hash is kept.
        response = make_response(render_template("lms/admin/api_token_issued.html",
                                                 client=client, token=token))
        response.headers["Cache-Control"] = "no-store"
        return response
    return render_template("lms/admin/api_clients.html", form=form,
                           clients=api_clients.clients(session),
                           revoke_form=RevokeApiClientForm()), outcome.status


@bp.route("/api-clients/<id:client_id>/revoke", methods=["POST"])
@roles_required(ADMIN)
def revoke_api_client(client_id: int):
    session = db_session()
    form = RevokeApiClientForm()

    def revoke():
        client = api_clients.revoke(session, client_id, current_person())
        if client is None:
            abort(404)
        audit.record(session, current_person().id, audit.API_CLIENT, "api_client", client.id,
                     detail={"revoked": client.name})
        return client

    outcome = handle_post(form, revoke, success=lambda c: _(
        "The token of %(name)s no longer works.", name=c.name),
        redirect_to=url_for("lms_admin.api_clients_page"))
    return outcome.response if outcome.done else redirect(url_for("lms_admin.api_clients_page"))
