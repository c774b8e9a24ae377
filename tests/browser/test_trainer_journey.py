"""A trainer adds a session, takes its register on a phone, and reads the progress grid."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import CohortStaff, Enrolment
from lms.models._types import utcnow
from tests.browser.conftest import crowd, log_in

# Real conditions: CSRF on, as in production.
pytestmark = [pytest.mark.browser, pytest.mark.settings(WTF_CSRF_ENABLED=True)]


def test_trainer_builds_agenda_takes_register_and_reads_grid(phone_page, db, trainee,
                                                             make_person, audit):
    trainer = make_person("trainer", name="Tina Trainer")
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    month_ago = (utcnow() - timedelta(days=30)).date()
    enrolment.enrolled_on = month_ago
    db.add(CohortStaff(cohort_id=enrolment.cohort_id, person_id=trainer.id, role="trainer"))
    # A real cohort's size, with long names and addresses: the pages must still fit a phone.
    crowd(db, enrolment.cohort, 20, enrolled_on=month_ago)
    db.commit()
    cohort_id = enrolment.cohort_id
    page = phone_page

    log_in(page, trainer)
    audit(page)
    # Enrol two more trainees from a CSV file through the page.
    page.goto(f"/cohorts/{cohort_id}")
    audit(page)
    page.set_input_files("#csv-file", files=[{
        "name": "trainees.csv", "mimeType": "text/csv",
        "buffer": b"name,email\nAma Mensah,ama@example.org\nBo Lin,bo@example.org\n"}])
    page.click("button:has-text('Upload and enrol')")
    assert "2 trainees enrolled" in page.content()
    # Invitation links, shown once; no password exists for anyone but the trainee to know.
    assert page.locator("input.link-box").count() == 2
    audit(page)

    page.goto(f"/cohorts/{cohort_id}/sessions/new")
    audit(page)
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    page.fill("#title", "Active listening practice")
    page.fill("#on_date", yesterday)
    page.fill("#start_time", "10:00")
    page.fill("#duration_minutes", "120")
    page.check("input[name=activities][value=role-play]")
    page.check("#is_core")
    page.click("button:has-text('Save session')")
    page.wait_for_url(f"**/cohorts/{cohort_id}/agenda")
    assert "Active listening practice" in page.content()
    audit(page)

    page.click("a.button:has-text('Register')")
    page.wait_for_url("**/register")
    audit(page)
    page.check("input[name=everyone]")
    page.click("button:has-text('Save register')")
    page.wait_for_url("**/register")
    # Tess and the 20 others were enrolled a month ago; the two new ones only today, after it.
    assert "Register saved: 21 marks recorded" in page.locator(".flash").inner_text()
    assert page.is_checked(f"input[name=status-{trainee.id}][value=present]")
    audit(page)
    page.click("text=History of marks and corrections")
    page.wait_for_url("**/history")
    audit(page)

    page.goto(f"/cohorts/{cohort_id}/grid")
    audit(page)
    row = page.locator("table.grid tbody tr", has_text="Tess Trainee")
    assert "100%" in row.inner_text()
    page.select_option("#sort", "attendance")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/grid?sort=attendance*")
    assert "Tess Trainee" in page.content()
    audit(page)
    assert not audit.problems, "\n".join(audit.problems)


def test_trainer_reads_the_whole_cohorts_attendance_on_a_phone(phone_page, db, trainee,
                                                                make_person, make_session,
                                                                audit):
    from lms.services import attendance
    from lms.services.attendance import Mark

    trainer = make_person("trainer", name="Tina Trainer")
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    month_ago = (utcnow() - timedelta(days=30)).date()
    enrolment.enrolled_on = month_ago
    db.add(CohortStaff(cohort_id=enrolment.cohort_id, person_id=trainer.id, role="trainer"))
    people = [trainee, *crowd(db, enrolment.cohort, 20, enrolled_on=month_ago)]
    for day in range(12):  # more sessions than a phone shows at once
        item = make_session(enrolment.cohort, utcnow() - timedelta(days=25 - 2 * day), 90,
                            core=day % 4 == 0)
        attendance.record_register(db, item, [
            Mark(p.id, "absent" if (n + day) % 7 == 0 else "present")
            for n, p in enumerate(people)], trainer)
    db.commit()
    cohort_id = enrolment.cohort_id
    page = phone_page

    log_in(page, trainer)
    page.goto(f"/cohorts/{cohort_id}")
    page.click(".subnav a:has-text('Attendance')")
    page.wait_for_url(f"**/cohorts/{cohort_id}/attendance")
    audit(page)
    box = page.locator("#att-box")
    # The table scrolls sideways inside its own box, and the names stay in view.
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    name = page.locator("table.att tbody th", has_text="Tess Trainee")
    before = name.bounding_box()["x"]
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    assert abs(name.bounding_box()["x"] - before) < 1
    assert box.evaluate("b => b.scrollLeft") > 0
    page.select_option("#show", "below")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/attendance?*show=below*")
    rows = page.locator("table.att tbody tr")
    assert rows.count() >= 1 and "below the standard" in rows.first.inner_text()
    audit(page)
    assert not audit.problems, "\n".join(audit.problems)
