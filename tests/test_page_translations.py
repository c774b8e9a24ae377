"""Templates' strings come from the catalogue found once per request, and follow the language
when it changes within the request (a person saving a new language, ``force_locale``)."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, refresh

from lms.web import page_translations

SAVED = "{{ _('Your language has been saved.') }}"


def test_the_catalogue_is_found_once_for_all_the_strings_of_a_page(app, monkeypatch):
    found: list[object] = []
    real = page_translations.get_translations

    def counted():
        found.append(1)
        return real()

    monkeypatch.setattr(page_translations, "get_translations", counted)
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        page = render_template_string(
            SAVED * 5 + "{{ ngettext('%(num)d attempt', '%(num)d attempts', 3) }}")
    assert page.count("Votre langue a été enregistrée.") == 5
    assert "3 tentatives" in page
    assert len(found) == 1
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(SAVED) == "Your language has been saved."
    assert len(found) == 2  # a new request looks again


def test_a_language_changed_within_the_request_is_followed(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}) as context:
        assert render_template_string(SAVED) == "Your language has been saved."
        # What /account/language does after saving: the confirmation is in the new language.
        context.request.environ["HTTP_ACCEPT_LANGUAGE"] = "fr"
        context.request.__dict__.pop("accept_languages", None)
        refresh()
        assert render_template_string(SAVED) == "Votre langue a été enregistrée."
        with force_locale("en"):
            assert render_template_string(SAVED) == "Your language has been saved."
        assert render_template_string(SAVED) == "Votre langue a été enregistrée."


def test_outside_a_request_the_strings_are_the_source_text(app):
    with app.app_context():
        assert render_template_string(SAVED) == "Your language has been saved."


def test_a_hosts_own_templates_keep_flask_babels_look_up(app, monkeypatch):
    # Only lms's blueprints get the kept catalogue; a host page renders as Flask-Babel does.
    found: list[object] = []
    real = page_translations.get_translations
    monkeypatch.setattr(page_translations, "get_translations",
                        lambda: found.append(1) or real())
    with app.test_request_context("/a-host-page", headers={"Accept-Language": "fr"}):
        assert render_template_string(SAVED) == "Votre langue a été enregistrée."
    assert found == []
    assert app.jinja_env.globals["gettext"] is not page_translations.template_callables()[
        "gettext"]


def test_lms_pages_work_under_a_host_whose_babel_leaves_jinja_alone(tmp_path, monkeypatch):
    from flask import Flask
    from flask_babel import Babel

    from lms import LMS

    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    host = Flask("host")
    host.config.update(SECRET_KEY="s", TESTING=True,
                       LMS_DATABASE_URI=f"sqlite:///{tmp_path / 'lms.sqlite3'}")
    Babel(host, configure_jinja=False)
    LMS(host)
    host.extensions["lms"].db.create_all()
    page = host.test_client().get("/login")  # the host's Babel chooses the language
    assert page.status_code == 200
    assert "Forgot your password?" in page.get_data(as_text=True)
    host.extensions["lms"].db.dispose()
