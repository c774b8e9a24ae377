"""The translations a page is written in, found once per request for its templates.

Flask-Babel's template ``_()`` looks the catalogue up again for every string: its locale, domain
and context are each found through Flask's context-local proxies, about ten look-ups per string,
and a page writes 30 to 60 strings (a tenth of a trainee page's time went there). Here the
catalogue is found once and kept beside the locale and domain it was found for; when
either changes (``flask_babel.refresh()`` after a person changes language, ``force_locale``,
another domain) the next string finds it again, so the answer is always Flask-Babel's own.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_app_context
from flask_babel import get_translations
from jinja2 import Environment


def current_translations() -> Any:
    """Flask-Babel's translations for this request (``babel.support.Translations``, or
    ``NullTranslations`` outside one), kept for as long as its locale and domain stay."""
    # Kept on Flask-Babel's own per-request namespace (``g._flask_babel``): one look-up of
    # ``g`` per string.
    babel = g.get("_flask_babel") if has_app_context() else None
    if babel is not None:
        kept = getattr(babel, "lms_translations", None)
        if kept is not None and kept[0] is getattr(babel, "babel_locale", None) \
                and kept[1] is getattr(babel, "babel_domain", None):
            return kept[2]
    translations = get_translations()
    if babel is None and has_app_context():
        babel = g.get("_flask_babel")  # made by the look-up above
    if babel is not None:
        babel.lms_translations = (getattr(babel, "babel_locale", None),
                                  getattr(babel, "babel_domain", None), translations)
    return translations


def _newstyle_callables() -> dict[str, Any]:
    """Jinja's newstyle wrappers (autoescaping, ``%(name)s`` formatting) around the functions
    below, made by Jinja's own ``install_gettext_callables`` on an environment of their own."""
    # Never renders anything: the wrappers escape as the rendering template's context says.
    environment = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    found = {name: environment.globals[name]
             for name in ("gettext", "ngettext", "pgettext", "npgettext")}
    # ``_`` too: lms's templates then work under a host whose Babel left Jinja alone
    # (``Babel(app, configure_jinja=False)``: no i18n extension, no ``_``).
    found["_"] = found["gettext"]
    return found


_CALLABLES = _newstyle_callables()


def template_callables() -> dict[str, Any]:
    """A context processor for lms's blueprints: their templates' ``_``, ``gettext``,
    ``ngettext``, ``pgettext``, ``npgettext`` and ``{% trans %}`` (which Jinja looks up in the
    template's context) go through ``current_translations``. A host's own templates and Jinja
    environment are left as they are."""
    return _CALLABLES
