"""Log in, log out, change password."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_user, logout_user
from sqlalchemy.exc import OperationalError

from lms import mail
from lms.forms.auth import (
    ChangePasswordForm,
    ChoosePasswordForm,
    ForgotPasswordForm,
    JoinForm,
    LoginForm,
)
from lms.models import Person
from lms.services import accounts, invitations, joining, login_sessions, login_throttle
from lms.web import kept_forms, programme
from lms.web.access import (
    current_person,
    db_session,
    login_required,
    public,
    uses_own_accounts,
)
from lms.web.blueprint import as_id, make_blueprint
from lms.web.form_handling import handle_post
from lms.web.invitation_links import mail_plan, send_after, valid_for

bp = make_blueprint("lms_auth", __name__)
log = logging.getLogger(__name__)


def _policy() -> login_throttle.ThrottlePolicy:
    config = current_app.config
    return login_throttle.ThrottlePolicy(
        per_account=config["LMS_LOGIN_THROTTLE_PER_ACCOUNT"],
        per_address=config["LMS_LOGIN_THROTTLE_PER_ADDRESS"],
        window=timedelta(minutes=config["LMS_LOGIN_THROTTLE_WINDOW_MINUTES"]),
    )


def session_policy() -> login_sessions.SessionPolicy:
    config = current_app.config
    return login_sessions.SessionPolicy(
        idle=timedelta(minutes=config["LMS_SESSION_IDLE_MINUTES"]),
        lifetime=timedelta(hours=config["LMS_SESSION_LIFETIME_HOURS"]))


def load_logged_in(token: str) -> Person | None:
    """Flask-Login's loader: the person of a live log-in session, in one query on the
    request's session. Writing (the once-a-minute "last seen", or the end of a session that
    has run out) happens in a short transaction of its own, so it is kept whatever the
    request then does, and it commits nothing of the request's."""
    verdict = login_sessions.examine(db_session(), token, session_policy())
    if verdict.ended or verdict.touch:
        try:
            with current_app.extensions["lms"].db.session() as own:
                login_sessions.note(own, verdict)
                own.commit()
        except OperationalError:
            # The database is busy (a long import holds SQLite's write lock): "last seen" can
            # wait for the next page; an ending is found again then too.
            log.warning("log-in session %s not updated: database busy", verdict.row_id)
    return verdict.person


# A long-lived random cookie naming the browser: while an account is blocked, a browser that
# has logged in to it before gets a budget of its own, so guessers cannot lock its owner out.
DEVICE_COOKIE = "lms_device"


def _device() -> str | None:
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if 20 <= len(value) <= 64 else None


def _start_session(person: Person) -> str:
    """Log ``person`` in on a new server-side session. Whoever was logged in on this browser
    is logged out; the old cookie session is cleared (so nothing from before, including its
    CSRF secret, carries over), except a pointer to a form kept when this same person's
    previous session ended. The device cookie is kept or made."""
    session = db_session()
    old_token = flask_session.get("_user_id")
    previous = current_person()
    if previous is not None and previous.login_token:
        login_sessions.end(session, previous.login_token, login_sessions.LOGOUT)
    kept = (login_sessions.kept_form_for(session, old_token, person.id)
            if isinstance(old_token, str) else None)
    flashes = flask_session.get("_flashes")
    flask_session.clear()
    if flashes:
        flask_session["_flashes"] = flashes
    if kept is not None:
        flask_session[kept_forms.KEY] = kept
    device = _device() or secrets.token_urlsafe(24)
    token = login_sessions.start(session, person, address=request.remote_addr or "",
                                 user_agent=request.headers.get("User-Agent", ""),
                                 device=device)
    login_user(person)
    flask_session["lms_new_device"] = device if device != _device() else None
    return token


def _set_device_cookie(response):
    device = flask_session.pop("lms_new_device", None)
    if device:
        response.set_cookie(DEVICE_COOKIE, device, max_age=400 * 24 * 3600, httponly=True,
                            samesite="Lax", secure=bool(current_app.config.get(
                                "SESSION_COOKIE_SECURE")),
                            path=current_app.config.get("APPLICATION_ROOT") or "/")
    return response


def _own_browser_may_try(session, email: str, device: str | None,
                         policy: login_throttle.ThrottlePolicy) -> bool:
    """While an account or address is blocked: a browser this account has logged in from
    lately may still try, within a budget of its own (the per-account limit), so guessers
    elsewhere cannot lock the owner out, and a stolen device cookie buys no more guesses."""
    person = accounts.find_by_email(session, email)
    if person is None or not login_sessions.is_known_device(session, person.id, device):
        return False
    return login_throttle.device_failures(session, email, login_sessions.token_hash(device),
                                          policy) <= policy.per_account


def _own_accounts_only() -> None:
    """When the host app supplies the person, log-in and log-out are the host's business."""
    if not uses_own_accounts():
        abort(404, description=_("Log in and out through the host application."))


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never redirect to another host after log-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:  # browsers read a backslash as a slash: "/\\x" is "//x"
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    _own_accounts_only()
    form = LoginForm()
    if current_person() is not None and request.method == "GET":
        return redirect(url_for("lms_home.index"))
    status = 200
    if form.validate_on_submit():
        session = db_session()
        address = request.remote_addr or "unknown"
        # The attempt is counted (and committed) before the password is looked at, so parallel
        # guesses all see each other: at most the limit of them are ever checked.
        device = _device()
        device_hash = login_sessions.token_hash(device) if device else None
        login_throttle.record_failure(session, form.email.data, address,
                                      device_hash=device_hash)
        session.commit()
        policy = _policy()
        state = login_throttle.check(session, form.email.data, address, policy,
                                     counted_own=True)
        if state.blocked and not _own_browser_may_try(session, form.email.data, device,
                                                       policy):
            minutes = max(1, int(state.retry_after.total_seconds() // 60) + 1)
            form.form_errors.append(_("Too many failed log-ins. Try again in %(m)d minutes.",
                                      m=minutes))
            return render_template("lms/auth/login.html", form=form), 429
        result = accounts.authenticate(session, form.email.data, form.password.data,
                                       demo_mode=current_app.config["LMS_DEMO"])
        if result.person is None:
            form.form_errors.append(result.reason)
            status = 401
        else:
            login_throttle.clear_account(session, form.email.data)
            login_throttle.forget_old(session)
            login_sessions.forget_old(session)
            _start_session(result.person)
            session.commit()
            target = _safe_next(request.args.get("next")) or url_for("lms_home.index")
            if kept_forms.KEY in flask_session:
                target = url_for("lms_auth.resume_form")
            return _set_device_cookie(redirect(target))
    elif request.method == "POST":
        status = 422
    return render_template("lms/auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@public  # also after the log-in has ended on its own: the cookie is cleared either way
def logout():
    _own_accounts_only()
    person = current_person()
    session = db_session()
    if person is not None and person.login_token:
        login_sessions.end(session, person.login_token, login_sessions.LOGOUT)
        session.commit()
    logout_user()
    flask_session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("lms_auth.login"))


@bp.route("/resume", methods=["GET", "POST"])
@login_required
def resume_form():
    """A form sent after the log-in ended, offered back to the same person to send now. It
    is taken off the server as the page is drawn: from then on it lives in this page only."""
    _own_accounts_only()
    row_id = flask_session.pop(kept_forms.KEY, None)
    session = db_session()
    kept = (login_sessions.take_kept_form(session, row_id, current_person().id)
            if isinstance(row_id, int) else None)
    session.commit()
    if request.method == "POST" or kept is None or _safe_next(kept.get("path")) is None:
        return redirect(url_for("lms_home.index"))  # "Leave it", or nothing (left) to send
    return render_template("lms/auth/resume.html", path=kept["path"], fields=kept["fields"])


@bp.route("/account/sessions", methods=["GET", "POST"])
@login_required
def my_sessions():
    """Where the person is logged in, with "log out everywhere else" and "end" per session."""
    _own_accounts_only()
    person = current_person()
    session = db_session()
    if request.method == "POST":
        if request.form.get("everywhere"):
            ended = login_sessions.end_all(session, person.id, login_sessions.EVERYWHERE,
                                           keep_token=person.login_token)
            session.commit()
            flash(ngettext("Logged out everywhere else: %(num)d other log-in ended.",
                           "Logged out everywhere else: %(num)d other log-ins ended.", ended),
                  "success")
        else:
            chosen = as_id(request.form.get("session_id", ""))
            if chosen is None:
                abort(400, description=_("Choose a session to end."))
            if login_sessions.end_one(session, person.id, chosen):
                session.commit()
                flash(_("That session has ended."), "success")
            else:
                flash(_("That session had already ended."), "info")
        return redirect(url_for("lms_auth.my_sessions"))
    current_hash = login_sessions.token_hash(person.login_token or "")
    rows = login_sessions.live(session, person.id, session_policy())
    return render_template("lms/auth/sessions.html", rows=rows, current_hash=current_hash,
                           describe=login_sessions.describe_browser,
                           policy=session_policy())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    _own_accounts_only()
    form = ChangePasswordForm()
    person = current_person()

    def change():
        accounts.change_password(db_session(), person, form.current_password.data,
                                 form.new_password.data)
        _start_session(person)  # set_password ended every session; this browser gets a new one

    outcome = handle_post(form, change, success=_("Your password has been changed. Any other "
                                                  "place you were logged in is logged out."),
                          redirect_to=url_for("lms_home.index"))
    if outcome.done:
        return _set_device_cookie(outcome.response)
    return render_template("lms/auth/change_password.html", form=form,
                           forced=person.must_change_password), outcome.status


# The token leaves the URL at the first visit: a path ends up in access logs and history.
_TOKEN_KEY = "lms_invitation_token"  # noqa: S105 (a session key name, not a secret)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    """The link a person is given: keep its token in their session and show the form at
    /invitation, so the token is not left in logs and history."""
    _own_accounts_only()
    if request.method == "GET":
        flask_session[_TOKEN_KEY] = token[:200]
        return redirect(url_for("lms_auth.invitation"))
    return _choose_password(token)


@bp.route("/invitation", methods=["GET", "POST"])
@public
def invitation():
    """Anyone whose session holds a link's token: the token is the credential, used once."""
    _own_accounts_only()
    token = flask_session.get(_TOKEN_KEY)
    if not token:
        return render_template("lms/auth/invitation_invalid.html", reason=_(
            "Open the link you were given again (this page works only from it).")), 410
    return _choose_password(token)


def _choose_password(token: str):
    _own_accounts_only()
    session = db_session()
    me = current_person()
    joined = joining.already_joined(session, token, me) if me is not None else None
    if joined is not None:  # a second click, or the spent link opened again
        flask_session.pop(_TOKEN_KEY, None)
        flash(_joined_message(joined), "success")
        return redirect(url_for("lms_home.index"))
    try:
        invitation = invitations.find(session, token)
    except invitations.InvitationError as exc:
        return render_template("lms/auth/invitation_invalid.html", reason=exc.message), 410
    if me is not None:
        try:
            asked = joining.invited(session, token, me)
        except joining.JoinError:
            asked = None  # someone else's join link: answered as any other's link below
        if asked is not None:
            return _join(asked, lambda: joining.join(session, token, me,
                                                     today=programme.today()))
    if me is not None and me.id != invitation.person_id:
        # A trainer trying a link by mistake must not spend it, nor become the trainee. A
        # stand-in's link (lms.services.joining) gets the same answer as a new account's.
        return render_template(
            "lms/auth/invitation_invalid.html",
            reason=_("This link is for someone else, and you are logged in as %(name)s. Log out "
                     "first if you are setting up another person's account on their phone.",
                     name=me.name)), 409
    form = ChoosePasswordForm()

    def choose():
        person = invitations.accept(session, token, form.password.data)
        # Its new password ended every earlier session; this also drops the token from the
        # cookie.
        _start_session(person)
        return person

    outcome = handle_post(form, choose,
                          success=lambda p: _("Welcome, %(name)s. Your password is set; use it "
                                              "with your email to log in.", name=p.name),
                          redirect_to=url_for("lms_home.index"))
    if outcome.done:
        return _set_device_cookie(outcome.response)
    return render_template("lms/auth/choose_password.html", form=form,
                           person=invitation.person, purpose=invitation.purpose), outcome.status


def _joined_message(cohorts: list) -> str:
    return _("You have joined %(names)s.", names=", ".join(c.name for c in cohorts))


@bp.route("/join/<id:request_id>", methods=["GET", "POST"])
@login_required
def join_request(request_id: int):
    """The same question as a join link asks, reached from the person's own dashboard (a host
    app's users get no links). Only the person asked may see it; others get 404."""
    session = db_session()
    asked = joining.pending_request(session, request_id, current_person())
    if asked is None:
        done = None
        if request.method == "POST":  # a second click: the first one's answer
            try:
                done = joining.join_request(session, request_id, current_person(),
                                            today=programme.today())
            except joining.JoinError:
                done = None
        if done is None:
            abort(404)
        flash(_joined_message(done.cohorts), "success")
        return redirect(url_for("lms_home.index"))
    return _join(asked, lambda: joining.join_request(session, request_id, current_person(),
                                                     today=programme.today()))


def _join(asked: joining.Invited, join: Callable[[], joining.Invited]):
    """The owner of an account a trainer enrolled as a stand-in: joining is their consent to
    the cohort's staff seeing their training record."""
    form = JoinForm()
    outcome = handle_post(form, join,
                          success=lambda done: _joined_message(done.cohorts),
                          redirect_to=url_for("lms_home.index"))
    if outcome.done:
        flask_session.pop(_TOKEN_KEY, None)
        return outcome.response
    requested_by = asked.request.requested_by
    supervisor = joining.supervisor_after(db_session(), asked, current_person(),
                                          programme.today())
    return render_template("lms/auth/join.html", form=form, cohorts=asked.cohorts,
                           supervisor=supervisor,
                           typed_name=asked.request.stand_in.name,
                           requested_by=requested_by.name if requested_by else None
                           ), outcome.status


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password():
    """With mail, a reset link is sent; the answer is the same whether the account exists or
    not, so the page reveals nobody's address. Without mail, an admin issues a new link."""
    _own_accounts_only()
    form = ForgotPasswordForm()
    can_mail = mail.configured(current_app)
    if can_mail and form.validate_on_submit():
        session = db_session()
        address = request.remote_addr or "unknown"
        # Reset requests have their own count ("reset:" + address), so nobody can spend a
        # person's log-in attempts by asking for resets, and nobody can mail-bomb them.
        key = "reset:" + form.email.data
        messages: list = []
        if not login_throttle.check(session, key, address, _policy()).blocked:
            login_throttle.record_failure(session, key, address)
            person = accounts.find_by_email(session, form.email.data)
            if person is not None and person.active and not person.is_demo:
                links = invitations.issue(session, [person], purpose=invitations.RESET,
                                          valid_for=valid_for(invitations.RESET))
                messages = mail_plan(links, invitations.RESET)
            session.commit()
        response = make_response(render_template("lms/auth/forgot_password.html", form=form,
                                                 can_mail=True, sent=True))
        return send_after(response, messages)  # the same wait whether or not it exists
    status = 422 if request.method == "POST" and can_mail else 200
    return render_template("lms/auth/forgot_password.html", form=form, can_mail=can_mail,
                           sent=False), status
