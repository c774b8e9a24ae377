"""Each person's interface language: the page that chooses it, and the locale selector.

The language is the person's own choice (``Person.locale``), else the browser's best match
among ``LMS_LANGUAGES`` (Accept-Language), else ``LMS_DEFAULT_LOCALE``.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask import current_app, g, has_request_context, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh

from lms.forms.language import LanguageForm
from lms.web.access import current_person, db_session, login_required
from lms.web.blueprint import make_blueprint
from lms.web.form_handling import handle_post

bp = make_blueprint("lms_language", __name__)


def languages() -> list[str]:
    """The languages this programme offers, as configured."""
    return list(current_app.config["LMS_LANGUAGES"])


def language_name(code: str) -> str:
    """A language named in itself ("Français"), so a person can find theirs in any interface."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]


def select_locale() -> str:
    """Flask-Babel's locale selector, installed only when lms created the Babel instance."""
    offered = languages()
    default = current_app.config["LMS_DEFAULT_LOCALE"]
    if not has_request_context():
        return _regional(default)
    person = _known_person()
    chosen = getattr(person, "locale", None) if person is not None else None
    if chosen and chosen in offered:
        return _regional(chosen)
    return _regional(request.accept_languages.best_match(offered) or default)


def _known_person():
    """The person, without making one: a host user's person only once this request has
    found it (an error page about making it must not try again)."""
    if current_app.config.get("LMS_HOST_USER") is not None \
            and current_app.config.get("LMS_CURRENT_PERSON") is None:
        return g.get("lms_host_person")
    return current_person()


def _regional(code: str) -> str:
    """BABEL_DEFAULT_LOCALE's region for its language: with "en_GB" there, English pages show
    dates the British way."""
    configured = str(current_app.extensions["babel"].default_locale)
    return configured if configured.split("_")[0] == code else code


@bp.route("/account/language", methods=["GET", "POST"])
@login_required
def choose():
    """Any logged-in person chooses the language lms shows them."""
    person = current_person()
    form = LanguageForm()
    form.locale.choices = [(code, language_name(code)) for code in languages()]
    if request.method == "GET" and person.locale in languages():
        form.locale.data = person.locale

    def save() -> str:
        person.locale = form.locale.data
        db_session().flush()
        refresh()  # the confirmation, dates and numbers are already in the new language
        return form.locale.data

    outcome = handle_post(form, save, success=lambda _code: _("Your language has been saved."),
                          redirect_to=url_for("lms_language.choose"))
    if outcome.done:
        return outcome.response
    return render_template("lms/account/language.html", form=form), outcome.status
