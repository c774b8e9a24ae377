"""What is left before the trainee can be deployed, and the agreements they sign.

Readiness comes from ``lms.services.readiness`` (the same answer the supervisor, the trainer's
grid and the dashboard see); signing from ``lms.services.agreements``. Only ever the signed-in
trainee's own: an agreement of another programme, an old version or an unknown id is a 404.
"""

from __future__ import annotations

from flask import abort, current_app, render_template, url_for
from flask_babel import gettext as _

from lms.forms.agreements import SignAgreementForm
from lms.models.people import TRAINEE
from lms.services import agreements, readiness
from lms.web.access import current_person, db_session, roles_required
from lms.web.form_handling import handle_post
from lms.web.programme import today
from lms.web.trainee import bp

CERTIFICATES_ENDPOINT = "lms_trainee.my_certificates"


def certificates_url() -> str | None:
    """The trainee's certificates page, if this installation has it."""
    if CERTIFICATES_ENDPOINT in current_app.view_functions:
        return url_for(CERTIFICATES_ENDPOINT)
    return None


@bp.route("/my/readiness")
@roles_required(TRAINEE)
def my_readiness():
    session = db_session()
    person = current_person()
    rows = readiness.trainee_readiness(session, person.id, today=today())
    # The signing page of each current agreement, to link "Read and sign ..." to it.
    agreement_ids = {(a.curriculum_id, a.key): a.id
                     for a, _signature, _state in agreements.current_for(session, person.id)}
    return render_template("lms/trainee/readiness.html", rows=rows,
                           agreement_ids=agreement_ids, certificates_url=certificates_url())


@bp.route("/my/agreements/<id:agreement_id>", methods=["GET", "POST"])
@roles_required(TRAINEE)
def agreement(agreement_id: int):
    """GET shows the text and, unless this version is signed, the form; POST signs it."""
    session = db_session()
    person = current_person()
    found = agreements.agreement_for(session, person.id, agreement_id)
    if found is None:
        abort(404, description=_("There is no such agreement in your training."))
    form = SignAgreementForm()
    outcome = handle_post(
        form, lambda: agreements.sign(session, person, found, form.typed_name.data or ""),
        success=_("You signed the %(title)s (version %(number)d).", title=found.title,
                  number=found.number),
        redirect_to=url_for("lms_trainee.my_readiness"))
    if outcome.done:
        return outcome.response
    return render_template(
        "lms/trainee/agreement.html", agreement=found, form=form,
        signature=agreements.signature_of(session, person.id, found),
        earlier=agreements.latest_signature(session, person.id, found)), outcome.status
