"""The interface in French: catalogues up to date, the language chosen per person, and a
trainee's pages with no English left over."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from lms.models import Person
from tests.conftest import log_in

ROOT = Path(__file__).resolve().parent.parent
FRENCH = ROOT / "lms" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def french_catalogue():
    with FRENCH.open("rb") as handle:
        return read_po(handle)


# --- the catalogues ------------------------------------------------------------------------

def test_the_catalogue_check_passes():
    """messages.pot matches the code, French is complete and compiled (CI runs the same)."""
    done = subprocess.run([sys.executable, "scripts/translations.py", "check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_french_message_is_translated_and_keeps_its_placeholders():
    catalogue = french_catalogue()
    messages = [m for m in catalogue if m.id]
    assert len(messages) > 1000
    for message in messages:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            # A singular may say "un" instead of %(num)d; every other placeholder is kept.
            found = set(PLACEHOLDER.findall(text))
            assert found - set(PLACEHOLDER.findall(" ".join(ids))) == set(), message.id
            assert wanted - found <= ({"num"} if len(ids) > 1 else set()), message.id


# --- choosing the language -------------------------------------------------------------------

def test_the_browser_language_is_used(client, trainee):
    log_in(client, trainee)
    page = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"},
                      follow_redirects=True)
    assert '<html lang="fr">' in page.get_data(as_text=True)


def test_without_accept_language_the_programme_default_applies(app, client, trainee):
    log_in(client, trainee)
    assert '<html lang="en">' in client.get("/", follow_redirects=True).get_data(as_text=True)
    app.config["LMS_DEFAULT_LOCALE"] = "fr"
    assert '<html lang="fr">' in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_a_language_not_offered_falls_back_to_the_default(client, trainee):
    log_in(client, trainee)
    page = client.get("/", headers={"Accept-Language": "de"}, follow_redirects=True)
    assert '<html lang="en">' in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["trainee", "trainer", "supervisor", "admin"])
def test_anyone_logged_in_chooses_a_language_that_beats_the_browser(client, db, make_person,
                                                                    role):
    person = make_person(role)
    log_in(client, person)
    form = client.get("/account/language", headers={"Accept-Language": "en"})
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert 'type="radio"' in html and 'value="fr"' in html and "Français" in html
    saved = client.post("/account/language", data={"locale": "fr"},
                        headers={"Accept-Language": "en"}, follow_redirects=True)
    assert saved.status_code == 200
    assert '<html lang="fr">' in saved.get_data(as_text=True)
    db.expire_all()
    assert db.get(Person, person.id).locale == "fr"
    again = client.get("/account/language", headers={"Accept-Language": "en-GB,en"})
    assert '<html lang="fr">' in again.get_data(as_text=True)
    assert re.search(r'value="fr" checked', again.get_data(as_text=True))


def test_an_unknown_language_is_refused_and_the_form_kept(client, db, trainee):
    log_in(client, trainee)
    refused = client.post("/account/language", data={"locale": "xx"})
    assert refused.status_code == 422
    assert "error-summary" in refused.get_data(as_text=True)
    missing = client.post("/account/language", data={})
    assert missing.status_code == 422
    db.expire_all()
    assert db.get(Person, trainee.id).locale is None


def test_the_language_page_needs_a_log_in(client):
    page = client.get("/account/language")
    assert page.status_code in (302, 401)
    assert client.post("/account/language", data={"locale": "fr"}).status_code in (302, 401)


def test_the_language_link_is_in_the_navigation(client, trainee):
    log_in(client, trainee)
    assert 'href="/account/language"' in client.get("/", follow_redirects=True).get_data(
        as_text=True)


def test_the_language_form_needs_its_csrf_token(app, client, trainee):
    log_in(client, trainee)
    app.config["WTF_CSRF_ENABLED"] = True
    assert 'name="csrf_token"' in client.get("/account/language").get_data(as_text=True)
    assert client.post("/account/language", data={"locale": "fr"}).status_code == 400
