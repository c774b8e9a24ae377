"""Browser journeys: Playwright driving Debian's chromium against a live server on loopback.

Without chromium the journeys skip locally; with CI=true a missing browser is a failure.
Never `playwright install`: it downloads a browser, which this machine cannot do.
"""

from __future__ import annotations

import os
import shutil
import threading
import unicodedata

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]


def _missing(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def chromium_browser():
    executable = shutil.which("chromium")
    if executable is None:
        _missing("Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                              headless=True)
        yield launched
        launched.close()


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def phone_page(chromium_browser, live_server):
    # A small phone screen: most trainees use one.
    # bypass_csp: the accessibility checks inject axe-core as a script, which lms's policy (no
    # inline script) rightly blocks; the policy itself is tested in test_security_headers.
    context = chromium_browser.new_context(viewport={"width": 360, "height": 740},
                                           base_url=live_server, bypass_csp=True)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
    yield page
    context.close()
    assert not script_errors, script_errors  # lms.js only enhances, and never breaks


@pytest.fixture
def app_config(app_config, tmp_path):
    """The test content, with a module that has sections (synced, so its headings get ids)."""
    from tests.conftest import TEST_CONTENT

    content = tmp_path / "content"
    shutil.copytree(TEST_CONTENT, content)
    listening = content / "curricula" / "mini" / "listening.md"
    listening.write_text(listening.read_text(encoding="utf-8") + (
        "\n## Why listening matters\n\nPeople open up when they feel heard.\n"
        "\n## Reflecting back\n\nSay back what you heard, in your own words.\n"
        "\n## Reflecting back\n\nA second section with the same title keeps its own id.\n"),
        encoding="utf-8")
    app_config.update(LMS_CURRICULA_FOLDER=str(content / "curricula"),
                      LMS_QUIZZES_FOLDER=str(content / "quizzes"))
    return app_config


def log_in(page, person, landing: str | None = None) -> None:
    """Log ``person`` in through the form (the factories' password); wait for ``landing``
    (a URL pattern such as "**/dashboard") or for the next page to load."""
    from tests.factories import PASSWORD

    page.goto("/login")
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    if landing:
        page.wait_for_url(landing)
    else:
        page.wait_for_load_state()


@pytest.fixture
def audit():
    """Call ``audit(page)`` on every page of a journey; assert ``audit.problems == []``."""
    from tests.browser.checks import Audit

    return Audit()


FIRST = ["Nomvula Precious", "Oluwaseun", "María Fernanda", "Thandiwe", "Chidinma Grace",
         "Bartholomew", "Siobhán", "Mohammed Abdirahman", "Anastasiya", "Kwame Mensah"]
LAST = ["Mahlangu-Dlamini", "Adebayo-Williams", "Rodríguez Castillo", "Khumalo-Ndlovu",
        "Okonkwo-Eze"]


def crowd(db, cohort, count: int = 20, enrolled_on=None):
    """``count`` trainees with long names and long email addresses, enrolled in ``cohort``."""
    from tests import factories

    people = []
    for n in range(count):
        first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
        local = f"{first.split()[0]}.{last.split('-')[0].split()[0]}.{n}".lower()
        local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
        email = f"{local}@community-peer-support-programme.example.org"
        person = factories.PersonFactory(name=f"{first} {last}", email=email,
                                         roles=("trainee",))
        fields = {"enrolled_on": enrolled_on} if enrolled_on else {}
        factories.EnrolmentFactory(cohort_id=cohort.id, person_id=person.id, **fields)
        people.append(person)
    db.commit()
    return people
