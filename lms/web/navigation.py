"""The main navigation's links, rendered once per kind of page and kept.

Every page's layout shows them, and they depend only on the viewer's roles, the language, the
page's endpoint (which link is current) and where the app is mounted: rendering them afresh
(a dozen ``url_for`` calls, translations and macros) cost about a tenth of a trainee page. The
links come from the overridable template ``lms/_main_nav.html``; the log-out form, which holds
a per-session CSRF token, stays in the layout.
"""

from __future__ import annotations

import threading

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup

from lms.models import Person

# Bounded: the mount point comes from the request (a proxy may set it), so a stream of
# made-up prefixes must not grow the cache without end.
MOST_KEPT = 2048
_KEPT = "lms_main_nav"
_keeping = threading.Lock()


def main_nav(person: Person | None) -> Markup:
    """The ``<li>`` links of the main navigation for ``person`` on this page (none when no
    one is signed in)."""
    if person is None:
        return Markup("")
    roles = frozenset(person.roles)
    key = (roles, str(get_locale()), request.endpoint, request.script_root)
    kept: dict = current_app.extensions.setdefault(_KEPT, {})
    # While templates reload as they are edited (debug), an edited menu shows at once.
    keeping = not current_app.jinja_env.auto_reload
    html = kept.get(key) if keeping else None
    if html is None:
        template = current_app.jinja_env.get_template("lms/_main_nav.html")
        # An .html template: Flask's Jinja escapes every value in it.
        html = Markup(template.render(roles=roles))  # noqa: S704
        if keeping:
            with _keeping:
                if len(kept) >= MOST_KEPT:
                    kept.clear()
                kept[key] = html
    return html
