"""The supervisor's dashboard, a supervisee's page, acknowledging a flag, and who is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.models import AuditEvent, CheckIn, FlagAcknowledgement
from lms.models._types import utcnow
from lms.services import flags, supervisors


@pytest.fixture
def supervisor(make_person):
    return make_person("supervisor", name="Sara Supervisor")


def supervise(db, supervisor, *trainees, days_ago=40):
    today = utcnow().date()
    for trainee in trainees:
        supervisors.assign(db, trainee, supervisor, on=today - timedelta(days=days_ago))
    db.commit()


def check_in(db, trainee, days_ago=0, note="", wants_to_talk=False, **scores):
    values = {"mood": 4, "calm": 4, "manageable": 4, "sleep": 4, "supported": 4, **scores}
    item = CheckIn(trainee_id=trainee.id, at=utcnow() - timedelta(days=days_ago), note=note,
                   wants_to_talk=wants_to_talk, **values)
    db.add(item)
    db.commit()
    return item


def test_a_supervisor_lands_on_their_dashboard(supervisor, client_for):
    response = client_for(supervisor).get("/")
    assert response.status_code == 302 and response.location.endswith("/supervision/")


def test_the_dashboard_lists_supervisees_most_urgent_first_with_reasons(
        db, supervisor, make_person, client_for):
    calm = make_person("trainee", name="Calm Carla")
    low = make_person("trainee", name="Low Lola")
    supervise(db, supervisor, calm, low)
    check_in(db, calm)
    check_in(db, low, calm=2)
    from lms.models import SupervisionAttendee, SupervisionRecord
    for person in (calm, low):  # recent supervision, so only the check-in matters
        record = SupervisionRecord(author_id=supervisor.id, held_on=utcnow().date(),
                                   duration_minutes=30, kind="individual", format="phone",
                                   topics=[], notes="", private_note="")
        record.attendees.append(SupervisionAttendee(trainee_id=person.id))
        db.add(record)
    db.commit()
    html = client_for(supervisor).get("/supervision/").get_data(as_text=True)
    assert html.index("Low Lola") < html.index("Calm Carla")
    assert "Low check-in on" in html and "Calm 2/5" in html
    assert "No open flags" in html
    stranger = make_person("trainee", name="Not Mine")
    check_in(db, stranger, calm=1)
    assert "Not Mine" not in client_for(supervisor).get("/supervision/").get_data(as_text=True)


def test_acknowledging_a_flag_keeps_the_note_and_shows_it(db, supervisor, trainee, client_for):
    supervise(db, supervisor, trainee)
    check_in(db, trainee, sleep=1)
    client = client_for(supervisor)
    key = flags.for_trainee(db, trainee.id, utcnow().date(), flags.Settings())[0].key
    url = f"/supervision/people/{trainee.id}/flags/low_check_in/acknowledge?key={key}"
    form = client.get(url)
    assert form.status_code == 200 and "Sleep 1/5" in form.get_data(as_text=True)
    empty = client.post(url, data={"key": key, "note": ""})
    assert empty.status_code == 400
    assert "Write a note" in empty.get_data(as_text=True)
    done = client.post(url, data={"key": key, "note": "Phoned; <b>ok</b>"})
    assert done.status_code == 302
    again = client.post(url, data={"key": key, "note": "Phoned; <b>ok</b>"})
    assert again.status_code == 302, "a double-click gets the first answer"
    assert db.scalar(select(func.count()).select_from(FlagAcknowledgement)) == 1
    html = client.get("/supervision/").get_data(as_text=True)
    assert "Acknowledged on" in html and "Phoned; &lt;b&gt;ok&lt;/b&gt;" in html


def test_a_cleared_flag_cannot_be_acknowledged(db, supervisor, trainee, client_for):
    supervise(db, supervisor, trainee)
    check_in(db, trainee, days_ago=1, sleep=1)
    key = flags.for_trainee(db, trainee.id, utcnow().date(), flags.Settings())[0].key
    check_in(db, trainee)  # a good one since: the flag has cleared
    response = client_for(supervisor).get(
        f"/supervision/people/{trainee.id}/flags/low_check_in/acknowledge?key={key}")
    assert response.status_code == 404
    assert "cleared" in response.get_data(as_text=True)


def test_the_supervisee_page_shows_their_record_and_logs_note_reads(db, supervisor, trainee,
                                                                   client_for):
    supervise(db, supervisor, trainee)
    check_in(db, trainee, note="Tired after a hard week", calm=2)
    response = client_for(supervisor).get(f"/supervision/people/{trainee.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tired after a hard week" in html
    assert "Calm 2/5" in html
    assert "Training" in html and "Listening" in html  # their modules, from the same services
    events = list(db.scalars(select(AuditEvent)))
    assert [(e.actor_id, e.subject_type, e.person_id) for e in events] == [
        (supervisor.id, "check_in_note", trainee.id)]


def test_a_past_or_other_supervisor_is_refused_the_supervisee_page(db, supervisor, trainee,
                                                                  make_person, client_for):
    other = make_person("supervisor")
    supervise(db, supervisor, trainee)
    assert client_for(other).get(f"/supervision/people/{trainee.id}").status_code == 403
    supervisors.assign(db, trainee, other, on=utcnow().date())
    db.commit()
    response = client_for(supervisor).get(f"/supervision/people/{trainee.id}")
    assert response.status_code == 403
    assert "not one of your supervisees" in response.get_data(as_text=True)
    assert client_for(other).get(f"/supervision/people/{trainee.id}").status_code == 200
    assert client_for(supervisor).post(
        f"/supervision/people/{trainee.id}/flags/low_check_in/acknowledge",
        data={"key": "x", "note": "y"}).status_code == 403


@pytest.mark.parametrize("role", ["trainee", "trainer", "admin"])
def test_other_roles_are_refused_supervisor_pages(db, supervisor, trainee, make_person,
                                                  client_for, role):
    supervise(db, supervisor, trainee)
    client = client_for(make_person(role))
    for url in ("/supervision/", f"/supervision/people/{trainee.id}",
                f"/supervision/people/{trainee.id}/flags/low_check_in/acknowledge?key=x"):
        assert client.get(url).status_code == 403, url


def test_trainers_see_that_a_check_in_happened_never_its_scores_or_note(
        db, cohort, trainer, trainee, client_for):
    check_in(db, trainee, note="Private words", calm=1)
    html = client_for(trainer).get(f"/cohorts/{cohort.id}/supervisors").get_data(as_text=True)
    assert "Last check-in" in html
    assert "Private words" not in html and "1/5" not in html
    for url in (f"/cohorts/{cohort.id}", f"/cohorts/{cohort.id}/grid"):
        assert "Private words" not in client_for(trainer).get(url).get_data(as_text=True)


def test_the_dashboard_query_count_does_not_grow_with_supervisees(
        app, db, supervisor, make_person, client_for, count_queries):
    client = client_for(supervisor)

    def add(n):
        people = [make_person("trainee") for _ in range(n)]
        supervise(db, supervisor, *people)
        for person in people:
            check_in(db, person, calm=2)

    add(5)
    with count_queries() as five:
        assert client.get("/supervision/").status_code == 200
    add(55)
    with count_queries() as sixty:
        assert client.get("/supervision/").status_code == 200
    assert len(sixty) == len(five)


def test_a_debrief_s_words_stay_on_its_page(db, supervisor, trainee, client_for):
    from lms.models import AgreedAction, Debrief
    supervise(db, supervisor, trainee)
    debrief = Debrief(trainee_id=trainee.id, started_by_id=trainee.id,
                      supervisor_id=supervisor.id, incident_type="other",
                      incident_on=utcnow().date() - timedelta(days=9), what_happened="x",
                      how_now="", support_needed="", identifying_kept=[])
    debrief.actions.append(AgreedAction(description="SECRET FOLLOWUP",
                                        due_on=utcnow().date() - timedelta(days=2)))
    db.add(debrief)
    db.commit()
    html = client_for(supervisor).get("/supervision/").get_data(as_text=True)
    assert "A debrief follow-up is past its due date" in html
    assert "SECRET FOLLOWUP" not in html
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.settings(LMS_TIMEZONE="Pacific/Auckland")
def test_the_supervisee_page_dates_notes_in_the_programme_s_zone(db, supervisor, trainee,
                                                                client_for):
    from datetime import UTC, datetime
    supervise(db, supervisor, trainee)
    # 22:00 UTC on 1 Dec is 2 Dec in Auckland.
    db.add(CheckIn(trainee_id=trainee.id, at=datetime(2026, 12, 1, 22, tzinfo=UTC), mood=4,
                   calm=4, manageable=4, sleep=4, supported=4, note="Late note",
                   wants_to_talk=False))
    db.commit()
    html = client_for(supervisor).get(f"/supervision/people/{trainee.id}").get_data(
        as_text=True)
    assert "Dec 2, 2026:</span> <span class=\"note-text\">Late note" in html
