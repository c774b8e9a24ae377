"""Markup rules every page keeps, checked on the HTML the server sends (no browser needed)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from lms.models import CohortStaff, Enrolment
from lms.models._types import utcnow
from lms.services import agenda, invitations, withdrawal
from tests.conftest import log_in

# An attribute rendered from a Python None, such as autocomplete="None".
NONE_ATTRIBUTE = re.compile(r'\s[\w:-]+="None"')


def test_no_page_renders_an_attribute_from_none(app, db, trainee, make_person, make_session,
                                                  module):
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    enrolment.enrolled_on = (utcnow() - timedelta(days=30)).date()
    cohort = enrolment.cohort
    trainer = make_person("trainer")
    admin = make_person("admin")
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    item = make_session(cohort, utcnow() - timedelta(days=1), 60, modules=[module("listening")])
    leaver = make_person("trainee", name="Lee Leaver")
    db.add(Enrolment(cohort_id=cohort.id, person_id=leaver.id,
                     enrolled_on=enrolment.enrolled_on))
    db.flush()
    gone = db.scalar(select(Enrolment).where(Enrolment.person_id == leaver.id))
    withdrawal.withdraw(db, gone, utcnow().date() - timedelta(days=2), "Moved away", trainer)
    invited = make_person("trainee", password_hash=None)
    [link] = invitations.issue(db, [invited], purpose=invitations.INVITE,
                               valid_for=timedelta(days=1))
    db.commit()
    cid = cohort.id

    pages: dict[str, str] = {}

    def read(client, *urls: str) -> None:
        for url in urls:
            response = client.get(url, follow_redirects=True)
            assert response.status_code == 200, url
            pages[url] = response.get_data(as_text=True)

    client = app.test_client()
    read(client, "/login", "/forgot-password", f"/invitation/{link.token}")
    log_in(client, trainee)
    read(client, "/dashboard", "/account/password", f"/sessions/{item.id}/feedback",
         "/modules/listening/quiz")
    client = app.test_client()
    log_in(client, trainer)
    read(client, "/cohorts/new", f"/cohorts/{cid}", f"/cohorts/{cid}/edit",
         f"/cohorts/{cid}/agenda", f"/cohorts/{cid}/agenda/copy",
         f"/cohorts/{cid}/sessions/new", f"/cohorts/{cid}/sessions/{item.id}/edit",
         f"/cohorts/{cid}/sessions/{item.id}/register",
         f"/cohorts/{cid}/sessions/{item.id}/make-up", f"/cohorts/{cid}/grid",
         f"/cohorts/{cid}/trainees/{trainee.id}/withdraw",
         f"/cohorts/{cid}/trainees/{leaver.id}/withdraw")
    client = app.test_client()
    log_in(client, admin)
    read(client, "/admin/people", "/admin/people/new", f"/admin/people/{trainee.id}")

    assert len(pages) > 20
    found = {url: NONE_ATTRIBUTE.findall(html) for url, html in pages.items()}
    assert not {url: hits for url, hits in found.items() if hits}
    # Fields that ask for one keep it.
    assert 'autocomplete="new-password"' in pages["/account/password"]
    assert 'autocomplete="off"' in pages[f"/cohorts/{cid}"]


def test_move_buttons_only_where_a_session_can_move(app, db, make_person, make_cohort,
                                                      make_session):
    trainer = make_person("trainer")
    cohort = make_cohort()
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    now = utcnow()
    first = make_session(cohort, now + timedelta(days=1))
    middle = make_session(cohort, now + timedelta(days=2))
    last = make_session(cohort, now + timedelta(days=3))
    dropped = make_session(cohort, now + timedelta(days=4))  # cancelled: never a neighbour
    agenda.cancel_session(db, dropped, "Venue closed", by=trainer)
    db.commit()
    client = app.test_client()
    log_in(client, trainer)
    html = client.get(f"/cohorts/{cohort.id}/agenda").get_data(as_text=True)

    def buttons(session) -> list[str]:
        card = html.split(f'id="session-{session.id}"', 1)[1].split("</section>", 1)[0]
        return re.findall(r'name="direction" value="(up|down)"', card)

    assert buttons(first) == ["down"]
    assert buttons(middle) == ["up", "down"]
    assert buttons(last) == ["up"]
    assert buttons(dropped) == []
    agenda.cancel_session(db, middle, "Trainer ill", by=trainer)
    agenda.cancel_session(db, last, "Trainer ill", by=trainer)
    db.commit()
    html = client.get(f"/cohorts/{cohort.id}/agenda").get_data(as_text=True)
    assert buttons(first) == []  # the only session left that can move has nowhere to go
    assert 'name="direction"' not in html
