"""The same trainee journey, in a host app with its own users: Riverside Clinic's example app
(examples/host_app), its own log-in at /login, lms at /training, no second account."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from lms.models import Cohort
from lms.services import cohorts
from tests.test_extension import _curriculum_id, seeded_host

# Real conditions: CSRF on (the host's forms and lms's), as in production.
pytestmark = [pytest.mark.browser]


@pytest.fixture
def host_server(tmp_path):
    """The example host, seeded, with its peer supporter enrolled by email, on loopback."""
    with seeded_host(tmp_path) as (module, app):
        session = app.extensions["lms"].db.session()
        cohort = Cohort(name="Spring peer supporters", curriculum_id=_curriculum_id(session))
        session.add(cohort)
        session.flush()
        # The trainer enrolled her by her clinic address; no link: she logs in to the clinic.
        cohorts.enrol_one(session, cohort, name="Amina", email="supporter@riverside.example",
                          valid_for=None)
        session.commit()
        session.close()
        yield from _serve(module, app)


def _serve(module, app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield module, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_a_clinic_user_reads_and_takes_a_quiz_with_their_clinic_log_in(
        chromium_browser, host_server, audit):
    module, base = host_server
    context = chromium_browser.new_context(viewport={"width": 360, "height": 740},
                                           base_url=base, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto("/training/dashboard")
        page.wait_for_url("**/login?next=*")  # the clinic's log-in, not lms's
        assert "Log in to Riverside Clinic" in page.content()
        page.fill("#email", "supporter@riverside.example")
        page.fill("#password", module.DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/training/dashboard")
        text = page.locator("main").inner_text()
        assert "Training for Amina Peer" in text  # the clinic's name for her
        assert page.locator("text=Password").count() == 0  # no lms account pages
        audit(page)

        page.click("text=Listening")
        page.wait_for_url("**/training/modules/listening")
        assert "Listen with care." in page.content()
        audit(page)
        page.click("text=Mark as read")
        page.wait_for_url("**/training/modules/listening/quiz")
        page.click("text=Start the quiz")
        page.wait_for_url("**/training/attempts/*")
        page.check("input[name=q-l1][value=b]")
        page.check("input[name=q-l2][value=a]")
        page.check("input[name=q-l2][value=c]")
        page.check("input[name=q-l3][value=true]")
        page.check("input[name=q-l4][value=y]")
        page.click("button:has-text('Submit answers')")
        page.wait_for_url("**/result")
        assert "Passed" in page.locator(".score").inner_text()
        audit(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert not audit.problems, "\n".join(audit.problems)
    finally:
        context.close()
