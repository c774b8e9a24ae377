"""Calendar feeds for calendar apps: public URLs that carry a secret token."""

from __future__ import annotations

from flask import abort

from lms.services import calendar_feeds
from lms.web.access import db_session, public
from lms.web.blueprint import make_blueprint
from lms.web.trainer import ics_response

bp = make_blueprint("lms_calendar", __name__, url_prefix="/calendar")


@bp.route("/<token>.ics")
@public
def feed(token: str):
    """Anyone with the URL: a calendar app cannot log in. The token is the credential."""
    found = calendar_feeds.feed(db_session(), token)
    if found is None:
        abort(404, description="This calendar link is not valid (it may have been replaced).")
    name, sessions = found
    response = ics_response(sessions, name, "training.ics")
    response.headers["Cache-Control"] = "private, max-age=900"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
