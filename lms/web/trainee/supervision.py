"""My supervision: records I attended (never their private notes), my reflections, and the
actions agreed. Another trainee's record or action is a 404, like a missing one."""

from __future__ import annotations

from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.forms.supervision import ActionDoneForm, ReflectionForm
from lms.models import SupervisionRecord
from lms.models._types import utcnow
from lms.models.people import TRAINEE
from lms.services import supervision
from lms.web.access import current_person, db_session, roles_required
from lms.web.form_handling import handle_post, run_action
from lms.web.programme import today
from lms.web.trainee import bp


def _my_record(record_id: int) -> SupervisionRecord:
    record = supervision.record_for(db_session(), record_id)
    if record is None or current_person().id not in {a.trainee_id for a in record.attendees}:
        abort(404, description=_("There is no such supervision record of yours."))
    return record


def _record_url(record_id: int, anchor: str | None = None) -> str:
    return url_for("lms_trainee.my_supervision_record", record_id=record_id, _anchor=anchor)


@bp.route("/my/supervision")
@roles_required(TRAINEE)
def my_supervision():
    me = current_person()
    records = supervision.records_for_trainee(db_session(), me.id)
    # The open actions come from the records already loaded: no further query.
    actions = sorted(((a, r) for r in records for a in r.actions if a.done_on is None),
                     key=lambda pair: (pair[0].due_on is None, pair[0].due_on or date.min,
                                       pair[0].id))
    return render_template("lms/trainee/supervision.html", records=records,
                           open_actions=actions, me=me, today=today(),
                           formats=supervision.FORMATS, topics=supervision.TOPICS,
                           kinds=supervision.KIND_LABELS)


def _render_record(record: SupervisionRecord, form: ReflectionForm | None = None,
                   status: int = 200):
    me = current_person()
    mine = next(a for a in record.attendees if a.trainee_id == me.id)
    if form is None:
        form = ReflectionForm(data={"reflection": mine.reflection or ""})
    return render_template(
        "lms/trainee/supervision_record.html", record=record, me=me, mine=mine, form=form,
        history=supervision.history(db_session(), record, viewer=me),
        today=today(), formats=supervision.FORMATS, topics=supervision.TOPICS,
        kinds=supervision.KIND_LABELS), status


@bp.route("/my/supervision/<id:record_id>")
@roles_required(TRAINEE)
def my_supervision_record(record_id: int):
    return _render_record(_my_record(record_id))


@bp.route("/my/supervision/<id:record_id>/reflection", methods=["POST"])
@roles_required(TRAINEE)
def save_reflection(record_id: int):
    found = _my_record(record_id)
    form = ReflectionForm()
    outcome = handle_post(
        form, lambda: supervision.add_reflection(db_session(), found, current_person(),
                                                 form.reflection.data, now=utcnow()),
        success=_("Your reflection is saved."),
        redirect_to=_record_url(found.id, "reflection"))
    if outcome.done:
        return outcome.response
    return _render_record(supervision.record_for(db_session(), record_id), form,
                          outcome.status)


@bp.route("/my/actions/<id:action_id>/done", methods=["POST"])
@roles_required(TRAINEE)
def my_action_done(action_id: int):
    session = db_session()
    me = current_person()
    action = supervision.action_for(session, action_id)
    # Only actions I own on records I attended; anything else is answered as missing.
    if (action is None or action.owner_id != me.id
            or me.id not in {a.trainee_id for a in action.supervision.attendees}):
        abort(404, description=_("There is no such action of yours."))
    form = ActionDoneForm()
    if not form.validate_on_submit() or form.marks_done is None:
        abort(400, description=_("The form has expired: go back and try again."))
    done = form.marks_done
    run_action(lambda: supervision.set_action_done(session, action, me, done, today()),
               success=_("Marked as done.") if done else _("Marked as not done."))
    if request.form.get("back") == "list":
        return redirect(url_for("lms_trainee.my_supervision"))
    return redirect(_record_url(action.supervision_id, "actions"))
