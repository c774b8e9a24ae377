"""Withdrawing a trainee from a cohort: the rules, and the pages (trainers', and the trainee's)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.models import AttendanceRecord, CohortStaff
from lms.models._types import utcnow
from lms.services import attendance, calendar_feeds, feedback, withdrawal
from lms.services.attendance import Mark
from lms.services.errors import ServiceError
from lms.services.withdrawal import WithdrawalError


def enrolment_of(db, cohort, person):
    return withdrawal.enrolment_in(db, cohort, person.id)


# --- the rules -----------------------------------------------------------------------------


def test_withdraw_keeps_records_and_says_who_when_and_why(db, cohort, trainer, trainee,
                                                          make_session):
    now = utcnow()
    item = make_session(cohort, now - timedelta(days=3), 60)
    attendance.record_register(db, item, [Mark(trainee.id, "present")], trainer, now=now)
    enrolment = enrolment_of(db, cohort, trainee)
    day = (now - timedelta(days=1)).date()
    withdrawal.withdraw(db, enrolment, day, "  Moved to another city  ", trainer, now=now)
    db.commit()
    db.expire_all()
    again = enrolment_of(db, cohort, trainee)
    assert again.is_withdrawn and again.withdrawn_on == day
    assert again.withdrawn_reason == "Moved to another city"
    assert again.withdrawn_by_id == trainer.id and again.withdrawn_at == now
    assert db.scalar(select(AttendanceRecord.status).where(
        AttendanceRecord.person_id == trainee.id)) == "present"


@pytest.mark.parametrize(("on", "reason", "field", "message"), [
    (lambda today: today, "   ", "reason", "Say why"),
    (lambda today: today - timedelta(days=31), "Left", "withdrawn_on", "enrolled from"),
    (lambda today: today + timedelta(days=1), "Left", "withdrawn_on", "today"),
    (lambda today: None, "Left", "withdrawn_on", "Give the date"),
    (lambda today: today, "x" * 1001, "reason", "under 1,000"),
])
def test_refusals_name_their_field(db, cohort, trainer, trainee, on, reason, field, message):
    enrolment = enrolment_of(db, cohort, trainee)
    with pytest.raises(WithdrawalError) as info:
        withdrawal.withdraw(db, enrolment, on(utcnow().date()), reason, trainer)
    assert isinstance(info.value, ServiceError)
    assert info.value.field == field and message in info.value.problems[field]
    assert not enrolment.is_withdrawn


def test_today_is_the_cohorts_today(db, cohort, trainer, trainee):
    """At 03:00 UTC on 1 December it is still 30 November in Los Angeles."""
    cohort.timezone = "America/Los_Angeles"
    enrolment = enrolment_of(db, cohort, trainee)
    enrolment.enrolled_on = date(2026, 11, 1)
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    with pytest.raises(WithdrawalError, match="2026-11-30 in America/Los_Angeles"):
        withdrawal.withdraw(db, enrolment, date(2026, 12, 1), "Left", trainer, now=now)
    withdrawal.withdraw(db, enrolment, date(2026, 11, 30), "Left", trainer, now=now)
    assert enrolment.withdrawn_on == date(2026, 11, 30)


def test_a_trainee_who_has_not_started_can_be_withdrawn_today(
        db, cohort, trainer, trainee):
    """Someone enrolled from a later day who drops out before starting: no session counts."""
    from lms.services import attendance

    enrolment = enrolment_of(db, cohort, trainee)
    enrolment.enrolled_on = utcnow().date() + timedelta(days=10)
    withdrawal.withdraw(db, enrolment, utcnow().date(), "Changed plans", trainer)
    assert enrolment.is_withdrawn
    later = utcnow().date() + timedelta(days=12)
    assert not attendance.in_enrolment(later, enrolment.enrolled_on, enrolment.withdrawn_on)


def test_already_withdrawn_and_strangers_are_refused(db, cohort, trainer, trainee,
                                                     make_person):
    enrolment = enrolment_of(db, cohort, trainee)
    stranger = make_person("trainer")
    with pytest.raises(WithdrawalError, match="Only a trainer of this cohort"):
        withdrawal.withdraw(db, enrolment, utcnow().date(), "Left", stranger)
    admin = make_person("admin")
    withdrawal.withdraw(db, enrolment, utcnow().date(), "Left", admin)  # admins manage all
    with pytest.raises(WithdrawalError, match="already withdrawn"):
        withdrawal.withdraw(db, enrolment, utcnow().date(), "Again", trainer)


def test_reinstate_undoes_a_withdrawal(db, cohort, trainer, trainee):
    enrolment = enrolment_of(db, cohort, trainee)
    with pytest.raises(WithdrawalError, match="not withdrawn"):
        withdrawal.reinstate(db, enrolment, trainer)
    withdrawal.withdraw(db, enrolment, utcnow().date(), "Wrong person", trainer)
    withdrawal.reinstate(db, enrolment, trainer)
    assert not enrolment.is_withdrawn
    assert (enrolment.withdrawn_reason, enrolment.withdrawn_by_id, enrolment.withdrawn_at) == (
        None, None, None)


# --- the pages -----------------------------------------------------------------------------


def url(cohort, person, action="withdraw"):
    return f"/cohorts/{cohort.id}/trainees/{person.id}/{action}"


def test_withdraw_page_asks_first_then_withdraws(db, cohort, trainer, trainee, client_for):
    client = client_for(trainer)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert url(cohort, trainee) in page and "Withdraw" in page

    confirm = client.get(url(cohort, trainee))
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert f'value="{utcnow().date().isoformat()}"' in html  # today, in the cohort's zone (UTC)
    assert 'name="reason"' in html and "Their records are kept" in html

    day = (utcnow() - timedelta(days=2)).date().isoformat()
    done = client.post(url(cohort, trainee), data={"withdrawn_on": day,
                                                   "reason": "Family reasons"})
    assert done.status_code == 302 and done.location.endswith(f"/cohorts/{cohort.id}")
    db.expire_all()
    assert enrolment_of(db, cohort, trainee).withdrawn_on.isoformat() == day
    listing = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "is withdrawn from" in listing  # the flash
    assert "Family reasons" in listing and "withdrawn on" in listing


def test_no_reason_is_a_422_with_the_error_at_the_reason_and_the_date_kept(
        db, cohort, trainer, trainee, client_for):
    day = (utcnow() - timedelta(days=1)).date().isoformat()
    response = client_for(trainer).post(url(cohort, trainee),
                                        data={"withdrawn_on": day, "reason": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="reason-error"[^>]*>Say why they are leaving', html)
    assert f'value="{day}"' in html
    db.expire_all()
    assert not enrolment_of(db, cohort, trainee).is_withdrawn


def test_only_trainers_of_the_cohort_and_admins_may_withdraw(db, cohort, trainee, make_person,
                                                             make_cohort, client_for):
    other_trainer = make_person("trainer")
    db.add(CohortStaff(cohort_id=make_cohort().id, person_id=other_trainer.id, role="trainer"))
    db.commit()
    form = {"withdrawn_on": utcnow().date().isoformat(), "reason": "Nope"}
    for person in (other_trainer, trainee, make_person("supervisor")):
        client = client_for(person)
        assert client.get(url(cohort, trainee)).status_code == 403
        assert client.post(url(cohort, trainee), data=form).status_code == 403
        assert client.post(url(cohort, trainee, "reinstate")).status_code == 403
    db.expire_all()
    assert not enrolment_of(db, cohort, trainee).is_withdrawn
    admin = client_for(make_person("admin"))
    assert admin.post(url(cohort, trainee), data=form).status_code == 302


def test_someone_not_in_the_cohort_is_a_404(db, cohort, trainer, make_person, client_for):
    outsider = make_person("trainee")
    assert client_for(trainer).get(url(cohort, outsider)).status_code == 404


def test_reinstate_from_the_withdrawal_page(db, cohort, trainer, trainee, client_for):
    withdrawal.withdraw(db, enrolment_of(db, cohort, trainee), utcnow().date(), "Mistake",
                        trainer)
    db.commit()
    client = client_for(trainer)
    page = client.get(url(cohort, trainee)).get_data(as_text=True)
    assert "was withdrawn from" in page and "Mistake" in page and "Tom Trainer" in page
    again = client.post(url(cohort, trainee), data={
        "withdrawn_on": utcnow().date().isoformat(), "reason": "Twice"})
    assert again.status_code == 422 and "already withdrawn" in again.get_data(as_text=True)
    assert client.post(url(cohort, trainee, "reinstate")).status_code == 302
    db.expire_all()
    assert not enrolment_of(db, cohort, trainee).is_withdrawn
    # Reinstating someone who is not withdrawn says so, and changes nothing.
    refused = client.post(url(cohort, trainee, "reinstate"), follow_redirects=True)
    assert "is not withdrawn" in refused.get_data(as_text=True)


def test_trainer_pages_mark_withdrawn_and_switched_off_trainees(
        db, cohort, trainer, trainee, make_person, client_for, make_session):
    from tests.factories import EnrolmentFactory

    now = utcnow()
    off = make_person("trainee", name="Olu Offline", active=False)
    EnrolmentFactory(cohort_id=cohort.id, person_id=off.id,
                     enrolled_on=(now - timedelta(days=30)).date())
    earlier = make_session(cohort, now - timedelta(days=5), 60)
    later = make_session(cohort, now - timedelta(hours=5), 60)
    withdrawal.withdraw(db, enrolment_of(db, cohort, trainee), (now - timedelta(days=2)).date(),
                        "Moved away", trainer, now=now)
    db.commit()
    client = client_for(trainer)

    listing = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "account switched off" in listing

    grid = client.get(f"/cohorts/{cohort.id}/grid").get_data(as_text=True)
    assert "Tess Trainee" in grid and "withdrawn on" in grid and "account switched off" in grid
    active = client.get(f"/cohorts/{cohort.id}/grid?show=active").get_data(as_text=True)
    assert "Tess Trainee" not in active and "Olu Offline" in active
    only = client.get(f"/cohorts/{cohort.id}/grid?show=withdrawn").get_data(as_text=True)
    assert "Tess Trainee" in only and "Olu Offline" not in only
    csv_text = client.get(f"/cohorts/{cohort.id}/grid.csv").get_data(as_text=True)
    assert ",withdrawn," in csv_text

    before = client.get(f"/cohorts/{cohort.id}/sessions/{earlier.id}/register")
    html = before.get_data(as_text=True)
    assert "Tess Trainee" in html and "withdrawn on" in html and "account switched off" in html
    after = client.get(f"/cohorts/{cohort.id}/sessions/{later.id}/register")
    assert "Tess Trainee" not in after.get_data(as_text=True)


def test_trainee_attendance_page_says_they_were_withdrawn(db, cohort, trainer, trainee,
                                                          client_for):
    withdrawal.withdraw(db, enrolment_of(db, cohort, trainee), utcnow().date(), "Left",
                        trainer)
    db.commit()
    page = client_for(trainee).get("/my/attendance").get_data(as_text=True)
    assert "You were withdrawn from this training on" in page


def test_a_withdrawn_trainee_no_longer_sees_or_rates_later_sessions(
        db, cohort, trainer, trainee, client_for, make_session):
    now = utcnow()
    earlier = make_session(cohort, now - timedelta(days=5), 60, title="Before leaving")
    later = make_session(cohort, now - timedelta(days=1), 60, title="After leaving")
    make_session(cohort, now + timedelta(days=7), 60, title="Next week")
    withdrawal.withdraw(db, enrolment_of(db, cohort, trainee), (now - timedelta(days=3)).date(),
                        "Moved away", trainer, now=now)
    db.commit()
    assert feedback.why_not(db, trainee.id, earlier, now) is None
    assert feedback.why_not(db, trainee.id, later, now) == "You were not enrolled for this session."
    assert feedback.rateable_session_ids(db, trainee.id, [earlier, later], now) == {earlier.id}
    client = client_for(trainee)
    for path in ("/my/agenda", "/my/agenda.ics"):
        page = client.get(path).get_data(as_text=True)
        assert "Before leaving" in page, path
        assert "After leaving" not in page and "Next week" not in page, path
    token = calendar_feeds.person_token(db, trainee)
    db.commit()
    _name, sessions = calendar_feeds.feed(db, token)
    assert [s.title for s in sessions] == ["Before leaving"]
