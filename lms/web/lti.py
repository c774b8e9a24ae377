"""LTI 1.3: the platform-facing endpoints (log-in initiation, launch, lms's key set), the
admin's platform pages, and sending grades after a response. Rules in ``lms.services.lti``."""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from lms.database import is_unique_violation
from lms.forms.lti import PlatformForm, RemovePlatformForm
from lms.models import LtiPlatform, LtiUser, Module
from lms.models.people import ADMIN, TRAINEE
from lms.services import lti
from lms.services.errors import ServiceError
from lms.web import page_translations
from lms.web.access import current_person, db_session, public, roles_required, uses_own_accounts
from lms.web.addresses import external_url
from lms.web.blueprint import ERROR_CODES, as_id, error_page, make_blueprint, security_headers
from lms.web.form_handling import handle_post

log = logging.getLogger(__name__)

# The platform's endpoints: a launch is a cross-site POST carrying a signed id_token instead of
# lms's CSRF token, so this blueprint checks its requests itself (``_check``) rather than with
# ``check_request``'s form-token check; the id_token, state and nonce do that job here.
bp = Blueprint("lms_lti", __name__, url_prefix="/lti")
bp.after_request(security_headers)
bp.context_processor(page_translations.template_callables)
for _code in ERROR_CODES:
    bp.register_error_handler(_code, error_page)

admin_bp = make_blueprint("lms_lti_admin", __name__, url_prefix="/admin/lti")

# Pages a launch may open: a module, or its quiz.
TARGET_ENDPOINTS = frozenset({"lms_trainee.module", "lms_trainee.quiz"})
STATE_COOKIE_PREFIX = "lms_lti_"


@bp.before_request
def _check() -> None:
    values = [v for _k, vs in request.values.lists() for v in vs]
    if "\x00" in request.path or any("\x00" in v for v in values):
        abort(400, description="The request contains a NUL character.")
    if not uses_own_accounts():
        abort(404, description=_("LTI launches need lms's own accounts; in a host app, the "
                                 "host signs people in."))


def _timeout() -> float:
    return float(current_app.config.get("LMS_LTI_HTTP_TIMEOUT", 5))


def _state_cookie(state: str) -> str:
    """One cookie per log-in, so launches in two tabs do not overwrite each other's."""
    return STATE_COOKIE_PREFIX + hashlib.sha256(state.encode("utf-8")).hexdigest()[:16]


def _target_module(uri: str) -> tuple[str, Module]:
    """The lms module page (or its quiz) a target link URI names; anything else is refused."""
    parts = urlsplit(uri or "")
    ours = {request.host}
    public_url = current_app.config.get("LMS_PUBLIC_URL")
    if public_url:
        ours.add(urlsplit(public_url).netloc)
    if parts.scheme not in ("https", "http") or parts.netloc not in ours:
        raise lti.LtiError(_("The link does not point to a page of this lms."))
    adapter = current_app.url_map.bind(parts.netloc, script_name=request.script_root or None)
    path = parts.path
    if request.script_root and path.startswith(request.script_root):
        path = path[len(request.script_root):] or "/"
    try:
        endpoint, args = adapter.match(path, method="GET")
    except HTTPException:
        raise lti.LtiError(_("The link does not point to a page of this lms.")) from None
    if endpoint not in TARGET_ENDPOINTS:
        raise lti.LtiError(_("The link must open an lms module or quiz."))
    module = db_session().scalar(select(Module).where(Module.slug == args["slug"],
                                                      Module.retired.is_(False)))
    if module is None:
        raise lti.LtiError(_("The link names a module lms does not have."))
    return endpoint, module


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """OIDC third-party log-in initiation: remember a state and nonce, then on to the
    platform's authorisation endpoint."""
    values = request.values
    issuer, hint = values.get("iss", ""), values.get("login_hint", "")
    target = values.get("target_link_uri", "")
    if not issuer or not hint or not target or max(len(issuer), len(hint), len(target)) > 1000:
        abort(400, description=_("A log-in from an LTI platform needs iss, login_hint and "
                                 "target_link_uri."))
    session = db_session()
    try:
        platform = lti.find_platform(session, issuer, values.get("client_id") or None)
        deployment = values.get("lti_deployment_id")
        if deployment and deployment not in platform.deployment_ids:
            raise lti.LtiError(_("This deployment is not registered in lms."))
        _target_module(target)
        start = lti.begin_login(session, platform, target_link_uri=target, login_hint=hint,
                                message_hint=values.get("lti_message_hint"),
                                redirect_uri=external_url("lms_lti.launch"))
    except ServiceError as exc:
        session.rollback()
        abort(400, description=exc.message)
    session.commit()
    response = redirect(start.redirect_url)
    # Binds the launch to this browser. The launch is a cross-site POST, which carries only
    # SameSite=None cookies, and those must be Secure: over plain HTTP (development) Lax is
    # the best there is, and works only when the platform is on the same site.
    secure = request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    response.set_cookie(_state_cookie(start.state), start.state,
                        max_age=int(lti.STATE_LIFETIME.total_seconds()), httponly=True,
                        secure=secure, samesite="None" if secure else "Lax",
                        path=url_for("lms_lti.launch"))
    return response


@bp.route("/launch", methods=["POST"])
@public
def launch():
    """The platform's form post: check everything, then log the person in and open the page."""
    from lms.web.auth import _set_device_cookie, _start_session

    session = db_session()
    state = request.form.get("state", "")
    cookie = request.cookies.get(_state_cookie(state), "") if state else ""
    if not state or not hmac.compare_digest(cookie.encode(), state.encode()):
        abort(400, description=_("This launch did not start in this browser (or cookies are "
                                 "blocked). Open the link from the course again, in a new "
                                 "window."))
    try:
        launch = lti.validate_launch(session, id_token=request.form.get("id_token", ""),
                                     state=state, timeout=_timeout())
        endpoint, module = _target_module(launch.target_link_uri)
        entered = lti.enter(session, launch, module)
        _start_session(entered.person)
        session.commit()
    except ServiceError as exc:
        session.rollback()
        abort(403 if isinstance(exc, lti.RoleRefused) else 400, description=exc.message)
    except IntegrityError as exc:
        # The same person's launch in another tab, a moment ago (their enrolment, say).
        session.rollback()
        if not is_unique_violation(exc):
            raise
        abort(409, description=_("Another launch of yours was being handled at the same "
                                 "moment. Open the link in the course again."))
    if entered.role != TRAINEE:
        endpoint = "lms_trainee.module"  # staff preview the module; the quiz is for trainees
    response = redirect(url_for(endpoint, slug=module.slug))
    response.delete_cookie(_state_cookie(state), path=url_for("lms_lti.launch"))
    return _set_device_cookie(response)


@bp.route("/jwks.json")
@public
def jwks():
    """lms's public keys, which platforms use to check its client assertions."""
    session = db_session()
    lti.signing_key(session)  # made on first use
    session.commit()
    response = jsonify(lti.public_key_set(session))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# ---------------------------------------------------------------------------------------------
# Admin pages

def _tool_urls() -> dict[str, str]:
    return {"login": external_url("lms_lti.login"), "launch": external_url("lms_lti.launch"),
            "jwks": external_url("lms_lti.jwks"),
            "target": external_url("lms_trainee.dashboard")}


def _platform_from_query() -> LtiPlatform:
    platform_id = as_id(request.args.get("platform"))
    platform = db_session().get(LtiPlatform, platform_id) if platform_id else None
    if platform is None:
        abort(404, description=_("There is no such platform."))
    return platform


def _fields(form: PlatformForm) -> lti.PlatformFields:
    return lti.PlatformFields(
        name=form.name.data or "", issuer=form.issuer.data or "",
        client_id=form.client_id.data or "",
        deployment_ids=lti.parse_deployment_ids(form.deployment_ids.data or ""),
        auth_login_url=form.auth_login_url.data or "",
        auth_token_url=form.auth_token_url.data or "", key_set_url=form.key_set_url.data or "")


@admin_bp.route("")
@roles_required(ADMIN)
def platforms():
    return render_template("lms/lti/platforms.html", platforms=lti.list_platforms(db_session()),
                           urls=_tool_urls(), remove_form=RemovePlatformForm())


@admin_bp.route("/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def new_platform():
    form = PlatformForm()
    outcome = handle_post(form, lambda: lti.save_platform(db_session(), _fields(form)),
                          success=_("Platform registered."),
                          redirect_to=url_for("lms_lti_admin.platforms"))
    if outcome.done:
        return outcome.response
    return render_template("lms/lti/platform_form.html", form=form, platform=None,
                           urls=_tool_urls()), outcome.status


@admin_bp.route("/edit", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_platform():
    platform = _platform_from_query()
    form = PlatformForm(obj=None if request.method == "POST" else platform)
    if request.method != "POST":
        form.deployment_ids.data = "\n".join(platform.deployment_ids)
    outcome = handle_post(form, lambda: lti.save_platform(db_session(), _fields(form),
                                                          platform),
                          success=_("Platform saved."),
                          redirect_to=url_for("lms_lti_admin.platforms"))
    if outcome.done:
        return outcome.response
    return render_template("lms/lti/platform_form.html", form=form, platform=platform,
                           urls=_tool_urls()), outcome.status


@admin_bp.route("/remove", methods=["POST"])
@roles_required(ADMIN)
def remove_platform():
    platform = _platform_from_query()
    form = RemovePlatformForm()
    if not form.validate_on_submit():
        abort(400, description=_("This form has expired. Reload the page and try again."))
    lti.remove_platform(db_session(), platform)
    db_session().commit()
    flash(_("Platform removed. Its courses' cohorts and people stay in lms."), "success")
    return redirect(url_for("lms_lti_admin.platforms"))


# ---------------------------------------------------------------------------------------------
# Grade passback, after the response

def _came_by_lti(person_id: int) -> bool:
    person = current_person()
    if person is not None and person.id == person_id and person.came_by_lti is not None:
        return person.came_by_lti  # read with the log-in session
    return bool(db_session().scalar(select(exists().where(LtiUser.person_id == person_id))))


def _after(response: Response, send) -> Response:
    """Run ``send(session)`` once the response has gone, on a session of its own; a failure
    is logged, never shown (the page is answered already)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        try:
            with app.app_context(), app.extensions["lms"].db.session() as own:
                send(own, float(app.config.get("LMS_LTI_HTTP_TIMEOUT", 5)))
                own.commit()
        except Exception:  # noqa: BLE001 - nothing may reach a person whose page has gone
            log.exception("lms could not send grades to an LTI platform")

    response.call_on_close(run)
    return response


def quiz_grade_after(response: Response, person_id: int, quiz_id: int) -> Response:
    """After a quiz attempt: its score to the platforms the person came from, if any."""
    try:
        if not _came_by_lti(person_id):
            return response
    except Exception:  # noqa: BLE001 - grade passback never costs the trainee their page
        log.exception("lms could not look up LTI links")
        return response
    return _after(response, lambda own, timeout: lti.send_quiz_grade(
        own, person_id, quiz_id, timeout=timeout))


def readiness_after(response: Response, person_id: int, curriculum_id: int) -> Response:
    """After a sign-off: the readiness state to the platforms the trainee came from, if any."""
    try:
        if not _came_by_lti(person_id):
            return response
    except Exception:  # noqa: BLE001 - grade passback never costs the judge their page
        log.exception("lms could not look up LTI links")
        return response
    return _after(response, lambda own, timeout: lti.send_readiness(
        own, person_id, curriculum_id, timeout=timeout))

