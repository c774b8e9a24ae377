"""Who supervises the cohort's trainees: the cohort's default supervisor, each trainee's own,
and the history of both. Trainers see that a trainee checked in, never the scores or notes."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from lms.models import Person
from lms.models.people import SUPERVISOR
from lms.services import agenda, check_ins, cohorts, supervisors
from lms.services.errors import ServiceError
from lms.web import programme
from lms.web.access import current_person, db_session, roles_required
from lms.web.blueprint import as_id
from lms.web.trainer import STAFF, bp, managed_cohort

UNREADABLE = -1


def _chosen(name: str) -> int | None:
    """A select's value: a person's id, None for "nobody", UNREADABLE for anything else."""
    raw = request.form.get(name, "")
    if raw in ("", "0"):
        return None
    found = as_id(raw)
    return UNREADABLE if found is None else found


def _saved(count: int) -> str:
    if count == 0:
        return _("Nothing changed: those were already the supervisors.")
    return ngettext("Saved: %(num)d trainee has a new supervisor from today.",
                    "Saved: %(num)d trainees have a new supervisor from today.", count)


@bp.route("/<id:cohort_id>/supervisors", methods=["GET", "POST"])
@roles_required(*STAFF)
def cohort_supervisors(cohort_id: int):
    cohort = managed_cohort(cohort_id)
    session = db_session()
    today = programme.today()
    enrolments = [e for e in cohorts.enrolments(session, cohort.id) if not e.is_withdrawn]
    problems: dict = {}
    if request.method == "POST":
        try:
            if request.form.get("form") == "default":
                chosen = _chosen("default_supervisor")
                supervisor = session.get(Person, chosen) if chosen else None
                if chosen and supervisor is None:
                    raise supervisors.SupervisorError(_("Choose a supervisor from the list."),
                                                      "default_supervisor")
                changed = supervisors.set_cohort_supervisor(session, cohort, supervisor,
                                                            on=today, by=current_person())
            else:
                changed = supervisors.assign_in_cohort(
                    session, cohort, {e.person_id: _chosen(f"supervisor-{e.person_id}")
                                      for e in enrolments}, on=today, by=current_person())
        except ServiceError as error:
            session.rollback()
            default_form = request.form.get("form") == "default"
            # Errors about "the supervisor" belong to the select the trainer used.
            problems = {("default_supervisor" if default_form and key in (None, "supervisor_id")
                         else key): message for key, message in error.problems.items()}
        else:
            session.commit()
            flash(_saved(changed), "success")
            return redirect(url_for("lms_trainer.cohort_supervisors", cohort_id=cohort.id))
    ids = [e.person_id for e in enrolments]
    page = render_template(
        "lms/trainer/supervisors.html", cohort=cohort, enrolments=enrolments,
        current=supervisors.current_supervisor_ids(session, ids, today),
        histories=supervisors.histories(session, ids),
        last_check_in=check_ins.last_check_in_dates(session, ids, programme.zone()),
        candidates=agenda.people_with_roles(session, (SUPERVISOR,)),
        problems=problems, submitted=request.form, today=today)
    return page, (400 if problems else 200)
