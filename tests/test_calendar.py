"""Calendar feeds that calendar apps subscribe to, by secret URL."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
from sqlalchemy import select

from lms.models import Cohort, CohortStaff, Enrolment, Person
from lms.models._types import utcnow
from lms.services import calendar_feeds
from tests.conftest import log_in


def feed_path(page: str) -> str:
    return re.search(r"<code>http://localhost(/calendar/[^<]+\.ics)</code>", page).group(1)


def test_trainee_feed_works_without_logging_in_and_can_be_replaced(app, db, trainee,
                                                                  make_session):
    cohort_id = db.scalar(select(Enrolment.cohort_id).where(Enrolment.person_id == trainee.id))
    make_session(db.get(Cohort, cohort_id), utcnow() + timedelta(days=2), 90,
                 title="Boundaries practice")
    client = app.test_client()
    log_in(client, trainee)
    assert "Make a calendar link" in client.get("/my/agenda").get_data(as_text=True)
    client.post("/my/agenda/feed")
    first = feed_path(client.get("/my/agenda").get_data(as_text=True))
    assert len(first.split("/")[-1]) >= 36

    calendar_app = app.test_client()  # no session, as a phone's calendar app
    response = calendar_app.get(first)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "SUMMARY:Boundaries practice" in response.get_data(as_text=True)

    client.post("/my/agenda/feed")  # replace the link: the old one stops working
    second = feed_path(client.get("/my/agenda").get_data(as_text=True))
    assert second != first
    assert calendar_app.get(first).status_code == 404
    assert calendar_app.get(second).status_code == 200

    db.get(Person, trainee.id).active = False
    db.commit()
    assert calendar_app.get(second).status_code == 404


def test_cohort_feed_for_its_trainers(app, db, make_person, make_cohort, make_session):
    trainer = make_person("trainer")
    cohort = make_cohort(name="Riverside")
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    db.commit()
    make_session(cohort, utcnow() + timedelta(days=1), 60, title="Day one")
    client = app.test_client()
    log_in(client, trainer)
    client.post(f"/cohorts/{cohort.id}/agenda/feed")
    path = feed_path(client.get(f"/cohorts/{cohort.id}/agenda").get_data(as_text=True))
    body = app.test_client().get(path).get_data(as_text=True)
    assert "X-WR-CALNAME:Riverside" in body and "SUMMARY:Day one" in body
    stranger = app.test_client()
    log_in(stranger, make_person("trainer"))
    assert stranger.post(f"/cohorts/{cohort.id}/agenda/feed").status_code == 403


def test_unknown_tokens_are_404(client):
    assert client.get("/calendar/nope.ics").status_code == 404
    assert client.get("/calendar/" + "x" * 70 + ".ics").status_code == 404


def test_feeds_keep_unicode_line_separators_off_the_file(app, db, trainee, make_session):
    cohort = db.get(Cohort, db.scalar(select(Enrolment.cohort_id)
                                      .where(Enrolment.person_id == trainee.id)))
    cohort.name = "Riverside\u2029X-EVIL:1, autumn"
    make_session(cohort, utcnow() + timedelta(days=2), 90,
                 title="Boundaries\u2028BEGIN:VALARM\u0085practice",
                 venue="Hall\u2028B; room 2")
    cohort_feed = calendar_feeds.cohort_token(db, cohort)
    trainee_feed = calendar_feeds.person_token(db, db.get(Person, trainee.id))
    db.commit()
    calendar_app = app.test_client()
    for token, name in ((cohort_feed, "Riverside X-EVIL:1\\, autumn"),
                        (trainee_feed, "My training")):
        body = calendar_app.get(f"/calendar/{token}.ics").get_data(as_text=True)
        lines = body.split("\r\n")
        assert lines[-1] == "" and body.splitlines() == lines[:-1]
        assert not any(char in body for char in "\u2028\u2029\u0085")
        assert all(len(line.encode()) <= 75 for line in lines)
        assert f"X-WR-CALNAME:{name}" in lines
        assert not any(line.startswith(("BEGIN:VALARM", "X-EVIL")) for line in lines)
        [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
        assert str(event["SUMMARY"]) == "Boundaries BEGIN:VALARM practice"
        assert str(event["LOCATION"]) == "Hall B; room 2"
