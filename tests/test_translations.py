"""The interface in French: catalogues up to date, the language chosen per person, and a
trainee's pages with no English left over."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

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


# --- a trainee's journey in French -------------------------------------------------------------

CONTENT = ROOT / "tests" / "content"


def _same_in_both() -> list[re.Pattern]:
    """Messages French writes as English does ("Module", "%(num)d questions"), as patterns."""
    patterns = []
    for message in french_catalogue():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in set(ids) & set(strings):
            if text:
                parts = PLACEHOLDER.split(text)
                patterns.append(re.compile(".+?".join(re.escape(p) for p in parts[::2]) + "$"))
    return patterns


SAME_IN_BOTH = _same_in_both()


class _TextNodes(HTMLParser):
    """The visible text of a page, one string per text node (scripts and styles left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.nodes.append(text)


def text_nodes(html: str) -> list[str]:
    parser = _TextNodes()
    parser.feed(html)
    return parser.nodes


def content_corpus() -> str:
    """Everything the test curricula and quizzes say: content, not interface."""
    text = " ".join(path.read_text(encoding="utf-8") for path in CONTENT.rglob("*")
                    if path.is_file() and path.suffix in (".md", ".yaml", ".yml"))
    return " ".join(text.split())


def left_in_english(english: str, french: str, allowed: set[str]) -> list[str]:
    """Text nodes of the French page that are also on the English page and are interface
    text: not content, names, figures or dates, and not a message French writes the same."""
    corpus = content_corpus()
    seen = set(text_nodes(english))
    found = []
    for node in text_nodes(french):
        words = re.findall(r"[A-Za-z]{2,}", node)
        if node not in seen or not words or node in allowed:
            continue
        if any(pattern.match(node) for pattern in SAME_IN_BOTH):
            continue
        bare = node.strip(" →←·:.,;()“”«»")
        if bare in corpus or bare in allowed or any(name in node for name in allowed):
            continue
        found.append(node)
    return found


@pytest.fixture
def journey(db, client, trainee, supervisor, ready, module, cohort, make_session, trainer):
    """A trainee with something on every page: sessions, a quiz attempt, supervision, a
    debrief, a check-in, an agreement; the pages' addresses, in journey order."""
    from lms.models import Agreement, Attempt, Debrief, SupervisionRecord, TrainingSession
    from lms.services import check_ins

    log_in(client, trainee)
    check_ins.record_check_in(db, trainee, scores={"mood": 4, "calm": 3, "manageable": 2,
                                                   "sleep": 5, "supported": 1},
                              note="Fine", wants_to_talk=True)
    db.commit()
    started = client.post("/modules/privacy/quiz")
    pages = ["/dashboard", "/modules/listening", "/modules/listening/quiz", "/progress",
             "/my/agenda", "/my/attendance", "/my/check-in", "/my/check-ins",
             "/my/supervision", "/my/debriefs", "/my/debriefs/new", "/my/readiness",
             "/my/certificates"]
    assert "/attempts/" in started.location
    pages.append(started.location.replace("http://localhost", ""))
    attempt = db.scalar(select(Attempt).where(Attempt.person_id == trainee.id,
                                              Attempt.submitted_at.isnot(None)))
    pages.append(f"/attempts/{attempt.id}/result")
    pages.append(f"/my/supervision/{db.scalar(select(SupervisionRecord.id))}")
    pages.append(f"/my/agreements/{db.scalar(select(Agreement.id))}")
    pages.append(f"/sessions/{db.scalar(select(TrainingSession.id))}/feedback")
    saved = client.post("/my/debriefs/new", data={
        "incident_on": date.today().isoformat(), "incident_type": "other",
        "what_happened": "A hard call.", "how_now": "Tired", "support_needed": "Talk",
        "keep_identifying": "1"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    pages.append(f"/my/debriefs/{db.scalar(select(Debrief.id))}")
    return pages


def test_a_trainee_journey_in_french_leaves_no_interface_text_in_english(client, journey,
                                                                         trainee, supervisor,
                                                                         trainer):
    from lms.models import Cohort, Module, TrainingSession

    session = client.application.extensions["lms"].db.session()
    typed = {"Fine", "A hard call.", "Tired", "Talk"}  # what the journey wrote
    # The attempt page shows a true/false question's options as stored with the quiz version
    # (quiz content): left to the translated-content work.
    typed |= {"True", "False"}
    allowed = {trainee.name, supervisor.name, trainer.name, "Peer supporter training", *typed,
               *session.scalars(select(Cohort.name)), *session.scalars(select(Module.title)),
               *session.scalars(select(TrainingSession.title))}
    session.close()  # on PostgreSQL an open read would block the next test's DROP TABLE
    problems = {}
    for path in journey:
        english = client.get(path, headers={"Accept-Language": "en"})
        french = client.get(path, headers={"Accept-Language": "fr"})
        assert english.status_code == french.status_code == 200, path
        html = french.get_data(as_text=True)
        assert '<html lang="fr">' in html, path
        left = left_in_english(english.get_data(as_text=True), html, allowed)
        if left:
            problems[path] = left
    assert not problems, problems
    visited = "\n".join(journey)
    for page in (r"/attempts/\d+\n", "/result", r"/my/supervision/\d", "/my/agreements/",
                 r"/my/debriefs/\d"):
        assert re.search(page, visited + "\n")  # the pages that need a record were reached


def test_a_service_error_reaches_the_page_in_french(client, trainee, make_session, cohort):
    """ServiceError turns its message into text when raised: inside the request, so in the
    viewer's language."""
    from lms.services import feedback

    log_in(client, trainee)
    future = make_session(cohort, datetime.now(UTC) + timedelta(days=3))
    with (client.application.test_request_context(headers={"Accept-Language": "fr"}),
          client.application.extensions["lms"].db.session() as rating_session,
          pytest.raises(feedback.FeedbackError) as raised):
        feedback.rate(rating_session, trainee.id, future, 5)
    assert raised.value.message == "Vous pourrez évaluer cette séance une fois qu’elle sera " \
                                   "terminée."
    page = client.post(f"/sessions/{future.id}/feedback", data={"rating": "5"},
                       headers={"Accept-Language": "fr"}, follow_redirects=True)
    assert "Vous pourrez évaluer cette séance une fois qu’elle sera terminée." in page.get_data(
        as_text=True)


def test_dates_and_numbers_follow_the_language(app):
    from lms.web.formatting import lms_date, lms_percent

    day = date(2027, 11, 5)
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert lms_date(day) == "5 nov. 2027"
        assert "novembre" in lms_date(day, "long")
        assert lms_percent(79.96) == "79,9\u00a0%"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert lms_date(day) == "Nov 5, 2027"
        assert lms_percent(79.96) == "79.9%"
