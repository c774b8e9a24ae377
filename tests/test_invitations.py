"""Invitation and reset links: single use, expiry, replacement, and nobody else's password."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import mail
from lms.models import Invitation, Person
from lms.models._types import utcnow
from lms.services import invitations
from tests.conftest import log_in

NEW = "my very own secret"


def _path(page: str) -> str:
    return re.search(r'value="http://localhost(/invitation/[^"]+)"', page).group(1)


def _choose(client, path: str, password: str = NEW):
    return client.post(path, data={"password": password, "confirm": password})


def test_a_link_works_once_and_only_its_hash_is_stored(db, make_person, app):
    person = make_person("trainee", password_hash=None)
    [link] = invitations.issue(db, [person], purpose=invitations.INVITE,
                               valid_for=timedelta(days=1))
    db.commit()
    stored = db.scalar(select(Invitation).where(Invitation.person_id == person.id))
    assert link.token not in stored.token_hash and len(stored.token_hash) == 64
    client = app.test_client()
    # The token leaves the address bar (and the access log) at once.
    first = client.get(f"/invitation/{link.token}")
    assert first.status_code == 302 and first.location == "/invitation"
    page = client.get("/invitation").get_data(as_text=True)
    assert "Choose your password" in page and person.email in page
    assert link.token not in page
    assert _choose(client, "/invitation").status_code == 302
    assert client.get("/dashboard").status_code == 200  # logged in as themselves
    again = app.test_client().get(f"/invitation/{link.token}", follow_redirects=True)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    log_in(app.test_client(), person, NEW)


def test_an_expired_link_is_refused(db, make_person, app):
    person = make_person("trainee", password_hash=None)
    [link] = invitations.issue(db, [person], purpose=invitations.INVITE,
                               valid_for=timedelta(hours=1), now=utcnow() - timedelta(hours=2))
    db.commit()
    response = _choose(app.test_client(), f"/invitation/{link.token}")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Person, person.id).password_hash is None


def test_a_new_link_replaces_the_old_one(db, make_person, app):
    person = make_person("trainee", password_hash=None)
    [old] = invitations.issue(db, [person], purpose=invitations.INVITE,
                              valid_for=timedelta(days=1))
    [new] = invitations.issue(db, [person], purpose=invitations.INVITE,
                              valid_for=timedelta(days=1))
    db.commit()
    response = app.test_client().get(f"/invitation/{old.token}", follow_redirects=True)
    assert response.status_code == 410 and "replaced" in response.get_data(as_text=True)
    assert _choose(app.test_client(), f"/invitation/{new.token}").status_code == 302


def test_unknown_link_and_weak_password(db, make_person, app):
    assert app.test_client().get("/invitation/not-a-token",
                                 follow_redirects=True).status_code == 410
    assert app.test_client().get("/invitation").status_code == 410  # no link opened
    person = make_person("trainee", password_hash=None)
    [link] = invitations.issue(db, [person], purpose=invitations.INVITE,
                               valid_for=timedelta(days=1))
    db.commit()
    response = _choose(app.test_client(), f"/invitation/{link.token}", "short")
    assert response.status_code == 422 and "at least 10 characters" in response.get_data(
        as_text=True)
    # The link still works after a refused password.
    assert _choose(app.test_client(), f"/invitation/{link.token}").status_code == 302


def test_two_submissions_at_once_spend_the_link_once(db, make_person):
    person = make_person("trainee", password_hash=None)
    [link] = invitations.issue(db, [person], purpose=invitations.INVITE,
                               valid_for=timedelta(days=1))
    db.commit()
    invitations.accept(db, link.token, NEW)
    db.commit()
    with pytest.raises(invitations.InvitationError, match="already been used"):
        invitations.accept(db, link.token, "another password here")


def test_trainer_never_sees_a_password_and_links_skip_people_with_one(
        db, app, make_person, make_cohort, login):
    trainer = make_person("trainer")
    cohort = make_cohort(name="Links")
    from lms.models import CohortStaff
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    db.commit()
    client = login(trainer)
    data = b"name,email\nAmy One,amy@example.org\nBo Two,bo@example.org\n"
    response = client.post(f"/cohorts/{cohort.id}/enrol-csv", data={
        "csv-file": (io.BytesIO(data), "t.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "First password" not in page
    # No password exists to show: each new account waits for its owner to choose one.
    assert db.scalars(select(Person.password_hash).where(
        Person.email.in_(["amy@example.org", "bo@example.org"]))).all() == [None, None]
    amy_path = re.search(r'value="http://localhost(/invitation/[^"]+)"', page).group(1)
    assert _choose(app.test_client(), amy_path).status_code == 302
    # The CSV holds new links only for those still without a password, and kills their old ones.
    csv_text = client.post(f"/cohorts/{cohort.id}/invitations.csv").get_data(as_text=True)
    assert "bo@example.org" in csv_text and "amy@example.org" not in csv_text
    assert csv_text.splitlines()[0] == "name,email,link,valid until (UTC)"
    # Amy's password stays hers: the trainer cannot log in as her.
    amy = db.scalar(select(Person).where(Person.email == "amy@example.org"))
    assert app.test_client().post("/login", data={"email": amy.email, "password": "x" * 12}
                                  ).status_code == 401


def test_trainee_cannot_download_links(db, trainee, make_cohort, login):
    cohort = make_cohort()
    assert login(trainee).post(f"/cohorts/{cohort.id}/invitations.csv").status_code == 403


@pytest.mark.settings(LMS_MAIL_BACKEND="memory")
def test_forgot_password_sends_a_reset_link_by_mail(db, app, make_person):
    person = make_person("trainee")
    client = app.test_client()
    response = client.post("/forgot-password", data={"email": person.email})
    assert "If an account uses that address" in response.get_data(as_text=True)
    assert mail.outbox(app) == []  # sent once the page has gone, not while it waits
    response.close()
    # An unknown address gets the same answer and no mail.
    same = client.post("/forgot-password", data={"email": "nobody@example.org"})
    assert "If an account uses that address" in same.get_data(as_text=True)
    same.close()
    # Reset requests never spend the person's log-in attempts.
    for _ in range(6):
        client.post("/forgot-password", data={"email": person.email}).close()
    log_in(app.test_client(), person)
    sent = mail.outbox(app)
    # Five requests a window per address asked for (the throttle), never to anyone else.
    assert [m.to for m in sent] == [person.email] * 5
    path = re.search(r"http://localhost(/invitation/\S+)", sent[-1].body).group(1)
    assert _choose(app.test_client(), path).status_code == 302
    log_in(app.test_client(), person, NEW)


def test_without_mail_forgot_password_says_ask_an_admin(app):
    page = app.test_client().get("/forgot-password").get_data(as_text=True)
    assert "Ask your programme’s admin for a new log-in link" in page
    assert 'name="email"' not in page


def test_admin_issues_a_new_link(db, app, make_person, login):
    admin = make_person("admin")
    person = make_person("trainee")
    page = login(admin).post(f"/admin/people/{person.id}/link").get_data(as_text=True)
    path = _path(page)
    assert _choose(app.test_client(), path).status_code == 302
    log_in(app.test_client(), person, NEW)
    assert login(make_person("trainer")).post(
        f"/admin/people/{person.id}/link").status_code == 403


def test_someone_logged_in_cannot_spend_another_persons_link(db, make_person, login):
    person = make_person("trainee", password_hash=None)
    [link] = invitations.issue(db, [person], purpose=invitations.INVITE,
                               valid_for=timedelta(days=1))
    db.commit()
    trainer_client = login(make_person("trainer"))
    response = _choose(trainer_client, f"/invitation/{link.token}")
    assert response.status_code == 409 and "for someone else" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Person, person.id).password_hash is None
    assert invitations.find(db, link.token).person_id == person.id  # still usable by them


def test_link_pages_are_never_cached_and_withdrawn_trainees_get_no_new_links(
        db, app, make_person, make_cohort, login):
    from lms.models import CohortStaff
    from lms.services import cohorts, withdrawal

    trainer = make_person("trainer")
    cohort = make_cohort(name="Cache")
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    db.commit()
    client = login(trainer)
    response = client.post(f"/cohorts/{cohort.id}/enrol", data={
        "one-name": "Gone Soon", "one-email": "gone@example.org", "one-supervisor_id": "0"})
    assert response.headers["Cache-Control"] == "no-store"
    gone = db.scalar(select(Person).where(Person.email == "gone@example.org"))
    enrolment = next(e for e in cohorts.enrolments(db, cohort.id) if e.person_id == gone.id)
    withdrawal.withdraw(db, enrolment, enrolment.enrolled_on, "Moved away", trainer)
    db.commit()
    csv_text = client.post(f"/cohorts/{cohort.id}/invitations.csv").get_data(as_text=True)
    assert "gone@example.org" not in csv_text


def test_switch_off_confirmation_never_echoes_a_typed_password(db, make_person, login):
    admin = make_person("admin")
    person = make_person("trainee")
    page = login(admin).post(f"/admin/people/{person.id}", data={
        "name": person.name, "email": person.email, "roles": ["trainee"], "cohort_id": "0",
        "new_password": "typed secret 123"}).get_data(as_text=True)
    assert "Yes, switch off the account" in page and "typed secret 123" not in page


def test_a_second_click_on_enrol_points_to_new_links(db, make_person, make_cohort, login):
    """The first answer showed the link; the second says what happened and how to get one."""
    from lms.models import CohortStaff

    trainer = make_person("trainer")
    cohort = make_cohort(name="Twice")
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    db.commit()
    client = login(trainer)
    data = {"one-name": "Dee Double", "one-email": "dee@example.org", "one-supervisor_id": "0"}
    first = client.post(f"/cohorts/{cohort.id}/enrol", data=data)
    second = client.post(f"/cohorts/{cohort.id}/enrol", data=data)
    assert first.status_code == second.status_code == 200
    page = second.get_data(as_text=True)
    assert "was already enrolled" in page and "Dee Double was enrolled a moment ago" in page
    assert "Make new links for everyone without a password" in page


def test_a_trainer_gets_no_link_for_a_staff_account(db, app, make_person, make_cohort, login):
    """Staff are never enrolled, and a cohort's links are for trainees only."""
    from lms.models import CohortStaff, Enrolment
    from lms.services import cohorts

    trainer = make_person("trainer")
    cohort = make_cohort(name="Mixed")
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    boss = make_person("admin", password_hash=None)
    with pytest.raises(cohorts.CohortError, match="Only trainees"):
        cohorts.enrol(db, cohort, boss)
    # Even a staff account enrolled by other means (an older version) gets no link.
    db.add(Enrolment(cohort_id=cohort.id, person_id=boss.id, enrolled_on=utcnow().date()))
    db.commit()
    csv_text = login(trainer).post(f"/cohorts/{cohort.id}/invitations.csv").get_data(
        as_text=True)
    assert boss.email not in csv_text


def test_setting_a_password_or_changing_the_email_kills_open_links(db, make_person):
    from lms.services import accounts

    admin = make_person("admin")
    person = make_person("trainee", password_hash=None)
    [old] = invitations.issue(db, [person], purpose=invitations.INVITE,
                              valid_for=timedelta(days=1))
    accounts.set_password(db, person, "set by the admin 1", must_change=True)
    with pytest.raises(invitations.InvitationError, match="replaced"):
        invitations.find(db, old.token)
    [mailed] = invitations.issue(db, [person], purpose=invitations.RESET,
                                 valid_for=timedelta(hours=1))
    accounts.update_person(db, admin, person, name=person.name, roles=["trainee"],
                           active=True, email="new.address@example.org")
    with pytest.raises(invitations.InvitationError, match="replaced"):
        invitations.find(db, mailed.token)


def test_csv_row_problems_are_escaped_on_the_page(db, make_person, make_cohort, login):
    from lms.models import CohortStaff

    trainer = make_person("trainer")
    cohort = make_cohort(name="Escape")
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    db.commit()
    data = b"name,email,supervisor\nGood One,good1@example.org,<script>alert(1)</script>\n"
    page = login(trainer).post(f"/cohorts/{cohort.id}/enrol-csv", data={
        "csv-file": (io.BytesIO(data), "t.csv")},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_accept_spends_the_link_only_if_nobody_spent_it_since_it_was_read(
        db, app, make_person, monkeypatch):
    """The race itself: this request read the link as live, another used it meanwhile."""
    person = make_person("trainee", password_hash=None)
    [link] = invitations.issue(db, [person], purpose=invitations.INVITE,
                               valid_for=timedelta(days=1))
    db.commit()
    stale = invitations.find(db, link.token)  # read while still unused
    other = app.extensions["lms"].db.session()
    invitations.accept(other, link.token, "the other click won")
    other.commit()
    other.close()
    monkeypatch.setattr(invitations, "find", lambda *_a, **_k: stale)
    with pytest.raises(invitations.InvitationError, match="already been used"):
        invitations.accept(db, link.token, "this click lost it")
    db.rollback()
    log_in(app.test_client(), person, "the other click won")


def test_the_cohort_page_counts_only_trainees_waiting_for_a_link(
        db, make_person, make_cohort, login):
    from lms.models import CohortStaff, Enrolment

    trainer = make_person("trainer")
    cohort = make_cohort(name="Count")
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    waiting = make_person("trainee", password_hash=None)
    staff = make_person("admin", password_hash=None)
    for person in (waiting, staff):
        db.add(Enrolment(cohort_id=cohort.id, person_id=person.id,
                         enrolled_on=utcnow().date()))
    db.commit()
    page = login(trainer).get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "1 trainee has not chosen a password yet." in page
