"""A trainee logs in, reads a module, takes its quiz, sees feedback and progress."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD

# Real conditions: CSRF on, as in production.
pytestmark = [pytest.mark.browser, pytest.mark.settings(WTF_CSRF_ENABLED=True)]


def test_trainee_reads_takes_quiz_and_sees_progress(phone_page, trainee, audit):
    page = phone_page
    page.goto("/login")
    audit(page)
    page.fill("#email", trainee.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    assert page.locator("h1").inner_text() == "Hello, Tess Trainee"
    assert page.locator(".next-step").inner_text().find("Read “Listening”") >= 0
    audit(page)

    page.click("text=Read “Listening”")
    page.wait_for_url("**/modules/listening")
    assert "Listen with care." in page.content()
    audit(page)
    page.click("text=Mark as read")
    page.wait_for_url("**/modules/listening/quiz")
    audit(page)
    page.click("text=Start the quiz")
    page.wait_for_url("**/attempts/*")
    audit(page)

    # Submit with one question unanswered: the page comes back with the choices kept.
    page.check("input[name=q-l1][value=b]")
    page.click("button:has-text('Submit answers')")
    page.locator(".error-summary").wait_for()
    assert "still need an answer" in page.locator(".error-summary").inner_text()
    assert page.is_checked("input[name=q-l1][value=b]")
    audit(page)

    page.check("input[name=q-l2][value=a]")
    page.check("input[name=q-l2][value=c]")
    page.check("input[name=q-l3][value=true]")
    page.check("input[name=q-l4][value=y]")
    page.click("button:has-text('Submit answers')")
    page.wait_for_url("**/result")
    assert page.locator(".score .big").inner_text() == "75%"
    assert "Passed" in page.locator(".score").inner_text()
    assert "RATIONALE-L4" in page.content()
    audit(page)

    page.click("text=My progress")
    page.wait_for_url("**/progress")
    assert "Quiz passed" in page.content()
    # No horizontal scrolling on a small phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(page)
    assert not audit.problems, "\n".join(audit.problems)


def test_logged_out_visitor_is_sent_to_log_in(phone_page):
    page = phone_page
    page.goto("/dashboard")
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    assert page.locator("h1").inner_text() == "Log in"


def test_trainee_checks_in_and_asks_to_talk(phone_page, db, trainee, make_person, audit):
    from datetime import timedelta

    from lms.models._types import utcnow
    from lms.services import supervisors

    supervisors.assign(db, trainee, make_person("supervisor"),
                       on=utcnow().date() - timedelta(days=30))
    db.commit()
    page = phone_page
    log_in(page, trainee, "**/dashboard")
    assert "check-in" in page.locator("main").inner_text().lower()
    audit(page)
    page.goto("/my/check-in")
    audit(page)
    # One item left out: the form comes back with the error and the other answers kept.
    for item, value in (("mood", 4), ("calm", 2), ("manageable", 3), ("sleep", 2)):
        page.check(f"input[name={item}][value='{value}']")
    page.fill("#note", "Busy week, not sleeping much.")
    page.click("button:has-text('Save my check-in')")
    assert "There is a problem" in page.locator(".error-summary").inner_text()
    assert page.locator("input[name=calm][value='2']").is_checked()
    assert page.input_value("#note") == "Busy week, not sleeping much."
    audit(page)
    page.check("input[name=supported][value='4']")
    page.check("#wants_to_talk")
    page.click("button:has-text('Save my check-in')")
    page.wait_for_url("**/my/check-ins")
    text = page.locator("main").inner_text()
    assert "Your check-in is saved" in text
    assert "Your supervisor will see that you would like to talk" in text
    assert page.locator("svg[role=img]").count() == 1
    assert "Busy week, not sleeping much." in text
    audit(page)
    assert audit.problems == []


def test_trainee_signs_an_agreement_then_sees_what_is_left(phone_page, trainee, audit):
    page = phone_page
    log_in(page, trainee, "**/dashboard")
    panel = page.locator(".readiness-panel").inner_text()
    assert "Before you can be deployed" in panel and "of 6 done." in panel
    page.click(".readiness-panel >> text=See what is left")
    page.wait_for_url("**/my/readiness")
    audit(page)
    assert "Read and sign the Confidentiality agreement." in page.locator("main").inner_text()
    page.click("text=Read and sign the Confidentiality agreement.")
    page.wait_for_url("**/my/agreements/*")
    assert "What people tell you stays private" in page.locator("main").inner_text()
    audit(page)

    # Someone else's name: refused, with the name to type, and what was typed kept.
    page.fill("#typed_name", "Somebody Else")
    page.click("button:has-text('Sign the Confidentiality agreement')")
    page.locator(".error-summary").wait_for()
    assert "Tess Trainee" in page.locator(".error-summary").inner_text()
    assert page.input_value("#typed_name") == "Somebody Else"
    audit(page)

    page.fill("#typed_name", "  tess   TRAINEE ")
    page.click("button:has-text('Sign the Confidentiality agreement')")
    page.wait_for_url("**/my/readiness")
    text = page.locator("main").inner_text()
    assert "You signed the Confidentiality agreement (version 1)." in text
    assert "Read and sign the Confidentiality agreement." not in text
    assert "Read and sign the Code of conduct." in text
    assert "Confidentiality agreement: version 1 signed on" in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(page)
    assert audit.problems == []


def test_trainee_opens_their_certificate_s_verify_page(phone_page, db, cohort, trainee,
                                                       supervisor, audit):
    from lms.models._types import utcnow
    from lms.services import certificates, sign_offs

    judge = sign_offs.judge_of(db, supervisor, trainee, utcnow().date())
    deploy = sign_offs.sign_off(db, judge, trainee, cohort, decision="deploy",
                                override_justification="Signed off for this journey's sake.",
                                today=utcnow().date())
    certificate = certificates.issue(db, deploy, programme=cohort.curriculum.title)
    db.commit()
    page = phone_page
    log_in(page, trainee, "**/dashboard")
    assert "signed off for deployment" in page.locator("main").inner_text()
    page.goto("/my/certificates")
    audit(page)
    shown = certificates.grouped(certificate.code)  # as printed: K7QX-M3RA-TW9P
    page.click(f"a[href$='/verify/{shown}']")
    page.wait_for_url(f"**/verify/{shown}")
    text = page.locator("main").inner_text()
    assert "Valid" in text and trainee.name in text and cohort.curriculum.title in text
    assert trainee.email not in page.content()
    audit(page)
    assert audit.problems == []


def test_trainee_joins_a_cohort_a_trainer_enrolled_their_address_in(phone_page, db, trainee,
                                                                   make_person, make_cohort,
                                                                   audit):
    """Another programme's trainer enrolled Tess's address as "T. Trainee": she logs in, opens
    the link, reads what joining shares, and joins."""
    from lms.models import CohortStaff
    from lms.services import cohorts

    trainer = make_person("trainer", name="Olu Otherprogramme")
    theirs = make_cohort(name="Harbour Clinic peer supporters, spring")
    db.add(CohortStaff(cohort_id=theirs.id, person_id=trainer.id, role="trainer"))
    db.commit()
    result = cohorts.enrol_one(db, theirs, name="T. Trainee", email=trainee.email,
                               actor=trainer)
    db.commit()
    [link] = result.links
    assert result.new_accounts[0].stands_in

    page = phone_page
    log_in(page, trainee, "**/dashboard")
    page.goto(f"/invitation/{link.token}")
    page.wait_for_url("**/invitation")
    text = page.locator("main").inner_text()
    assert "Join a training cohort" in text and "Harbour Clinic peer supporters" in text
    assert "Olu Otherprogramme enrolled your email address, as T. Trainee" in text
    audit(page)
    page.click("button:has-text('Join')")
    page.wait_for_url("**/dashboard")
    assert "You have joined Harbour Clinic peer supporters, spring." in page.locator(
        "main").inner_text()
    audit(page)
    assert audit.problems == []
