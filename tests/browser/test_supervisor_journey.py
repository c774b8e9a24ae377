"""A supervisor sees a flag, records supervision with an agreed action, and acknowledges a
flag with a note, on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import CheckIn
from lms.models._types import utcnow
from lms.services import supervisors
from tests.browser.conftest import log_in

# Real conditions: CSRF on, as in production.
pytestmark = [pytest.mark.browser, pytest.mark.settings(WTF_CSRF_ENABLED=True)]


def test_supervisor_sees_a_flag_records_supervision_and_acknowledges(phone_page, db, trainee,
                                                                      make_person, audit):
    supervisor = make_person("supervisor", name="Sam Supervisor")
    today = utcnow().date()
    supervisors.assign(db, trainee, supervisor, on=today - timedelta(days=40))
    db.add(CheckIn(trainee_id=trainee.id, at=utcnow() - timedelta(days=1), mood=4, calm=2,
                   manageable=4, sleep=1, supported=4, note="Hard week", wants_to_talk=True))
    db.commit()
    page = phone_page

    log_in(page, supervisor, "**/supervision/")
    audit(page)
    card = page.locator("section.supervisee", has_text=trainee.name)
    assert "Calm 2/5, Sleep 1/5" in card.inner_text()
    assert "Would like to talk" in card.inner_text()
    assert "No supervision yet" in card.inner_text()

    # Record an individual supervision with one action agreed.
    card.locator("a.button", has_text="Record supervision").click()
    page.wait_for_url("**/supervision/records/new?person_id=*")
    audit(page)
    assert page.locator(f"input[name=trainee_ids][value='{trainee.id}']").is_checked()
    page.fill("#duration_minutes", "40")
    page.check("input[name=format][value=phone]")
    page.check("input[name=topics][value=wellbeing]")
    page.fill("#notes", "Talked about the week and sleep.")
    page.fill("#actions-0-description", "Try the wind-down routine")
    page.select_option("#actions-0-owner_id", str(trainee.id))
    page.fill("#actions-0-due_on", (today + timedelta(days=7)).isoformat())
    page.click("button:has-text('Save supervision record')")
    page.wait_for_url("**/supervision/records/*")
    assert "Try the wind-down routine" in page.content()
    audit(page)

    # Supervision held today clears "would like to talk" and "overdue"; the low check-in stays.
    page.goto("/supervision/")
    card = page.locator("section.supervisee", has_text=trainee.name)
    text = card.inner_text()
    assert "Would like to talk" not in text and "No supervision yet" not in text
    card.locator("a", has_text="Acknowledge").first.click()
    page.wait_for_url("**/acknowledge?key=*")
    audit(page)
    page.click("button:has-text('Acknowledge')")  # without a note: refused, kept on the page
    assert "Write a note" in page.locator(".error-summary").inner_text()
    audit(page)
    page.fill("#note", "Called her; we meet again on Friday.")
    page.click("button:has-text('Acknowledge')")
    page.wait_for_url("**/supervision/")
    card = page.locator("section.supervisee", has_text=trainee.name)
    assert "Called her; we meet again on Friday." in card.inner_text()
    assert "No open flags" in card.inner_text()
    audit(page)

    page.goto(f"/supervision/people/{trainee.id}")
    assert "Hard week" in page.content()
    audit(page)
    assert audit.problems == []


def test_supervisor_rates_defers_then_signs_off(phone_page, db, cohort, trainee, supervisor,
                                                policy, audit):
    """The readiness page on a phone: a rating, a deferral, then a deploy with an override;
    the certificate's public page says it is valid."""
    from lms.models import Certificate

    page = phone_page
    log_in(page, supervisor, "**/supervision/")
    page.goto(f"/supervision/people/{trainee.id}/readiness")
    audit(page)
    assert "Pass the quiz on" in page.content()
    c = cohort.id
    page.select_option(f"#rate-{c}-competency", "listening")
    page.check(f"input[name='rate-{c}-rating'][value=developing]")
    page.fill(f"#rate-{c}-observed_on", utcnow().date().isoformat())
    page.check(f"input[name='rate-{c}-setting'][value=role_play]")
    page.fill(f"#rate-{c}-evidence", "Good open questions; summarised too early.")
    page.click("button:has-text('Save rating')")
    page.wait_for_url("**/readiness#ratings")
    assert "Rating saved" in page.content()
    page.check(f"input[name='sign-{c}-decision'][value=defer]")
    page.click("button:has-text('Record the decision')")
    assert "Give the reasons for deferring" in page.locator(".error-summary").first.inner_text()
    audit(page)
    page.fill(f"#sign-{c}-reasons", "Listening is still developing.")
    page.fill(f"#sign-{c}-plan", "Two observed role-plays, then review.")
    page.fill(f"#sign-{c}-review_on", (utcnow().date() + timedelta(days=14)).isoformat())
    page.click("button:has-text('Record the decision')")
    page.wait_for_url("**/readiness#decisions")
    assert "Deferred" in page.content()
    page.check(f"input[name='sign-{c}-decision'][value=deploy]")
    page.fill(f"#sign-{c}-override_justification",
              "Experienced volunteer; the remaining quiz is booked for next week.")
    page.click("button:has-text('Record the decision')")
    page.wait_for_url("**/readiness#decisions")
    assert "Signed off for deployment" in page.content()
    audit(page)
    code = db.scalar(select(Certificate.code))
    page.click(f"a[href='/verify/{code}']")
    page.wait_for_url(f"**/verify/{code}")
    assert "Valid" in page.content() and trainee.name in page.content()
    audit(page)
    assert audit.problems == []
