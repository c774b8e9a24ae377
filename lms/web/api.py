"""The read-only JSON API, for other systems (a clinic's case-management app): people and their
readiness, cohorts with attendance, certificates with their status.

Who may use it: API clients only, by ``Authorization: Bearer <token>`` (an admin issues tokens
at /admin/api-clients). No log-in session counts, so no route here takes a role, and none
changes anything. A wrong or revoked token gets 401; anything outside the client's programme
gets 404, exactly as what does not exist. Every call is in the audit log.
"""

from __future__ import annotations

import json
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException

from lms.services import api_clients, audit
from lms.web import programme
from lms.web.access import db_session, public

bp = Blueprint("lms_api", __name__, url_prefix="/api/v1")

OPENAPI = Path(__file__).resolve().parent.parent / "data" / "openapi.json"


def _json(body: Any, status: int = 200, **headers: str) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                        status=status, mimetype="application/json")
    # Personal data: never kept by a cache on the way.
    response.headers.update({"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                             **headers})
    return response


def _error(status: int, message: str, **headers: str) -> Response:
    return _json({"error": message}, status, **headers)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return _error(error.code or 500, error.description or error.name)


def client_required(view):
    """A live API client's token, or 401; the call is audited whatever its answer."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        session = db_session()
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        client = api_clients.authenticate(session, token)
        if client is None:
            # Refused calls are logged too: a stolen or guessed token shows up.
            audit.record(session, None, audit.API_CALL, "api_client", None,
                         detail={"path": request.full_path.rstrip("?")[:500], "status": 401,
                                 "token": "wrong" if token else "none"})
            session.commit()
            return _error(401, "A valid API token is needed: Authorization: Bearer <token>.",
                          **{"WWW-Authenticate": 'Bearer realm="lms", error="invalid_token"'})
        g.lms_api_client = client
        try:
            response = view(*args, **kwargs)
        except HTTPException as error:
            response = _http_error(error)
        audit.record(session, None, audit.API_CALL, "api_client", client.id,
                     detail={"path": request.full_path.rstrip("?")[:500],
                             "status": response.status_code})
        session.commit()
        return response

    wrapper.lms_roles = None  # type: ignore[attr-defined]  (a token, not a role)
    wrapper.lms_api = True  # type: ignore[attr-defined]
    return wrapper


def _paging() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", "1"))
        per_page = int(request.args.get("per_page", "50"))
    except ValueError:
        abort(400, description="page and per_page must be whole numbers.")
    return page, per_page


def _page(found: api_clients.Page, endpoint: str, **args: Any) -> Response:
    def link(number: int) -> str:
        return url_for(endpoint, page=number, per_page=found.per_page, **args)

    return _json({"items": found.items, "page": found.page, "per_page": found.per_page,
                  "total": found.total, "pages": found.pages,
                  "next": link(found.page + 1) if found.page < found.pages else None,
                  "previous": link(found.page - 1) if found.page > 1 else None})


@bp.route("/people")
@client_required
def people() -> Response:
    """?signed_off=true: who holds a valid certificate (can be matched with a client)."""
    flag = request.args.get("signed_off")
    if flag not in (None, "true", "false"):
        return _error(400, "signed_off must be true or false.")
    page, per_page = _paging()
    args = {"signed_off": flag} if flag else {}
    return _page(api_clients.people(
        db_session(), g.lms_api_client, page=page, per_page=per_page,
        today=programme.today(), signed_off=None if flag is None else flag == "true"),
        "lms_api.people", **args)


@bp.route("/people/<id:person_id>")
@client_required
def person(person_id: int) -> Response:
    found = api_clients.person(db_session(), g.lms_api_client, person_id,
                               today=programme.today())
    return _json(found) if found is not None else _error(404, "No such person.")


@bp.route("/cohorts")
@client_required
def cohorts() -> Response:
    page, per_page = _paging()
    return _page(api_clients.cohorts(db_session(), g.lms_api_client, page=page,
                                     per_page=per_page), "lms_api.cohorts")


@bp.route("/cohorts/<id:cohort_id>")
@client_required
def cohort(cohort_id: int) -> Response:
    found = api_clients.cohort(db_session(), g.lms_api_client, cohort_id,
                               today=programme.today())
    return _json(found) if found is not None else _error(404, "No such cohort.")


@bp.route("/certificates")
@client_required
def certificates() -> Response:
    page, per_page = _paging()
    return _page(api_clients.certificate_list(db_session(), g.lms_api_client, page=page,
                                              per_page=per_page, today=programme.today()),
                 "lms_api.certificates")


@bp.route("/openapi.json")
@public
def openapi() -> Response:
    """The API's description (public: it holds no data)."""
    spec = json.loads(OPENAPI.read_text(encoding="utf-8"))
    spec["servers"] = [{"url": url_for("lms_api.openapi", _external=True)
                        .rsplit("/openapi.json", 1)[0]}]
    spec["info"]["title"] = f"{current_app.config['LMS_SITE_NAME']} API"
    return _json(spec, **{"Cache-Control": "public, max-age=3600"})
