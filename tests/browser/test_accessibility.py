"""axe-core on the pages each role uses: no serious or critical accessibility violations.

axe-core comes from the npm registry (`.ci/run` installs it under `.ci/node`, or point
LMS_AXE_JS at axe.min.js). Without it this module skips locally and fails under CI=true.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.models import CohortStaff, Enrolment
from lms.models._types import utcnow
from lms.services import quizzes
from tests.browser.conftest import _missing
from tests.conftest import ROOT
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.settings(WTF_CSRF_ENABLED=True)]


@pytest.fixture
def axe_source() -> str:
    candidates = [os.environ.get("LMS_AXE_JS", ""),
                  str(ROOT / ".ci/node/node_modules/axe-core/axe.min.js")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text(encoding="utf-8")
    _missing("axe-core is not installed (npm install --prefix .ci/node axe-core@4)")
    raise AssertionError("unreachable")


def violations(page, axe_source: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.help + ' ('
                 + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ') + ')');
    }""")
    return [f"{page.url}: {v}" for v in found]


def log_in(page, person) -> None:
    page.goto("/login")
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_pages_have_no_serious_accessibility_violations(phone_page, axe_source, db, trainee,
                                                        make_person, make_session, module):
    page = phone_page
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    enrolment.enrolled_on = (utcnow() - timedelta(days=30)).date()
    trainer = make_person("trainer")
    db.add(CohortStaff(cohort_id=enrolment.cohort_id, person_id=trainer.id, role="trainer"))
    item = make_session(enrolment.cohort, utcnow() - timedelta(days=1), 60,
                        modules=[module("listening")], core=True)
    quiz = module("listening").quiz
    done = quizzes.start_attempt(db, trainee.id, quiz)
    quizzes.submit_attempt(db, trainee.id, done, {"q-l1": ["b"], "q-l2": ["a"],
                                                  "q-l3": ["true"], "q-l4": ["x"]})
    open_attempt = quizzes.start_attempt(db, trainee.id, module("privacy").quiz)
    db.commit()
    cohort_id = enrolment.cohort_id

    # The check itself can fail: a page with an unlabelled image and input is caught.
    page.set_content("<html lang='en'><title>x</title><main><img src='x.png'>"
                     "<input type='text'></main></html>")
    caught = violations(page, axe_source)
    assert any("image-alt" in v for v in caught) and any("label" in v for v in caught)

    problems: list[str] = []
    page.goto("/login")
    problems += violations(page, axe_source)
    log_in(page, trainee)
    for url in ("/dashboard", "/modules/listening", f"/attempts/{open_attempt.id}",
                f"/attempts/{done.id}/result", "/progress", "/my/agenda", "/my/attendance",
                f"/sessions/{item.id}/feedback", "/account/password"):
        page.goto(url)
        problems += violations(page, axe_source)
    page.click("button:has-text('Log out')")
    log_in(page, trainer)
    for url in ("/cohorts", f"/cohorts/{cohort_id}", f"/cohorts/{cohort_id}/agenda",
                f"/cohorts/{cohort_id}/sessions/{item.id}/register",
                f"/cohorts/{cohort_id}/sessions/new", f"/cohorts/{cohort_id}/grid",
                f"/cohorts/{cohort_id}/statistics/listening", f"/cohorts/{cohort_id}/feedback"):
        page.goto(url)
        problems += violations(page, axe_source)
    page.click("button:has-text('Log out')")
    log_in(page, make_person("admin"))
    for url in ("/admin/people", "/admin/people/new", f"/admin/people/{trainee.id}"):
        page.goto(url)
        problems += violations(page, axe_source)
    assert problems == []
