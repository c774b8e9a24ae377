"""Calendar feeds for calendar apps: public URLs that carry a secret token."""

from __future__ import annotations

from flask import Response, abort, request
from flask_babel import gettext as _

from lms.models import TrainingSession
from lms.services import agenda, calendar_feeds
from lms.web.access import db_session, public
from lms.web.blueprint import make_blueprint

bp = make_blueprint("lms_calendar", __name__, url_prefix="/calendar")


def ics_response(sessions: list[TrainingSession], name: str, filename: str) -> Response:
    """An iCalendar download of ``sessions``; event ids are scoped to this host."""
    body = agenda.calendar(sessions, name, host=request.host.split(":")[0] or "lms")
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/<token>.ics")
@public
def feed(token: str):
    """Anyone with the URL: a calendar app cannot log in. The token is the credential."""
    found = calendar_feeds.feed(db_session(), token)
    if found is None:
        abort(404, description=_("This calendar link is not valid (it may have been replaced)."))
    name, sessions = found
    response = ics_response(sessions, name, "training.ics")
    response.headers["Cache-Control"] = "private, max-age=900"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
