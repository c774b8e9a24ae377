"""Every page each role uses, with a cohort big enough to show layout problems.

On each page: axe-core finds no serious or critical accessibility violation, and
``checks.look`` finds no unreadable, zero-size or clipped control and no sideways scrolling at
320, 390 and 1366 px.

axe-core comes from the npm registry (`.ci/run` installs it under `.ci/node`, or point
LMS_AXE_JS at axe.min.js). Without it this module skips locally and fails under CI=true.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.models import Agreement, CohortStaff, Enrolment
from lms.models._types import utcnow
from lms.services import agenda, attendance, quizzes, withdrawal
from lms.services.attendance import Mark
from tests.browser.checks import control_problems, look, misaligned, overflow
from tests.browser.conftest import _missing, crowd, log_in
from tests.conftest import ROOT

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


def link_problems(page, where: str) -> list[str]:
    """A log-in link is shown whole on a desktop and takes the full width on a phone."""
    found = []
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 800})
        shown, whole, box, room = page.evaluate("""() => {
            const input = document.querySelector('input.link-box');
            const room = input.closest('td, .field').getBoundingClientRect().width;
            return [input.clientWidth, input.scrollWidth, input.getBoundingClientRect().width,
                    room];
        }""")
        if width > 1000 and whole > shown + 1:
            found.append(f"{where} @{width}: the link is cut ({shown} of {whole} px shown)")
        if width < 1000 and box < 0.9 * room:
            found.append(f"{where} @{width}: the link box is {box:.0f} px of {room:.0f} px")
    page.set_viewport_size({"width": 360, "height": 740})
    return found


def test_the_checks_catch_what_they_should(phone_page):
    """Each check fails on a page made to fail it."""
    page = phone_page
    page.set_content(
        "<html lang='en'><body style='margin:0'><main>"
        "<button style='color:#fff;background:none;border:0'>White on white</button>"
        "<div style='background:#0d2b45'><a href='#' style='color:#1d5fa8'>Dark on dark</a>"
        "<a href='#' style='color:#fff'>Fine</a></div>"
        "<div style='opacity:.3'><a href='#'>Faded</a></div>"
        "<div style='background:rgba(0,0,0,.85)'>"
        "<a href='#' style='color:#333'>Translucent</a></div>"
        "<div style='overflow:hidden;height:10px'>"
        "<button style='margin-top:20px'>Cut</button></div>"
        "<button style='width:0;height:0;padding:0;border:0'>Zero</button>"
        "<a href='#' style='position:absolute;left:-999px'>Lost</a>"
        "<a href='#' class='skip'>Skip</a>"
        "<style>.skip{position:absolute;left:-999px} .skip:focus{left:0}</style>"
        "<details><summary>More</summary><button style='color:#eee'>Inside</button></details>"
        "<div class='actions' style='display:flex;align-items:center'><button>Level</button>"
        "<form style='margin:0'><button style='margin:0 0 8px'>Raised</button></form></div>"
        "<div style='width:600px'>wide</div></main></body></html>")
    problems = "\n".join(control_problems(page))
    for bad in ("White on white", "Dark on dark", "Faded", "Translucent", "Cut", "Zero", "Lost",
                "Inside"):
        assert f'"{bad}"' in problems, (bad, problems)
    assert '"Fine"' not in problems and '"Skip"' not in problems
    assert misaligned(page) == ['buttons out of line: "Level" and "Raised" (4 px)']
    assert overflow(page) > 0
    assert any("document is 600 px wide" in line for line in look(page, widths=(320,)))


def test_pages_have_no_accessibility_or_layout_problems(phone_page, axe_source, db, trainee,
                                                        make_person, make_session, make_cohort,
                                                        module):
    page = phone_page
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    month_ago = (utcnow() - timedelta(days=30)).date()
    enrolment.enrolled_on = month_ago
    cohort = enrolment.cohort
    cohort.timezone = "Africa/Nairobi"
    trainer = make_person("trainer", name="Tina Trainer")
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    people = crowd(db, cohort, 20, enrolled_on=month_ago)
    # A name with no place to break: headings, tables and cards must still fit a phone.
    people[2].name = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschafers Smith"
    other = make_cohort(name="Last year's cohort")
    db.add(CohortStaff(cohort_id=other.id, person_id=trainer.id, role="trainer"))
    item = make_session(cohort, utcnow() - timedelta(days=1), 60,
                        modules=[module("listening")], core=True, facilitator_id=trainer.id)
    coming = make_session(cohort, utcnow() + timedelta(days=7), 90, modules=[module("privacy")])
    dropped = make_session(cohort, utcnow() - timedelta(days=3), 60)
    agenda.cancel_session(db, dropped, "The venue flooded", by=trainer)
    statuses = ["present", "late", "left_early", "excused", "absent"]
    marks = [Mark(trainee.id, "present")] + [
        Mark(p.id, statuses[n % 5], 30 if statuses[n % 5] in ("late", "left_early") else None)
        for n, p in enumerate(people)]
    attendance.record_register(db, item, marks, trainer)
    attendance.record_register(db, item, [Mark(people[0].id, "absent")], trainer,
                               reason="Signed in for a friend, then left")
    leaver = db.scalar(select(Enrolment).where(Enrolment.person_id == people[3].id))
    withdrawal.withdraw(db, leaver, utcnow().date(), "Moved to another city for work", trainer)
    quiz = module("listening").quiz
    done = quizzes.start_attempt(db, trainee.id, quiz)
    quizzes.submit_attempt(db, trainee.id, done, {"q-l1": ["b"], "q-l2": ["a"],
                                                  "q-l3": ["true"], "q-l4": ["x"]})
    open_attempt = quizzes.start_attempt(db, trainee.id, module("privacy").quiz)
    db.commit()
    cid = cohort.id

    problems: list[str] = []

    def check(url: str | None = None) -> None:
        if url:
            page.goto(url)
        problems.extend(violations(page, axe_source))
        problems.extend(look(page))

    check("/forgot-password")
    check("/invitation/not-a-real-link")
    check("/login")
    page.fill("#email", trainee.email)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    check()  # the error summary
    log_in(page, trainee)
    for url in ("/dashboard", "/modules/listening", "/modules/listening/quiz",
                f"/attempts/{open_attempt.id}", f"/attempts/{done.id}/result", "/progress",
                "/my/agenda", "/my/attendance", f"/sessions/{item.id}/feedback",
                "/account/password", "/account/sessions", "/curricula", "/my/readiness",
                "/my/certificates",
                f"/my/agreements/{db.scalar(select(Agreement.id).where(Agreement.current))}"):
        check(url)
    page.goto(f"/sessions/{item.id}/feedback")
    page.click("main button[type=submit]")
    check()  # the feedback form with an error
    page.click("button:has-text('Log out')")

    log_in(page, trainer)
    for url in ("/cohorts", "/cohorts/new", f"/cohorts/{cid}", f"/cohorts/{cid}/edit",
                f"/cohorts/{cid}/agenda", f"/cohorts/{cid}/agenda/copy",
                f"/cohorts/{cid}/agenda/print", f"/cohorts/{cid}/sessions/new",
                f"/cohorts/{cid}/sessions/{item.id}/edit",
                f"/cohorts/{cid}/sessions/{item.id}/register",
                f"/cohorts/{cid}/sessions/{item.id}/history",
                f"/cohorts/{cid}/sessions/{item.id}/make-up", f"/cohorts/{cid}/grid",
                f"/cohorts/{cid}/statistics/listening", f"/cohorts/{cid}/feedback",
                f"/cohorts/{cid}/readiness", f"/cohorts/{cid}/attendance",
                f"/cohorts/{cid}/sessions/{coming.id}/cancel",
                f"/cohorts/{cid}/trainees/{people[1].id}/withdraw",
                f"/cohorts/{cid}/trainees/{people[3].id}/withdraw",  # withdrawn: the details
                "/curricula", "/modules/listening", "/cohorts/999999"):
        check(url)
    page.goto(f"/cohorts/{cid}")
    page.fill("#one-name", "Precious Nokuthula Mahlangu-Dlamini")
    page.fill("#one-email", "precious.mahlangu@community-peer-support-programme.example.org")
    page.click("button:has-text('Enrol')")
    check()  # enrolled: the new account's log-in link
    problems.extend(link_problems(page, "enrolled"))
    page.goto(f"/cohorts/{cid}/sessions/new")
    page.click("main button[type=submit]")
    check()  # a form with several errors
    page.click("button:has-text('Log out')")

    log_in(page, make_person("admin"))
    for url in ("/admin/people", "/admin/people/new", f"/admin/people/{trainee.id}",
                "/cohorts/statistics/listening", "/admin/audit", "/admin/audit?from=2026-13-45"):
        check(url)
    page.goto("/admin/people/new")
    page.click("main button[type=submit]")
    check()
    page.goto(f"/admin/people/{people[2].id}")
    page.uncheck("#active")
    page.click("main button:has-text('Save')")
    check()  # switching an account off is confirmed first
    page.goto(f"/admin/people/{people[2].id}")
    page.click("button:has-text('Make a new log-in link')")
    check()  # the link, shown once
    problems.extend(link_problems(page, "link issued"))
    link = page.input_value("#link")
    page.click("button:has-text('Log out')")
    check(link)  # choosing a password
    assert not problems, "\n".join(problems)


def test_supervision_pages_have_no_accessibility_or_layout_problems(phone_page, axe_source, db,
                                                                    trainee, make_person):
    """The supervisor's, trainee's and trainer's supervision pages, on the demo's four
    months of records (every kind of flag, a debrief, actions, a long name)."""
    from lms import demo_supervision
    from lms.models import Debrief, SupervisionRecord

    page = phone_page
    supervisor = make_person("supervisor", name="Sara Supervisor")
    trainer = make_person("trainer", name="Tina Trainer")
    amina = make_person("trainee", name="Amina Okafor-Wolfeschlegelsteinhausenberger")
    ben = make_person("trainee", name="Ben Ndlovu")
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    db.add(CohortStaff(cohort_id=enrolment.cohort_id, person_id=trainer.id, role="trainer"))
    demo_supervision.set_up(db, supervisor, [trainee, amina, ben], utcnow().date())
    db.commit()
    record = db.scalar(select(SupervisionRecord).join(SupervisionRecord.attendees)
                       .where(SupervisionRecord.attendees.any(trainee_id=trainee.id))
                       .order_by(SupervisionRecord.held_on.desc()).limit(1))
    debrief = db.scalar(select(Debrief).where(Debrief.trainee_id == ben.id))
    problems: list[str] = []

    def check(url: str | None = None) -> None:
        if url:
            page.goto(url)
        problems.extend(violations(page, axe_source))
        problems.extend(look(page))

    log_in(page, supervisor)
    for url in ("/supervision/", f"/supervision/people/{trainee.id}",
                f"/supervision/people/{amina.id}", f"/supervision/people/{ben.id}",
                "/supervision/records/new", f"/supervision/records/new?person_id={amina.id}",
                f"/supervision/records/{record.id}", f"/supervision/people/{ben.id}/debriefs/new",
                f"/supervision/debriefs/{debrief.id}"):
        check(url)
    page.goto("/supervision/")
    page.locator("a", has_text="Acknowledge").first.click()
    check()
    page.click("main button[type=submit]")
    check()  # the acknowledgement without a note
    page.goto("/supervision/records/new")
    page.click("main button[type=submit]")
    check()  # a record with every field missing
    page.goto(f"/supervision/people/{ben.id}/debriefs/new")
    page.fill("#what_happened", "The client, born 12/03/1985, rang from 07700 900123.")
    page.click("main button[type=submit]")
    check()  # the identifying-text warning
    page.click("button:has-text('Log out')")

    log_in(page, trainee)
    for url in ("/dashboard", "/my/check-in", "/my/check-ins", "/my/supervision",
                f"/my/supervision/{record.id}", "/my/debriefs", "/my/debriefs/new"):
        check(url)
    page.goto("/my/check-in")
    page.click("main button[type=submit]")
    check()  # the check-in with every item missing
    page.click("button:has-text('Log out')")

    log_in(page, ben)
    check(f"/my/debriefs/{debrief.id}")
    page.click("button:has-text('Log out')")

    log_in(page, trainer)
    check(f"/cohorts/{enrolment.cohort_id}/supervisors")
    page.click("button:has-text('Log out')")

    # Readiness: a deferral, then a deployment with an override, and its certificate.
    from lms.services import certificates, sign_offs
    judge = sign_offs.judge_of(db, supervisor, trainee, utcnow().date())
    cohort = enrolment.cohort
    sign_offs.sign_off(db, judge, trainee, cohort, decision="defer", reasons="Not yet",
                       plan="More practice", review_on=utcnow().date() + timedelta(days=9),
                       today=utcnow().date(), now=utcnow() - timedelta(minutes=10))
    deploy = sign_offs.sign_off(db, judge, trainee, cohort, decision="deploy",
                                override_justification="Justified for this page check.",
                                today=utcnow().date())
    certificate = certificates.issue(db, deploy, programme=cohort.curriculum.title)
    db.commit()
    log_in(page, supervisor)
    check(f"/supervision/people/{trainee.id}/readiness")
    page.click("button:has-text('Log out')")
    for url in (f"/verify/{certificate.code}", "/verify", "/verify/NOSUCHCODE42"):
        check(url)
    assert problems == [], "\n".join(problems)


def test_pages_break_no_rule_of_the_content_security_policy(chromium_browser, live_server, db,
                                                           cohort, trainee, trainer):
    """Without the test-only CSP bypass: the pages' own script, styles (the progress bars'
    inline widths) and images all run under lms's policy."""
    context = chromium_browser.new_context(base_url=live_server)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    log_in(page, trainee)
    for url in ("/dashboard", "/my/attendance", "/my/check-in", "/my/check-ins"):
        page.goto(url)
    page.click("button:has-text('Log out')")
    log_in(page, trainer)
    for url in (f"/cohorts/{cohort.id}/grid", f"/cohorts/{cohort.id}"):
        page.goto(url)
    context.close()
    assert refused == []
