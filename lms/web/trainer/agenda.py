"""The training agenda: sessions, their order, cancellation, copying, print and calendars."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.forms.choices import choices
from lms.forms.cohorts import CancelForm, CopyAgendaForm, SessionForm
from lms.models import TrainingSession
from lms.services import agenda, attendance, calendar_feeds, catalogue, cohorts, feedback
from lms.web.access import current_person, db_session, roles_required
from lms.web.addresses import external_url
from lms.web.calendar import ics_response
from lms.web.form_handling import handle_post, run_action
from lms.web.trainer import STAFF, bp, managed_cohort, session_in


def _agenda_url(cohort_id: int) -> str:
    return url_for("lms_trainer.cohort_agenda", cohort_id=cohort_id)


@bp.route("/<id:cohort_id>/agenda")
@roles_required(*STAFF)
def cohort_agenda(cohort_id: int):
    found = managed_cohort(cohort_id)
    session = db_session()
    sessions = agenda.agenda(session, found.id)
    return render_template("lms/trainer/agenda.html", cohort=found, sessions=sessions,
                           ratings=feedback.per_session(session, found.id),
                           registers={s.id for s in sessions if attendance.has_register(s)},
                           feed_url=external_url("lms_calendar.feed",
                                                 token=found.calendar_token)
                           if found.calendar_token else None,
                           cancel_form=CancelForm())


def _session_form_choices(form: SessionForm, cohort, item: TrainingSession | None) -> None:
    session = db_session()
    keep = item.facilitator_id if item else None
    form.facilitator_id.choices = choices(
        [(0, _("— none —"))] +
        [(p.id, p.name) for p in agenda.facilitator_choices(session, keep=keep)])
    form.module_ids.choices = choices(
        (m.id, m.title) for m in catalogue.live_modules(session, cohort.curriculum_id))


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
    found = managed_cohort(cohort_id)
    session = db_session()
    item = session_in(found, session_id) if session_id else None
    form = SessionForm(obj=item if (item and request.method == "GET") else None)
    _session_form_choices(form, found, item)
    if item and request.method == "GET":
        form.module_ids.data = item.module_ids
        form.facilitator_id.data = item.facilitator_id or 0

    def save() -> TrainingSession:
        if item is None:
            return agenda.add_session(session, found, _session_input(form))
        agenda.update_session(session, item, _session_input(form), by=current_person())
        return item

    outcome = handle_post(form, save, success=_("Session saved."),
                          redirect_to=_agenda_url(found.id))
    if outcome.done:
        return outcome.response
    return render_template("lms/trainer/session_form.html", form=form, cohort=found,
                           item=item), outcome.status


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/move", methods=["POST"])
@roles_required(*STAFF)
def move_session(cohort_id: int, session_id: int):
    found = managed_cohort(cohort_id)
    item = session_in(found, session_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400, description=_("Move a session up or down."))
    run_action(lambda: agenda.move_session(db_session(), item, -1 if direction == "up" else 1,
                                           by=current_person()),
               success=lambda moved: _("“%(a)s” and “%(b)s” swapped dates and times.",
                                       a=item.title, b=moved.title) if moved else None)
    return redirect(_agenda_url(found.id))


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/cancel", methods=["GET", "POST"])
@roles_required(*STAFF)
def cancel_session(cohort_id: int, session_id: int):
    """A page of its own: cancelling asks for a reason, and works without JavaScript."""
    found = managed_cohort(cohort_id)
    item = session_in(found, session_id)
    form = CancelForm()
    outcome = handle_post(
        form, lambda: agenda.cancel_session(db_session(), item, form.reason.data or "",
                                            by=current_person()),
        success=_("“%(title)s” is cancelled. Its history is kept.", title=item.title),
        redirect_to=_agenda_url(found.id))
    if outcome.done:
        return outcome.response
    return render_template("lms/trainer/cancel_session.html", form=form, cohort=found,
                           item=item), outcome.status


@bp.route("/<id:cohort_id>/sessions/<id:session_id>/reinstate", methods=["POST"])
@roles_required(*STAFF)
def reinstate_session(cohort_id: int, session_id: int):
    found = managed_cohort(cohort_id)
    item = session_in(found, session_id)
    run_action(lambda: agenda.reinstate_session(db_session(), item, by=current_person()))
    return redirect(_agenda_url(found.id))


@bp.route("/<id:cohort_id>/agenda/copy", methods=["GET", "POST"])
@roles_required(*STAFF)
def copy_agenda(cohort_id: int):
    found = managed_cohort(cohort_id)
    session = db_session()
    me = current_person()
    form = CopyAgendaForm()
    mine = {c.id: c for c in cohorts.cohorts_for(session, me) if c.id != found.id}
    form.source_id.choices = choices((c.id, c.name) for c in mine.values())

    def copy():
        source = mine.get(form.source_id.data)
        if source is None:
            abort(403, description=_("You can copy only from your own cohorts."))
        return agenda.copy_agenda(session, source, found, form.first_date.data)

    outcome = handle_post(form, copy,
                          success=lambda copies: _("%(n)d sessions copied.", n=len(copies)),
                          redirect_to=_agenda_url(found.id))
    if outcome.done:
        return outcome.response
    return render_template("lms/trainer/copy_agenda.html", form=form, cohort=found), \
        outcome.status


@bp.route("/<id:cohort_id>/agenda/print")
@roles_required(*STAFF)
def print_agenda(cohort_id: int):
    found = managed_cohort(cohort_id)
    return render_template("lms/agenda_print.html", cohort=found,
                           sessions=agenda.agenda(db_session(), found.id))


@bp.route("/<id:cohort_id>/agenda/feed", methods=["POST"])
@roles_required(*STAFF)
def cohort_calendar_feed(cohort_id: int):
    found = managed_cohort(cohort_id)
    calendar_feeds.cohort_token(db_session(), found, renew=True)
    db_session().commit()
    flash(_("The cohort's calendar link is ready. Any earlier link no longer works."), "success")
    return redirect(_agenda_url(found.id))


@bp.route("/<id:cohort_id>/agenda.ics")
@roles_required(*STAFF)
def agenda_ics(cohort_id: int):
    found = managed_cohort(cohort_id)
    return ics_response(agenda.agenda(db_session(), found.id), found.name,
                        f"cohort-{found.id}.ics")
