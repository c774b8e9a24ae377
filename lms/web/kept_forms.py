"""What someone typed is never lost to a log-in that ended.

A form sent after the log-in session ended (idle for ``LMS_SESSION_IDLE_MINUTES``, say, over a
slow quiz) cannot be acted on: nobody is logged in. Its fields are kept on the server, on the
ended session's row (never in the cookie, which anyone holding the phone can read). When the
same person logs in again, the cookie gets only that row's id (``KEY``), and one page offers
the form back ("Send what you typed"), posting it with a fresh form token to where it was
going. Someone else logging in on the same phone is never offered it. Passwords, files and
the log-in pages' own forms are never kept.
"""

from __future__ import annotations

import json

from flask import request
from flask import session as cookie

from lms.services import login_sessions
from lms.web.access import db_session

KEY = "lms_kept_form"
MAX_BYTES = 64_000  # a long debrief fits; nothing larger is worth a database row


def keep_if_possible() -> bool:
    """Keep the fields of the current (refused) POST for the person whose session ended."""
    token = cookie.get("_user_id")
    if (request.method != "POST" or not isinstance(token, str) or request.files
            or (request.blueprint or "").startswith("lms_auth")):
        return False
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if not name.endswith("csrf_token") and "password" not in name]
    if not fields or len(json.dumps(fields)) > MAX_BYTES:
        return False
    session = db_session()
    if not login_sessions.keep_form(session, token, request.script_root + request.path,
                                    fields):
        return False
    session.commit()
    return True
