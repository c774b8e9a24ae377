"""The trainee's journey: dashboard, modules, quizzes, results, progress, attendance.

Supervision pages for the trainee live beside it: ``check_ins`` (self-care check-ins and
their history), ``supervision`` (my supervision records, reflections, actions) and
``debriefs`` (starting and reading a debrief).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.forms.cohorts import FeedbackForm
from lms.models import Attempt, TrainingSession
from lms.models.people import ADMIN, SUPERVISOR, TRAINEE, TRAINER
from lms.services import agenda, attendance, calendar_feeds, feedback, joining, progress, quizzes
from lms.services import cohorts as cohorts_service
from lms.services import readiness as readiness_service
from lms.services.content_cache import content
from lms.web import lti
from lms.web.access import current_person, db_session, roles_required
from lms.web.addresses import external_url
from lms.web.blueprint import make_blueprint
from lms.web.calendar import ics_response
from lms.web.form_handling import handle_post
from lms.web.programme import today as programme_today
from lms.web.trainee.content_language import translation_for

bp = make_blueprint("lms_trainee", __name__)

STAFF = (TRAINER, SUPERVISOR, ADMIN)


@bp.route("/dashboard")
@roles_required(TRAINEE)
def dashboard():
    person = current_person()
    session = db_session()
    # The enrolments are read once and handed to each part of the page.
    enrolled = attendance.enrolment_attendance(session, person.id)
    enrolments = [enrolment for enrolment, _attended in enrolled]
    curricula = progress.trainee_progress(
        session, person.id, curriculum_ids={e.cohort.curriculum_id for e in enrolments})
    # The same service as the readiness page, so "N of M done" here agrees with it.
    ready_rows = [r for r in readiness_service.trainee_readiness(
        session, person.id, today=programme_today(), enrolled=enrolled)
                  if r.policy is not None and not r.withdrawn]
    return render_template("lms/trainee/dashboard.html", person=person, curricula=curricula,
                           check_in_due=check_ins.due_state(person, enrolments),
                           readiness=ready_rows,
                           to_join=joining.pending_for(session, person.id,
                                                       maybe=person.join_pending))


@bp.route("/modules/<slug>")
@roles_required(TRAINEE, *STAFF)
def module(slug: str):
    session = db_session()
    person = current_person()
    is_trainee = person.has_role(TRAINEE)
    found = progress.module_for_person(session, person.id, slug,
                                       staff=person.has_role(*STAFF))
    if found is None:
        abort(404, description=_("There is no module with that name in your training."))
    previous, following = progress.neighbours(session, found)
    reading = progress.reading(session, person.id, found) if is_trainee else None
    quiz_state = None
    if is_trainee and found.quiz is not None and not found.quiz.retired:
        quiz_state = quizzes.quiz_status(session, person.id, found.quiz)
    shown = translation_for(session, found, body=True, others=(previous, following))
    found = content(session).with_body(found)  # the text, read once per process and revision
    return render_template("lms/trainee/module.html", module=shown.module(found),
                           previous=shown.titled(previous), following=shown.titled(following),
                           reading=reading, quiz_state=quiz_state, is_trainee=is_trainee)


@bp.route("/modules/<slug>/read", methods=["POST"])
@roles_required(TRAINEE)
def mark_read(slug: str):
    session = db_session()
    person = current_person()
    found = progress.module_for_person(session, person.id, slug)
    if found is None:
        abort(404, description=_("There is no module with that name in your training."))
    progress.mark_read(session, person.id, found)
    session.commit()
    flash(_("Marked as read."), "success")
    if found.quiz is not None and not found.quiz.retired:
        return redirect(url_for("lms_trainee.quiz", slug=slug))
    _previous, following = progress.neighbours(session, found)
    if following is not None:
        return redirect(url_for("lms_trainee.module", slug=following.slug))
    return redirect(url_for("lms_trainee.dashboard"))


def _trainee_quiz(slug: str):
    session = db_session()
    person = current_person()
    found = progress.module_for_person(session, person.id, slug)
    if found is None or found.quiz is None or found.quiz.retired:
        abort(404, description=_("There is no quiz for that module in your training."))
    return session, person, found


@bp.route("/modules/<slug>/quiz", methods=["GET"])
@roles_required(TRAINEE)
def quiz(slug: str):
    session, person, found = _trainee_quiz(slug)
    history = quizzes.attempt_history(session, person.id, found.quiz.id)
    status = quizzes.quiz_status(session, person.id, found.quiz, attempts=history)
    shown = translation_for(session, found).module(found)
    return render_template("lms/trainee/quiz_intro.html", module=shown, status=status,
                           history=history,
                           question_count=quizzes.question_count(session, status.version))


@bp.route("/modules/<slug>/quiz", methods=["POST"])
@roles_required(TRAINEE)
def start_quiz(slug: str):
    session, person, found = _trainee_quiz(slug)
    try:
        attempt = quizzes.start_attempt(session, person.id, found.quiz)
    except quizzes.QuizRuleError:
        # The quiz page states why (the wait, or no attempts left): no second message.
        return redirect(url_for("lms_trainee.quiz", slug=slug))
    session.commit()
    return redirect(url_for("lms_trainee.attempt", attempt_id=attempt.id))


def _own_attempt(attempt_id: int) -> Attempt:
    person = current_person()
    attempt = db_session().get(Attempt, attempt_id)
    # Another trainee's attempt is answered exactly like a missing one: nothing leaks.
    if attempt is None or attempt.person_id != person.id:
        abort(404, description=_("There is no such attempt of yours."))
    return attempt


@bp.route("/attempts/<id:attempt_id>", methods=["GET"])
@roles_required(TRAINEE)
def attempt(attempt_id: int):
    found = _own_attempt(attempt_id)
    if found.is_submitted:
        return redirect(url_for("lms_trainee.result", attempt_id=found.id))
    return _attempt_page(found, responses={}, missing=[])


def _attempt_page(found: Attempt, responses: dict[str, list[str]], missing: list[str]) -> str:
    """The attempt form in the reader's language; field names stay the question keys."""
    session = db_session()
    shown = translation_for(session, found.quiz.module, found.quiz_version_id)
    return render_template("lms/trainee/attempt.html", attempt=found,
                           module=shown.module(found.quiz.module),
                           questions=shown.questions(quizzes.attempt_questions(session, found)),
                           responses=responses, missing=missing)


@bp.route("/attempts/<id:attempt_id>", methods=["POST"])
@roles_required(TRAINEE)
def submit(attempt_id: int):
    session = db_session()
    found = _own_attempt(attempt_id)
    form = {key: request.form.getlist(key) for key in request.form}
    try:
        quizzes.submit_attempt(session, current_person().id, found, form)
    except quizzes.TamperedSubmission as exc:
        session.rollback()
        session.refresh(found)
        if found.is_submitted:
            # The same answers sent twice (a double-click): the first one's result.
            return redirect(url_for("lms_trainee.result", attempt_id=found.id))
        abort(400, description=str(exc))
    except quizzes.IncompleteSubmission as exc:
        session.rollback()
        return _attempt_page(found, responses=exc.responses, missing=exc.missing), 422
    session.commit()
    return lti.quiz_grade_after(redirect(url_for("lms_trainee.result", attempt_id=found.id)),
                                found.person_id, found.quiz_id)


@bp.route("/attempts/<id:attempt_id>/result")
@roles_required(TRAINEE)
def result(attempt_id: int):
    session = db_session()
    found = _own_attempt(attempt_id)
    if not found.is_submitted:
        return redirect(url_for("lms_trainee.attempt", attempt_id=found.id))
    # The service decides whether the key may be shown; without it, `result` holds no key.
    outcome = quizzes.attempt_result(session, found)
    shown = translation_for(session, found.quiz.module, found.quiz_version_id)
    return render_template("lms/trainee/result.html", attempt=found, result=shown.result(outcome),
                           status=outcome.status, module=shown.module(found.quiz.module))


@bp.route("/progress")
@roles_required(TRAINEE)
def my_progress():
    session = db_session()
    person = current_person()
    attempts = quizzes.attempt_history(session, person.id)
    curricula = progress.trainee_progress(session, person.id, attempts=attempts)
    by_quiz: dict[int, list[Attempt]] = {}
    for item in attempts:
        by_quiz.setdefault(item.quiz_id, []).append(item)
    return render_template("lms/trainee/progress.html", curricula=curricula, attempts=by_quiz)


# --- attendance, agenda and feedback -----------------------------------------------------


@bp.route("/my/attendance")
@roles_required(TRAINEE)
def my_attendance():
    person = current_person()
    return render_template("lms/trainee/attendance.html",
                           cohorts=attendance.trainee_attendance(db_session(), person.id),
                           partial=attendance.PARTIAL)


def _my_sessions():
    session = db_session()
    person = current_person()
    return agenda.enrolment_agendas(session, cohorts_service.enrolments_of(session, person.id))


@bp.route("/my/agenda")
@roles_required(TRAINEE)
def my_agenda():
    agendas = _my_sessions()
    session = db_session()
    person_id = current_person().id
    every = [s for _cohort, items in agendas for s in items]
    token = current_person().calendar_token
    feed_url = external_url("lms_calendar.feed", token=token) if token else None
    return render_template("lms/trainee/agenda.html", agendas=agendas, feed_url=feed_url,
                           rated=feedback.rated_session_ids(session, person_id),
                           rateable=feedback.rateable_session_ids(session, person_id, every))


@bp.route("/my/agenda/feed", methods=["POST"])
@roles_required(TRAINEE)
def my_calendar_feed():
    session = db_session()
    calendar_feeds.person_token(session, current_person(), renew=True)
    session.commit()
    flash(_("Your calendar link is ready. Any earlier link no longer works."), "success")
    return redirect(url_for("lms_trainee.my_agenda"))


@bp.route("/my/agenda.ics")
@roles_required(TRAINEE)
def my_agenda_ics():

    sessions = [s for _cohort, items in _my_sessions() for s in items]
    return ics_response(sessions, _("My training"), "my-training.ics")


@bp.route("/sessions/<id:session_id>/feedback", methods=["GET", "POST"])
@roles_required(TRAINEE)
def session_feedback(session_id: int):
    session = db_session()
    person = current_person()
    item = session.get(TrainingSession, session_id)
    if item is None or not cohorts_service.is_enrolled(session, person.id, item.cohort_id):
        abort(404, description=_("There is no such session in your training."))
    reason = feedback.why_not(session, person.id, item)
    form = FeedbackForm()
    if reason is not None:
        status = 409 if request.method == "POST" else 200
    else:
        outcome = handle_post(
            form, lambda: feedback.rate(session, person.id, item, form.rating.data,
                                        form.comment.data or ""),
            success=_("Thank you for your feedback."),
            redirect_to=url_for("lms_trainee.my_agenda"))
        if outcome.done:
            return outcome.response
        status = outcome.status
    return render_template("lms/trainee/feedback.html", item=item, form=form,
                           reason=reason), status


# The route modules register their views on ``bp`` when imported.
from lms.web.trainee import certificates, check_ins, debriefs, readiness, supervision  # noqa: E402

__all__ = ["STAFF", "bp", "certificates", "check_ins", "debriefs", "readiness", "supervision"]
