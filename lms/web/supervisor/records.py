"""Supervisor pages: supervision records (new, view with history, edit, corrections) and
marking the actions agreed done. The rules are in ``lms.services.supervision``."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.forms.choices import choices
from lms.forms.supervision import (
    ActionDoneForm,
    CorrectionForm,
    EditRecordForm,
    RecordFields,
    RecordForm,
)
from lms.models import Person, SupervisionRecord
from lms.models._types import utcnow
from lms.services import supervision, supervisors
from lms.web.access import current_person, db_session, roles_required
from lms.web.form_handling import handle_post, run_action
from lms.web.programme import edit_window_days
from lms.web.supervisor import ROLES, bp, current_supervisee, today


def _record_url(record_id: int, anchor: str | None = None) -> str:
    return url_for("lms_supervisor.record", record_id=record_id, _anchor=anchor)


def readable_record(record_id: int) -> SupervisionRecord:
    """The record, if the current supervisor may read it: else 404 (no such record) or 403."""
    record = supervision.record_for(db_session(), record_id)
    if record is None:
        abort(404, description=_("There is no such supervision record."))
    if not supervision.can_read(db_session(), current_person(), record, today()):
        abort(403, description=_("This record is about people who are not your supervisees, "
                                 "and you did not write it."))
    return record


def _supervisee_choices(form: RecordFields, people: list[Person]) -> None:
    form.trainee_ids.choices = choices((p.id, p.name) for p in people)


@bp.route("/records/new", methods=["GET", "POST"])
@roles_required(*ROLES)
def new_record():
    """One form for individual and group supervision; ``?person_id=`` ticks that supervisee."""
    session = db_session()
    me = current_person()
    day = today()
    preselect = request.args.get("person_id", type=int)
    if preselect is not None:
        current_supervisee(preselect)  # 404 or 403 unless they are mine
    people = supervisors.supervisees(session, me.id, day)
    form = RecordForm()
    _supervisee_choices(form, people)
    form.set_owner_choices([(me.id, _("Me (%(name)s)", name=me.name))]
                           + [(p.id, p.name) for p in people],
                           default=preselect)
    if request.method == "GET":
        form.held_on.data = day
        if preselect is not None:
            form.trainee_ids.data = [preselect]
    outcome = handle_post(
        form, lambda: supervision.record_supervision(
            session, me, **form.record_fields(), actions=form.action_inputs(), today=day),
        success=_("Supervision recorded."),
        redirect_to=lambda record: _record_url(record.id))
    if outcome.done:
        return outcome.response
    return render_template("lms/supervisor/record_form.html", form=form, people=people,
                           preselect=preselect, record=None, today=day), outcome.status


def _render_record(record: SupervisionRecord, correction_form: CorrectionForm | None = None,
                   status: int = 200):
    session = db_session()
    me = current_person()
    day = today()
    current = supervisors.current_supervisor_ids(session, [a.trainee_id for a in record.attendees],
                                                 day)
    mine = {trainee for trainee, sup in current.items() if sup == me.id}
    supervising = bool(mine)
    editable = supervision.can_edit(record, me, utcnow(), edit_window_days(),
                                    supervising=supervising)
    correctable = supervision.can_correct(session, record, me, day)
    shown = supervision.shown_attendee_ids(session, record, me, day)
    return render_template(
        "lms/supervisor/record.html", record=record, me=me, shown=shown,
        show_private=supervision.can_see_private_note(record, me),
        history=supervision.history(session, record, viewer=me, shown=shown),
        editable=editable, correctable=correctable,
        supervising=supervising, my_supervisees=mine, today=day,
        edit_until=record.created_at + timedelta(days=edit_window_days()),
        markable={a.id for a in record.actions
                  if supervision.can_mark_action(session, a, me, day)},
        correction_form=correction_form or CorrectionForm(),
        formats=supervision.FORMATS, topics=supervision.TOPICS,
        kinds=supervision.KIND_LABELS), status


@bp.route("/records/<id:record_id>")
@roles_required(*ROLES)
def record(record_id: int):
    return _render_record(readable_record(record_id))


@bp.route("/records/<id:record_id>/edit", methods=["GET", "POST"])
@roles_required(*ROLES)
def edit_record(record_id: int):
    session = db_session()
    me = current_person()
    day = today()
    found = readable_record(record_id)
    if found.author_id != me.id:
        abort(403, description=_("Only the person who wrote this record can edit it."))
    if request.method == "GET":
        if not supervision.within_window(found.created_at, utcnow(), edit_window_days()):
            flash(_("This record can no longer be edited; add a correction instead."), "error")
            return redirect(_record_url(found.id, "correction"))
        if not supervision.supervises_attendee(session, me.id, found, day):
            flash(_("Nobody at this supervision is your supervisee any more, so the record is "
                    "read-only."), "error")
            return redirect(_record_url(found.id))
    form = EditRecordForm(obj=found if request.method == "GET" else None)
    # Current supervisees, and whoever is already on the record (they may stay on it).
    people = {p.id: p for p in supervisors.supervisees(session, me.id, day)}
    for attendee in found.attendees:
        people.setdefault(attendee.trainee_id, attendee.trainee)
    _supervisee_choices(form, sorted(people.values(), key=lambda p: (p.name, p.id)))
    if request.method == "GET":
        form.trainee_ids.data = [a.trainee_id for a in found.attendees]
    outcome = handle_post(
        form, lambda: supervision.edit_record(
            session, found, me, **form.record_fields(), now=utcnow(),
            window_days=edit_window_days(), today=day),
        success=_("Record updated. The earlier version is kept in its history."),
        redirect_to=_record_url(found.id))
    if outcome.done:
        return outcome.response
    return render_template("lms/supervisor/record_form.html", form=form, record=found,
                           people=list(people.values()), preselect=None, today=day), \
        outcome.status


@bp.route("/records/<id:record_id>/corrections", methods=["POST"])
@roles_required(*ROLES)
def add_correction(record_id: int):
    found = readable_record(record_id)
    form = CorrectionForm()
    outcome = handle_post(
        form, lambda: supervision.add_correction(db_session(), found, current_person(),
                                                 form.body.data, now=utcnow(), today=today()),
        success=_("Correction added."), redirect_to=_record_url(found.id, "history"))
    if outcome.done:
        return outcome.response
    return _render_record(supervision.record_for(db_session(), record_id), form,
                          outcome.status)


@bp.route("/actions/<id:action_id>/done", methods=["POST"])
@roles_required(*ROLES)
def action_done(action_id: int):
    session = db_session()
    action = supervision.action_for(session, action_id)
    if action is None:
        abort(404, description=_("There is no such action."))
    found = readable_record(action.supervision_id)
    form = ActionDoneForm()
    if not form.validate_on_submit() or form.marks_done is None:
        abort(400, description=_("The form has expired: go back and try again."))
    done = form.marks_done
    run_action(lambda: supervision.set_action_done(session, action, current_person(), done,
                                                   today()),
               success=_("Marked as done.") if done else _("Marked as not done."))
    return redirect(_record_url(found.id, "actions"))
