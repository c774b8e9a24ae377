"""The trainer's pages, end to end through the web."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.models import (
    AttendanceChange,
    AttendanceRecord,
    Cohort,
    CohortStaff,
    Enrolment,
    Person,
    SessionFeedback,
    TrainingSession,
)
from lms.models._types import utcnow
from lms.services import agenda
from tests.conftest import log_in


def test_trainer_creates_a_cohort_and_becomes_its_trainer(db, content, trainer, client_for):
    client = client_for(trainer)
    response = client.post("/cohorts/new", data={
        "name": "Riverside 2027", "curriculum_id": str(content.id), "starts_on": "2027-01-10",
        "ends_on": "2027-03-01", "timezone": "Africa/Nairobi"})
    assert response.status_code == 302
    cohort = db.scalar(select(Cohort).where(Cohort.name == "Riverside 2027"))
    assert cohort.timezone == "Africa/Nairobi"
    assert [(s.person_id, s.role) for s in cohort.staff] == [(trainer.id, "trainer")]
    assert "Riverside 2027" in client.get("/cohorts").get_data(as_text=True)


def test_cohort_form_errors_keep_what_was_typed(content, trainer, client_for):
    response = client_for(trainer).post("/cohorts/new", data={
        "name": "Typo Town", "curriculum_id": str(content.id), "timezone": "Mars/Base"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose a time zone from the list" in page and 'value="Typo Town"' in page


def test_trainer_sees_only_own_cohorts(db, cohort, make_person, make_cohort, client_for):
    other = make_cohort(name="Someone else's")
    page = client_for(db.get(Person, cohort.staff[0].person_id)).get("/cohorts").get_data(
        as_text=True)
    assert cohort.name in page and "Someone else" not in page
    admin_page = client_for(make_person("admin")).get("/cohorts").get_data(as_text=True)
    assert cohort.name in admin_page and "Someone else" in admin_page
    assert client_for(make_person("trainer")).get(f"/cohorts/{other.id}").status_code == 403


def test_csv_upload_with_mistakes_enrols_nobody_and_lists_rows(db, cohort, trainer, client_for):
    client = client_for(trainer)
    data = b"name,email\nGood One,good1@example.org\nNo Email,\nGood Two,good2@example.org\n"
    response = client.post(f"/cohorts/{cohort.id}/enrol-csv", data={
        "csv-file": (io.BytesIO(data), "trainees.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nobody was enrolled" in page and "Row 3:" in page
    assert db.scalar(select(Person).where(Person.email == "good1@example.org")) is None

    good = b"name,email\nGood One,good1@example.org\nGood Two,good2@example.org\n"
    response = client.post(f"/cohorts/{cohort.id}/enrol-csv", data={
        "csv-file": (io.BytesIO(good), "trainees.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 trainees enrolled" in page and "2 new accounts" in page
    link = re.search(r'value="(http://localhost/invitation/[^"]+)"', page).group(1)
    new = db.scalar(select(Person).where(Person.email == "good1@example.org"))
    assert new.password_hash is None  # nobody but the trainee will know their password
    them = client.application.test_client()
    path = link.removeprefix("http://localhost")
    assert them.post(path, data={"password": "chosen by me alone",
                                 "confirm": "chosen by me alone"}).status_code == 302
    log_in(client.application.test_client(), new, "chosen by me alone")


def test_enrol_one_trainee(db, cohort, trainer, client_for):
    response = client_for(trainer).post(f"/cohorts/{cohort.id}/enrol", data={
        "one-name": "Single Person", "one-email": "single@example.org", "one-supervisor_id": "0"})
    assert response.status_code == 200 and "1 trainee enrolled" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Enrolment)
                     .where(Enrolment.cohort_id == cohort.id)) == 2


def session_form(**overrides):
    data = {"title": "Listening skills", "on_date": "2026-03-02", "start_time": "09:30",
            "duration_minutes": "180", "venue": "Clinic hall", "online_link": "",
            "facilitator_id": "0", "activities": ["teaching", "role-play"], "is_core": "y"}
    data.update(overrides)
    return data


def test_add_edit_reorder_cancel_sessions(db, cohort, trainer, client_for, module):
    client = client_for(trainer)
    assert client.post(f"/cohorts/{cohort.id}/sessions/new", data=session_form(
        module_ids=[str(module("listening").id)])).status_code == 302
    assert client.post(f"/cohorts/{cohort.id}/sessions/new",
                       data=session_form(title="Privacy", on_date="2026-03-03")).status_code == 302
    first, second = db.scalars(select(TrainingSession).where(
        TrainingSession.cohort_id == cohort.id).order_by(TrainingSession.position)).all()
    assert first.is_core and first.activities == ["teaching", "role-play"]
    assert first.module_ids == [module("listening").id]

    bad = client.post(f"/cohorts/{cohort.id}/sessions/{first.id}/edit",
                      data=session_form(title="Renamed", online_link="ftp://nope"))
    assert bad.status_code == 422
    assert "starts with https://" in bad.get_data(as_text=True)
    assert 'value="Renamed"' in bad.get_data(as_text=True)

    client.post(f"/cohorts/{cohort.id}/sessions/{second.id}/move", data={"direction": "up"})
    page = client.get(f"/cohorts/{cohort.id}/agenda").get_data(as_text=True)
    assert page.index("Privacy") < page.index("Listening skills")
    response = client.post(f"/cohorts/{cohort.id}/sessions/{first.id}/cancel",
                           data={"reason": "Strike"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(TrainingSession, first.id).cancel_reason == "Strike"
    assert "Cancelled: Strike" in client.get(f"/cohorts/{cohort.id}/agenda").get_data(
        as_text=True)


def test_a_session_from_another_cohort_is_404(db, cohort, trainer, client_for, make_cohort,
                                              make_session):
    foreign = make_session(make_cohort(), utcnow() - timedelta(days=1), 60)
    client = client_for(trainer)
    assert client.get(f"/cohorts/{cohort.id}/sessions/{foreign.id}/register").status_code == 404
    assert client.post(f"/cohorts/{cohort.id}/sessions/{foreign.id}/cancel",
                       data={"reason": "x"}).status_code == 404


def test_copy_agenda_page(db, cohort, trainer, client_for, make_cohort, make_session, content):
    make_session(cohort, utcnow() - timedelta(days=10), 60, title="Old day 1")
    target = make_cohort(name="Next run")
    db.add(CohortStaff(cohort_id=target.id, person_id=trainer.id, role="trainer"))
    db.commit()
    response = client_for(trainer).post(f"/cohorts/{target.id}/agenda/copy", data={
        "source_id": str(cohort.id), "first_date": "2027-02-01"})
    assert response.status_code == 302
    copied = db.scalar(select(TrainingSession).where(TrainingSession.cohort_id == target.id))
    assert copied.title == "Old day 1" and str(copied.on_date) == "2027-02-01"


def test_register_everyone_present_then_exceptions_then_a_correction(
        db, cohort, trainer, trainee, client_for, make_person, make_session):
    second = make_person("trainee", name="Second Trainee")
    db.add(Enrolment(cohort_id=cohort.id, person_id=second.id,
                     enrolled_on=(utcnow() - timedelta(days=30)).date()))
    db.commit()
    item = make_session(cohort, utcnow() - timedelta(hours=3), 120, core=True)
    client = client_for(trainer)
    url = f"/cohorts/{cohort.id}/sessions/{item.id}/register"
    page = client.get(url).get_data(as_text=True)
    assert "Mark everyone not marked below as present" in page and "Second Trainee" in page

    # Late without minutes: refused, nothing saved, choices kept.
    response = client.post(url, data={"everyone": "present", f"status-{second.id}": "late"})
    assert response.status_code == 422
    assert "How many minutes" in response.get_data(as_text=True)
    assert re.search(rf'name="status-{second.id}" value="late" checked',
                     response.get_data(as_text=True))
    assert db.scalar(select(func.count()).select_from(AttendanceRecord)) == 0

    response = client.post(url, data={"everyone": "present", f"status-{second.id}": "late",
                                      f"minutes-{second.id}": "90"})
    assert response.status_code == 302
    marks = dict(db.execute(select(AttendanceRecord.person_id, AttendanceRecord.status)).all())
    assert marks == {trainee.id: "present", second.id: "late"}

    # A correction without a reason is refused; with one it is kept in the history.
    assert client.post(url, data={f"status-{trainee.id}": "absent"}).status_code == 422
    assert client.post(url, data={f"status-{trainee.id}": "absent",
                                  "reason": "Signed in for a friend"}).status_code == 302
    history = client.get(f"/cohorts/{cohort.id}/sessions/{item.id}/history").get_data(
        as_text=True)
    assert "Signed in for a friend" in history and "Present (120 min) → Absent (0 min)" in history
    assert db.scalar(select(func.count()).select_from(AttendanceChange)) == 3

    # Trainee sees their own attendance, including the core session to make up.
    own = client_for(trainee).get("/my/attendance").get_data(as_text=True)
    assert "Core sessions to make up" in own and "0 of 120 minutes attended" in own


def test_unknown_status_is_a_400(db, cohort, trainer, trainee, client_for, make_session):
    item = make_session(cohort, utcnow() - timedelta(hours=3), 120)
    response = client_for(trainer).post(
        f"/cohorts/{cohort.id}/sessions/{item.id}/register",
        data={f"status-{trainee.id}": "teleported"})
    assert response.status_code == 400


def test_make_up_activity_page(db, cohort, trainer, trainee, client_for, make_session):
    item = make_session(cohort, utcnow() - timedelta(days=2), 120, core=True)
    client = client_for(trainer)
    client.post(f"/cohorts/{cohort.id}/sessions/{item.id}/register",
                data={f"status-{trainee.id}": "absent"})
    url = f"/cohorts/{cohort.id}/sessions/{item.id}/make-up"
    bad = client.post(url, data={"person_id": str(trainee.id), "via_session_id": "0",
                                 "activity": "", "minutes": ""})
    assert bad.status_code == 422 and "Describe the make-up activity" in bad.get_data(
        as_text=True)
    ok = client.post(url, data={"person_id": str(trainee.id), "via_session_id": "0",
                                "activity": "One-to-one catch-up", "minutes": "120"})
    assert ok.status_code == 302
    own = client_for(trainee).get("/my/attendance").get_data(as_text=True)
    assert "made up" in own and "Core sessions to make up" not in own


def test_grid_page_filter_sort_and_csv(db, cohort, trainer, trainee, client_for):
    client = client_for(trainer)
    page = client.get(f"/cohorts/{cohort.id}/grid").get_data(as_text=True)
    assert "Tess Trainee" in page and "Listening" in page
    assert client.get(f"/cohorts/{cohort.id}/grid?sort=attendance&show=behind").status_code == 200
    assert client.get(f"/cohorts/{cohort.id}/grid?sort=evil").status_code == 200
    csv_response = client.get(f"/cohorts/{cohort.id}/grid.csv")
    assert csv_response.mimetype == "text/csv"
    assert "Tess Trainee" in csv_response.get_data(as_text=True)


def test_grid_page_query_count_does_not_grow(db, cohort, trainer, client_for, count_queries,
                                             make_person):
    client = client_for(trainer)
    client.get(f"/cohorts/{cohort.id}/grid")
    with count_queries() as few:
        client.get(f"/cohorts/{cohort.id}/grid")
    for _n in range(30):
        person = make_person("trainee")
        db.add(Enrolment(cohort_id=cohort.id, person_id=person.id, enrolled_on=utcnow().date()))
    db.commit()
    with count_queries() as many:
        client.get(f"/cohorts/{cohort.id}/grid")
    assert len(many) == len(few)


def test_statistics_pages(db, cohort, trainer, client_for, make_person):
    client = client_for(trainer)
    page = client.get(f"/cohorts/{cohort.id}/statistics/listening").get_data(as_text=True)
    assert "Quiz statistics: Listening" in page and "0 attempts" in page
    assert client.get(f"/cohorts/{cohort.id}/statistics/listening?attempts=all").status_code == 200
    # Over every cohort: admins only.
    assert client.get("/cohorts/statistics/listening").status_code == 403
    admin = client_for(make_person("admin"))
    assert admin.get("/cohorts/statistics/listening").status_code == 200
    assert client.get(f"/cohorts/{cohort.id}/statistics/wellbeing").status_code == 404


def test_feedback_round_trip(db, cohort, trainer, trainee, client_for, make_session):
    item = make_session(cohort, utcnow() - timedelta(days=1), 60, facilitator_id=trainer.id)
    future = make_session(cohort, utcnow() + timedelta(days=1), 60)
    mine = client_for(trainee)
    assert "Rate this session" in mine.get("/my/agenda").get_data(as_text=True)
    assert mine.post(f"/sessions/{future.id}/feedback", data={"rating": "5"}).status_code == 409
    assert mine.post(f"/sessions/{item.id}/feedback",
                     data={"rating": "4", "comment": "<b>Great</b> role-play"}).status_code == 302
    again = mine.post(f"/sessions/{item.id}/feedback", data={"rating": "1"})
    assert again.status_code == 409
    assert db.scalar(select(func.count()).select_from(SessionFeedback)) == 1
    page = client_for(trainer).get(f"/cohorts/{cohort.id}/feedback").get_data(as_text=True)
    assert "4.0 / 5" in page and "Tom Trainer" in page
    assert "&lt;b&gt;Great&lt;/b&gt; role-play" in page  # escaped, never live HTML


def test_feedback_on_a_session_of_another_cohort_is_404(db, trainee, client_for, make_cohort,
                                                        make_session):
    foreign = make_session(make_cohort(), utcnow() - timedelta(days=1), 60)
    assert client_for(trainee).get(f"/sessions/{foreign.id}/feedback").status_code == 404


def test_calendars_and_print(db, cohort, trainer, trainee, client_for, make_session):
    make_session(cohort, utcnow() + timedelta(days=3), 90, title="Boundaries day")
    cohort_ics = client_for(trainer).get(f"/cohorts/{cohort.id}/agenda.ics")
    assert cohort_ics.mimetype == "text/calendar"
    assert "SUMMARY:Boundaries day" in cohort_ics.get_data(as_text=True)
    mine = client_for(trainee).get("/my/agenda.ics").get_data(as_text=True)
    assert mine.startswith("BEGIN:VCALENDAR") and "SUMMARY:Boundaries day" in mine
    printable = client_for(trainer).get(f"/cohorts/{cohort.id}/agenda/print")
    assert "@media print" in printable.get_data(as_text=True)
    assert "Boundaries day" in printable.get_data(as_text=True)


@pytest.mark.parametrize("zone", ["America", "Etc", "../../etc/passwd", "Mars/Base"])
def test_time_zone_that_is_a_folder_is_a_form_error(content, make_person, client, zone):
    log_in(client, make_person("trainer"))
    response = client.post("/cohorts/new", data={"name": "Z", "curriculum_id": str(content.id),
                                                 "timezone": zone})
    assert response.status_code == 422
    assert "Choose a time zone from the list" in response.get_data(as_text=True)


def test_trainer_cannot_pull_another_cohorts_trainee_into_their_cohort(
        db, app, make_person, make_cohort, trainee):
    """Another programme's trainee, or a member of staff, is enrolled as a stand-in: the
    trainer sees what they typed, and the account itself is in no cohort of theirs."""
    trainer = make_person("trainer")
    mine = make_cohort()
    db.add(CohortStaff(cohort_id=mine.id, person_id=trainer.id, role="trainer"))
    db.commit()
    client = app.test_client()
    log_in(client, trainer)
    staff = make_person("supervisor")
    for typed, email in (("Typed Name", trainee.email), ("Other Typed", staff.email)):
        response = client.post(f"/cohorts/{mine.id}/enrol", data={
            "one-name": typed, "one-email": email, "one-supervisor_id": "0"})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "already has an account" not in page
        assert typed in page
    enrolled = db.scalars(select(Enrolment).where(Enrolment.cohort_id == mine.id)).all()
    assert {e.person.name for e in enrolled} == {"Typed Name", "Other Typed"}
    assert {e.person_id for e in enrolled}.isdisjoint({trainee.id, staff.id})
    assert all(e.person.stands_in for e in enrolled)
    cohort_page = client.get(f"/cohorts/{mine.id}").get_data(as_text=True)
    assert trainee.name not in cohort_page  # (the supervisor is in the supervisor list)


def test_copy_from_a_cohort_you_do_not_train_is_refused(db, app, make_person, make_cohort,
                                                        make_session):
    trainer = make_person("trainer")
    mine, theirs = make_cohort(), make_cohort()
    make_session(theirs, utcnow() - timedelta(days=3), 60)
    db.add(CohortStaff(cohort_id=mine.id, person_id=trainer.id, role="trainer"))
    db.commit()
    client = app.test_client()
    log_in(client, trainer)
    response = client.post(f"/cohorts/{mine.id}/agenda/copy",
                           data={"source_id": str(theirs.id), "first_date": "2027-01-04"})
    assert response.status_code in (403, 422)
    assert agenda.agenda(db, mine.id) == []


def test_upload_over_the_limit_is_413(app, db, make_person, make_cohort):
    trainer = make_person("trainer")
    cohort = make_cohort()
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    db.commit()
    app.config["MAX_CONTENT_LENGTH"] = 1000
    client = app.test_client()
    log_in(client, trainer)
    response = client.post(f"/cohorts/{cohort.id}/enrol-csv", data={
        "csv-file": (io.BytesIO(b"a,b@example.org\n" * 200), "big.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 413


@pytest.mark.settings(WTF_CSRF_ENABLED=True)
def test_enrol_forms_work_with_csrf_on(db, cohort, trainer, app):
    """The cohort page has two prefixed forms; their tokens are accepted, a missing one is not."""
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"email": trainer.email, "password": "correct horse battery",
                                "csrf_token": token})
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    one_token = re.search(r'name="one-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    csv_token = re.search(r'name="csv-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/cohorts/{cohort.id}/enrol", data={
        "one-csrf_token": one_token, "one-name": "Ola", "one-email": "ola@example.org",
        "one-supervisor_id": "0"})
    assert response.status_code == 200 and "1 trainee enrolled" in response.get_data(as_text=True)
    response = client.post(f"/cohorts/{cohort.id}/enrol-csv", data={
        "csv-csrf_token": csv_token,
        "csv-file": (io.BytesIO(b"Pat,pat@example.org\n"), "t.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200 and "1 trainee enrolled" in response.get_data(as_text=True)
    response = client.post(f"/cohorts/{cohort.id}/enrol", data={
        "one-name": "No Token", "one-email": "nt@example.org", "one-supervisor_id": "0"})
    assert response.status_code == 400


def test_trainer_lands_on_cohorts_and_rated_sessions_say_so(db, cohort, trainer, trainee,
                                                            client_for, make_session):
    response = client_for(trainer).get("/")
    assert response.location.endswith("/cohorts")
    item = make_session(cohort, utcnow() - timedelta(days=1), 60)
    mine = client_for(trainee)
    mine.post(f"/sessions/{item.id}/feedback", data={"rating": "5"})
    page = mine.get("/my/agenda").get_data(as_text=True)
    assert "You rated this session" in page and "Rate this session" not in page


@pytest.mark.parametrize("link", ["http://[", "https://[::1", "ftp://x", "https://a b.org"])
def test_odd_online_links_are_form_errors(cohort, trainer, client_for, link):
    response = client_for(trainer).post(f"/cohorts/{cohort.id}/sessions/new",
                                        data=session_form(online_link=link))
    assert response.status_code == 422
    assert "starts with https://" in response.get_data(as_text=True)


def test_cancel_reason_is_one_short_line(db, cohort, trainer, client_for, make_session):
    item = make_session(cohort, utcnow() + timedelta(days=3), 60)
    client = client_for(trainer)
    client.post(f"/cohorts/{cohort.id}/sessions/{item.id}/cancel", data={"reason": "x" * 501})
    db.expire_all()
    assert db.get(TrainingSession, item.id).cancelled_at is None


def test_admin_facilitator_survives_an_edit_and_a_stale_one_is_dropped_on_copy(
        db, cohort, trainer, client_for, make_person, make_session, make_cohort):
    admin = make_person("admin", name="Ada Admin")
    item = make_session(cohort, utcnow() + timedelta(days=3), 60, facilitator_id=admin.id)
    client = client_for(trainer)
    form = client.get(f"/cohorts/{cohort.id}/sessions/{item.id}/edit").get_data(as_text=True)
    assert re.search(rf'<option selected value="{admin.id}">Ada Admin', form) or \
        re.search(rf'value="{admin.id}" selected', form)
    day = item.on_date.isoformat()
    client.post(f"/cohorts/{cohort.id}/sessions/{item.id}/edit", data=session_form(
        title=item.title, on_date=day, facilitator_id=str(admin.id)))
    db.expire_all()
    assert db.get(TrainingSession, item.id).facilitator_id == admin.id
    gone = make_person("trainer", active=False)
    make_session(cohort, utcnow() + timedelta(days=4), 60, facilitator_id=gone.id)
    target = make_cohort()
    db.add(CohortStaff(cohort_id=target.id, person_id=trainer.id, role="trainer"))
    db.commit()
    response = client.post(f"/cohorts/{target.id}/agenda/copy", data={
        "source_id": str(cohort.id), "first_date": "2027-02-01"})
    assert response.status_code == 302
    copies = agenda.agenda(db, target.id)
    assert [c.facilitator_id for c in copies] == [admin.id, None]


def test_register_query_count_does_not_grow_with_recorders(db, cohort, trainer, make_person,
                                                          make_session, client_for,
                                                          count_queries):
    from lms.services import attendance as attendance_service

    item = make_session(cohort, utcnow() - timedelta(days=1), 60)
    client = client_for(trainer)
    url = f"/cohorts/{cohort.id}/sessions/{item.id}/register"
    client.get(url)
    with count_queries() as few:
        client.get(url)
    for _n in range(8):
        person, recorder = make_person("trainee"), make_person("trainer")
        db.add(Enrolment(cohort_id=cohort.id, person_id=person.id,
                         enrolled_on=(utcnow() - timedelta(days=30)).date()))
        db.commit()
        attendance_service.record_register(db, item, [attendance_service.Mark(
            person.id, "present")], recorder)
        db.commit()
    with count_queries() as many:
        client.get(url)
    assert len(many) <= len(few) + 2  # the recorders and their roles: one query each


def test_rate_link_only_for_sessions_the_trainee_may_rate(db, cohort, trainee, make_person,
                                                         client_for, make_session):
    old = make_session(cohort, utcnow() - timedelta(days=10), 60, title="Long ago")
    newcomer = make_person("trainee")
    db.add(Enrolment(cohort_id=cohort.id, person_id=newcomer.id, enrolled_on=utcnow().date()))
    db.commit()
    page = client_for(newcomer).get("/my/agenda").get_data(as_text=True)
    assert "Long ago" in page and "Rate this session" not in page
    assert "Rate this session" in client_for(trainee).get("/my/agenda").get_data(as_text=True)
    assert old.id


def test_cohort_form_shows_every_error_at_once(content, trainer, client_for):
    """A bad date and an unknown zone are both reported on the first save, input kept."""
    response = client_for(trainer).post("/cohorts/new", data={
        "name": "Both Wrong", "curriculum_id": str(content.id), "starts_on": "31/31/2027",
        "timezone": "Atlantis"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Not a valid date value." in page
    assert "Choose a time zone from the list" in page
    assert 'value="Atlantis"' in page and 'value="Both Wrong"' in page


def test_cohort_form_takes_a_city_for_the_time_zone(db, content, trainer, client_for):
    response = client_for(trainer).post("/cohorts/new", data={
        "name": "City", "curriculum_id": str(content.id), "timezone": "Nairobi"})
    assert response.status_code == 302
    made = db.scalar(select(Cohort).where(Cohort.name == "City"))
    assert made.timezone == "Africa/Nairobi"
    page = client_for(trainer).get("/cohorts/new").get_data(as_text=True)
    assert '<datalist id="lms-zones">' in page and 'value="America/Los_Angeles"' in page


def test_enrol_one_shows_every_problem_at_once(db, cohort, trainer, client_for):
    from datetime import timedelta

    from lms.services import time_zones

    earlier = time_zones.local_today(cohort.timezone) - timedelta(days=3)
    response = client_for(trainer).post(f"/cohorts/{cohort.id}/enrol", data={
        "one-name": "", "one-email": "bad email", "one-supervisor_id": "0",
        "one-enrolled_on": earlier.isoformat()})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This field is required." in page
    assert "is not an email address" in page
    assert "Say why the enrolment is back-dated" in page
    assert 'value="bad email"' in page


def test_the_trainee_s_marks_keep_their_colour_in_every_language(db, cohort, trainer, trainee,
                                                                 client_for, make_session):
    """The mark's look follows its code, not its (translated) label."""
    item = make_session(cohort, utcnow() - timedelta(days=2), 120)
    client_for(trainer).post(f"/cohorts/{cohort.id}/sessions/{item.id}/register",
                             data={f"status-{trainee.id}": "left_early",
                                   f"minutes-{item.id}": "60", f"minutes-{trainee.id}": "60"})
    for language in ("en", "fr"):
        own = client_for(trainee).get("/my/attendance",
                                      headers={"Accept-Language": language}).get_data(
            as_text=True)
        assert 'class="tag st-warn"' in own, language
