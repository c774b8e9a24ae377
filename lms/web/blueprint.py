"""The one way lms makes a blueprint: CSRF checked, lms error pages and lms's translation look-up
on every one."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

from lms.web import page_translations

ERROR_CODES = (400, 401, 403, 404, 405, 409, 422, 429)


def check_request():
    """Refuse what no lms page can use, before any view runs.

    NUL characters cannot be stored in PostgreSQL text, so they are refused with a reason
    rather than failing deep inside a query.
    """
    values = [v for _k, vs in request.args.lists() for v in vs] + \
        [v for _k, vs in request.form.lists() for v in vs]
    if "\x00" in request.path or any("\x00" in v for v in values):
        abort(400, description=_("The request contains a NUL character."))
    check_csrf()
    return check_password_change()


# Pages open to someone who must first choose their own password.
_OPEN_WHILE_CHANGING = frozenset({"lms_auth.change_password", "lms_auth.logout",
                                  "lms_auth.login", "lms_auth.accept_invitation",
                                  "lms_auth.invitation", "lms_auth.forgot_password",
                                  "lms_calendar.feed", "lms_verify.form",
                                  "lms_verify.certificate"})


def check_password_change():
    """Someone whose password an admin chose must choose their own before anything else."""
    if request.endpoint in _OPEN_WHILE_CHANGING:
        return None
    from lms.web.access import current_person, uses_own_accounts

    person = current_person()
    if person is not None and getattr(person, "must_change_password", False) and \
            uses_own_accounts():
        return redirect(url_for("lms_auth.change_password"))
    return None


def check_csrf() -> None:
    """CSRF on every state-changing lms request, without touching the host app's own views."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    # A prefixed WTForms form (two forms on one page) names its token "<prefix>-csrf_token".
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken") or next(
        (value for key, value in request.form.items() if key.endswith("-csrf_token")), None)
    try:
        validate_csrf(token)
    except (ValidationError, CSRFError):
        abort(400, description=_("This form has expired or did not come from this site. "
                                  "Go back, reload the page and try again."))


def error_page(error):
    code = getattr(error, "code", 500) or 500
    if request_ctx and request_ctx.url_adapter is None:
        # The request could not even be routed (a 5,000-character Host header): no page
        # with links can be built, so the answer is plain text, still with its 4xx code.
        return Response(f"{code} {getattr(error, 'name', 'Error')}: the request could not "
                        "be understood.", status=code, mimetype="text/plain")
    if code >= 500 and "lms_session" in g:
        # After a database error the request's session can only roll back: do it first, so
        # the page (its menu reads the person's roles) can still be drawn.
        g.lms_session.rollback()
    return render_template("lms/error.html", code=code,
                           description=getattr(error, "description", None)), code


# The largest id every database's integer column holds (PostgreSQL's is 32-bit): an id from a
# URL, query string or form above it is no id at all, never a query that overflows.
MAX_ID = 2**31 - 1


def as_id(raw: object) -> int | None:
    """A positive id that fits the database, or None."""
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.isdigit():
        value = int(raw)
    else:
        return None
    return value if 0 < value <= MAX_ID else None


class IdConverter(IntegerConverter):
    """Whole-number ids that fit every database's integer column (PostgreSQL's is 32-bit)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


# No inline script anywhere, so scripts come only from lms's own files; styles allow inline
# attributes (progress bars set their width). Nothing may frame an lms page.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")


def security_headers(response):
    """Headers on every lms response, unless the host app sets its own
    (``LMS_SECURITY_HEADERS = False``); a page that set one already keeps its own."""
    if not current_app.config.get("LMS_SECURITY_HEADERS", True):
        return response
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def make_blueprint(name: str, import_name: str, url_prefix: str | None = None) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    bp.before_request(check_request)
    bp.after_request(security_headers)
    # lms's templates find the translation catalogue once per request (a host's are untouched).
    bp.context_processor(page_translations.template_callables)
    for code in ERROR_CODES:
        bp.register_error_handler(code, error_page)
    return bp
