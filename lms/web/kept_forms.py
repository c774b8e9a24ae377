"""What someone typed is never lost to a log-in that ended.

A form sent after the log-in session ended (idle for ``LMS_SESSION_IDLE_MINUTES``, say, over a
slow quiz) cannot be acted on: nobody is logged in. Its fields are kept in the cookie session;
after the same person logs in again they are offered back on one page ("Send what you typed"),
which posts them, with a fresh form token, to where they were going. Someone else logging in
on the same phone is never shown them. Files are not kept, nor forms too large for a cookie.
"""

from __future__ import annotations

import json

from flask import request
from flask import session as cookie

from lms.services import login_sessions

KEY = "lms_kept_form"
# The cookie holding the session has about 4 KB; what is kept must leave room for the rest.
MAX_BYTES = 2500


def keep_if_possible() -> bool:
    """Keep the fields of the current (refused) POST for the person whose session ended."""
    token = cookie.get("_user_id")
    if request.method != "POST" or not token or request.files:
        return False
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name != "csrf_token" and not name.endswith("-csrf_token")]
    if len(json.dumps(fields)) > MAX_BYTES:
        return False
    cookie[KEY] = {"path": request.script_root + request.path, "fields": fields,
                   "from": login_sessions.token_hash(token)}
    return True


def kept_for(session, person_id: int) -> dict | None:
    """The kept form, if the session it came from was ``person_id``'s."""
    kept = cookie.get(KEY)
    if not isinstance(kept, dict) or not isinstance(kept.get("from"), str):
        return None
    if login_sessions.person_of(session, kept["from"]) != person_id:
        return None
    return kept


def forget() -> None:
    cookie.pop(KEY, None)
