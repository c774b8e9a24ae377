"""The trainee's readiness page ("what is left before you can be deployed") and the
dashboard's panel: every to-do in words with its link, percentages cut, sign-offs escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import Agreement, Attempt, SignOff
from lms.models._types import utcnow
from lms.services import attendance, readiness
from lms.services.attendance import Mark
from tests.readiness_fixtures import TODAY, no_standards


def mark(db, cohort, trainee, trainer, make_session, minutes, status, attended=None,
         core=False, title=None):
    extra = {"title": title} if title else {}
    item = make_session(cohort, utcnow() - timedelta(days=2), minutes, core=core, **extra)
    attendance.record_register(db, item, [Mark(trainee.id, status, attended)], trainer)
    db.commit()
    return item


def stale_pass(db, trainee, module):
    quiz = module.quiz
    at = utcnow() - timedelta(days=400)  # older than the policy's 12 months
    db.add(Attempt(person_id=trainee.id, quiz_id=quiz.id,
                   quiz_version_id=quiz.current_version_id, question_order=[],
                   started_at=at, submitted_at=at, score=100.0, passed=True))
    db.commit()
    return at.date()


def sign_off(db, cohort, trainee, decision, **fields):
    row = SignOff(trainee_id=trainee.id, curriculum_id=cohort.curriculum_id,
                  decision=decision, evidence={}, **fields)
    db.add(row)
    db.commit()
    return row


def test_every_to_do_in_words_with_its_link(db, cohort, trainee, trainer, policy,
                                           make_session, module, client_for):
    # 1,999 of 2,500 minutes: 79.96%, below 80% and shown cut, never as 80%.
    mark(db, cohort, trainee, trainer, make_session, 2500, "late", 1999)
    # An excused core session leaves the figure but must still be made up.
    mark(db, cohort, trainee, trainer, make_session, 60, "excused", core=True,
         title="Boundaries")
    stale_pass(db, trainee, module("privacy"))
    agreement = db.scalar(select(Agreement))
    page = client_for(trainee).get("/my/readiness").get_data(as_text=True)
    assert "What is left before you can be deployed" in page
    assert cohort.name in page
    assert "0 of 6 done." in page
    assert "Attendance 79.9% of 41 hours 40 minutes; 80% needed." in page
    assert "80.0%" not in page and "79.96" not in page
    assert "Attend 1 minute more of training to reach 80%." in page
    assert "Make up the session “Boundaries” of" in page
    assert 'href="/my/attendance"' in page
    assert 'href="/modules/listening/quiz">Pass the quiz on “Listening”.</a>' in page
    assert 'href="/modules/privacy/quiz">Take the quiz on “Privacy” again: your pass of' in page
    assert "is more than 12 months old." in page
    assert (f'href="/my/agreements/{agreement.id}">Read and sign the Confidentiality '
            "agreement.</a>") in page
    assert "Have 2 more supervision sessions." in page
    assert "Have 1 hour 30 minutes more of supervision." in page
    assert "Show your supervisor “Active listening” in practice (competent needed)." in page
    assert page.count('class="tag st-bad"') == 6 and 'class="tag st-ok"' not in page


def test_done_criteria_are_tagged_done(db, cohort, trainee, trainer, policy, make_session,
                                      client_for):
    mark(db, cohort, trainee, trainer, make_session, 60, "present", core=True)
    client = client_for(trainee)
    agreement = db.scalar(select(Agreement))
    client.post(f"/my/agreements/{agreement.id}", data={"typed_name": "Tess Trainee"})
    page = client.get("/my/readiness").get_data(as_text=True)
    assert "3 of 6 done." in page  # attendance, core sessions, agreements
    assert page.count(">Done</span>") == 3 and page.count(">To do</span>") == 3
    assert "Attendance 100% of 1 hour; 80% needed." in page
    assert "Confidentiality agreement: version 1 signed on" in page


def test_without_standards_the_page_says_so(db, cohort, trainee, client_for):
    no_standards(db, cohort.curriculum_id)
    client = client_for(trainee)
    page = client.get("/my/readiness").get_data(as_text=True)
    assert "Your programme has not set its standards yet." in page
    assert "Before you can be deployed" not in client.get("/dashboard").get_data(as_text=True)


def test_a_deploy_sign_off_is_shown_with_the_certificates_link(db, cohort, trainee, policy,
                                                              client_for):
    sign_off(db, cohort, trainee, "deploy")
    page = client_for(trainee).get("/my/readiness").get_data(as_text=True)
    assert "You were signed off for deployment on" in page
    assert 'href="/my/certificates"' in page


def test_a_deferral_shows_reasons_plan_and_review_escaped(db, cohort, trainee, policy,
                                                         client_for):
    sign_off(db, cohort, trainee, "defer", reasons="<script>x()</script>\nMore role-play",
             plan="<b>Two</b> observed sessions", review_on=TODAY + timedelta(days=14))
    page = client_for(trainee).get("/my/readiness").get_data(as_text=True)
    assert "Deferred on" in page and "Review on" in page and "The plan" in page
    assert 'class="tag st-bad">Deferred on' in page
    assert "<script>x()" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page
    assert "<b>Two</b>" not in page and "&lt;b&gt;Two&lt;/b&gt; observed sessions" in page
    assert 'class="note-text"' in page  # line breaks kept (white-space: pre-line)


def test_the_dashboard_panel_counts_what_is_done(db, cohort, trainee, policy, client_for):
    client = client_for(trainee)
    found = readiness.readiness_in(db, cohort, trainee.id, today=TODAY)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Before you can be deployed" in page
    assert f"{found.done} of 6 done." in page and found.done == 1  # no core session missed
    assert 'href="/my/readiness">See what is left</a>' in page
    client.post(f"/my/agreements/{db.scalar(select(Agreement.id))}",
                data={"typed_name": "Tess Trainee"})
    assert "2 of 6 done." in client.get("/dashboard").get_data(as_text=True)


def test_the_dashboard_panel_after_a_deploy(db, cohort, trainee, policy, client_for):
    sign_off(db, cohort, trainee, "deploy")
    page = client_for(trainee).get("/dashboard").get_data(as_text=True)
    assert "You were signed off for deployment on" in page
    assert "See what is left" not in page


def test_only_the_trainee_s_own_readiness(db, cohort, trainee, policy, make_person,
                                         make_cohort, client_for):
    other = make_person("trainee", name="Olive Other")
    make_cohort(other, name="Other cohort")
    page = client_for(other).get("/my/readiness").get_data(as_text=True)
    assert "Other cohort" in page and cohort.name not in page and "Tess" not in page


def test_not_enrolled(db, make_person, content, client_for):
    page = client_for(make_person("trainee")).get("/my/readiness").get_data(as_text=True)
    assert "You are not enrolled in any training yet." in page


@pytest.mark.parametrize("role", ["trainer", "supervisor", "admin"])
def test_staff_are_refused(db, cohort, make_person, client_for, role):
    assert client_for(make_person(role)).get("/my/readiness").status_code == 403
