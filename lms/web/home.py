"""The landing page: trainees go to their dashboard, supervisors to their supervisees, trainers
and admins to their cohorts; anyone else sees the curricula."""

from __future__ import annotations

from flask import redirect, render_template, url_for

from lms.models.people import ADMIN, SUPERVISOR, TRAINEE, TRAINER
from lms.services import progress
from lms.web.access import current_person, db_session, login_required
from lms.web.blueprint import make_blueprint

bp = make_blueprint("lms_home", __name__)


@bp.route("/")
@login_required
def index():
    person = current_person()
    if person.roles == {TRAINEE}:
        return redirect(url_for("lms_trainee.dashboard"))
    if person.has_role(SUPERVISOR):
        return redirect(url_for("lms_supervisor.dashboard"))
    if person.has_role(TRAINER, ADMIN):
        return redirect(url_for("lms_trainer.list_cohorts"))
    return redirect(url_for("lms_home.curricula"))


@bp.route("/curricula")
@login_required
def curricula():
    """Every curriculum and its modules: staff preview content here; trainees see theirs too."""
    person = current_person()
    items = progress.visible_curricula(db_session(), person.id,
                                       staff=person.has_role(TRAINER, SUPERVISOR, ADMIN))
    return render_template("lms/home/curricula.html", curricula=items, person=person)
