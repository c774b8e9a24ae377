"""The audit log: each kind of event written where it happens, and the admin's page and CSV."""

from __future__ import annotations

import csv
import inspect
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.models import AuditEvent
from lms.services import audit
from tests.conftest import log_in


def events(db, action: str | None = None) -> list[AuditEvent]:
    db.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.scalars(query))


@pytest.fixture
def admin(make_person):
    return make_person("admin", name="Ada Admin", email="ada@example.org")


@pytest.fixture
def logged(db, make_person, admin):
    """A small log: Bea's and Cal's records, read or changed by Ada or Sam, on three days."""
    bea = make_person("trainee", name="Bea Zoë", email="bea@example.org")
    cal = make_person("trainee", name="Cal Moss", email="cal@example.org")
    sam = make_person("supervisor", name="Sam Sup", email="sam@example.org")
    day = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    audit.record(db, sam.id, audit.READ, "debrief", 7, bea.id, now=day)
    audit.record(db, admin.id, audit.ROLE_CHANGE, "person", bea.id, bea.id,
                 {"from": ["trainee"], "to": ["trainee", "trainer"]}, now=day + timedelta(days=1))
    audit.record(db, admin.id, audit.SUPERVISOR_CHANGE, "person", cal.id, cal.id,
                 {"from": None, "to": sam.id, "cohort_id": None}, now=day + timedelta(days=2))
    audit.record(db, sam.id, audit.READ, "check_in_note", 9, cal.id, now=day + timedelta(days=2))
    db.commit()
    return {"bea": bea, "cal": cal, "sam": sam, "day": day}


def rows_of(page: str) -> int:
    return page.count('<td data-label="When"')


# --- the page -------------------------------------------------------------------------------


def test_the_page_lists_events_newest_first_with_names_and_details(logged, admin, client_for):
    response = client_for(admin).get("/admin/audit")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and rows_of(page) == 4
    assert page.index("check in note #9") < page.index("debrief #7")  # newest first
    assert "from trainee to trainee, trainer" in page
    assert "Sam Sup" in page and "Bea Zoë" in page
    assert "no supervisor" in page  # Cal had none before Sam
    assert 'class="stack audit"' in page and 'data-label="Detail"' in page
    assert 'aria-current="page">Audit log' in page


@pytest.mark.parametrize(("query", "expected"), [
    ("person=bea", 2), ("person=BEA%40example", 2), ("person=zoë", 2), ("actor=sam", 2),
    ("action=read", 2), ("action=role_change&person=bea", 1), ("action=read&actor=ada", 0),
    ("from=2027-03-11", 3), ("to=2027-03-10", 1), ("from=2027-03-11&to=2027-03-11", 1),
    ("person=nobody-like-this", 0),
])
def test_filters(logged, admin, client_for, query, expected):
    page = client_for(admin).get(f"/admin/audit?{query}").get_data(as_text=True)
    assert rows_of(page) == expected


def test_filters_by_id(logged, admin, client_for):
    client = client_for(admin)
    assert rows_of(client.get(f"/admin/audit?person={logged['cal'].id}").get_data(
        as_text=True)) == 2
    assert rows_of(client.get(f"/admin/audit?actor={admin.id}").get_data(as_text=True)) == 2


def test_dates_are_days_in_the_programme_s_zone(db, admin, client_for):
    # 23:30 UTC on 10 March is 11 March in Nairobi (UTC+3).
    audit.record(db, admin.id, audit.CSV_EXPORT, "grid", now=datetime(2027, 3, 10, 23, 30,
                                                                     tzinfo=UTC))
    db.commit()
    found = audit.list_events(db, audit.Filters(date_from=date(2027, 3, 11)),
                              zone="Africa/Nairobi")
    assert found.total == 1
    assert audit.list_events(db, audit.Filters(date_to=date(2027, 3, 10)), zone="UTC").total == 1
    assert audit.list_events(db, audit.Filters(date_to=date(2027, 3, 10)),
                             zone="Africa/Nairobi").total == 0


@pytest.mark.parametrize("query", [
    "from=2026-13-45", "to=yesterday", "from=2027-03-12&to=2027-03-01", "action=drop table",
    "page=abc", "page=-3", "page=99999999999999999999", f"person={'9' * 40}",
    f"actor={2**31}", "person=%25_%5C", "page=0", f"from={'1' * 500}",
])
def test_bad_filters_never_500(logged, admin, client_for, query):
    response = client_for(admin).get(f"/admin/audit?{query}")
    assert response.status_code in (200, 400)
    page = response.get_data(as_text=True)
    assert "Audit log" in page
    if response.status_code == 400:
        assert "There is a problem" in page
    assert client_for(admin).get(f"/admin/audit.csv?{query}").status_code == 200


def test_a_bad_date_is_named_and_the_rest_still_applies(logged, admin, client_for):
    response = client_for(admin).get("/admin/audit?from=2026-13-45&action=read")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "must be a real date" in page and 'href="#from"' in page
    assert 'value="2026-13-45"' in page  # what was typed stays in the field
    assert rows_of(page) == 2


def test_pages_of_fifty_and_page_links_keep_the_filters(db, admin, make_person, client_for):
    bea = make_person("trainee", name="Bea")
    start = datetime(2027, 1, 1, tzinfo=UTC)
    for n in range(120):
        audit.record(db, admin.id, audit.READ, "debrief", n, bea.id,
                     now=start + timedelta(minutes=n))
    audit.record(db, admin.id, audit.CSV_EXPORT, "grid", now=start)
    db.commit()
    client = client_for(admin)
    first = client.get("/admin/audit?action=read").get_data(as_text=True)
    assert rows_of(first) == 50 and "debrief #119" in first and "page 1 of 3" in first
    assert "/admin/audit?page=2&amp;action=read" in first
    last = client.get("/admin/audit?action=read&page=3").get_data(as_text=True)
    assert rows_of(last) == 20 and "debrief #0<" in last
    assert "/admin/audit?page=2&amp;action=read" in last
    # A page past the end shows the last page.
    assert rows_of(client.get("/admin/audit?action=read&page=999").get_data(as_text=True)) == 20


def test_the_listing_costs_the_same_queries_for_5_and_60_events(db, make_person, admin, app,
                                                                  count_queries):
    def count(n: int) -> int:
        for _ in range(n):
            person = make_person("trainee")
            actor = make_person("supervisor")
            audit.record(db, actor.id, audit.SUPERVISOR_CHANGE, "person", person.id, person.id,
                         {"from": actor.id, "to": admin.id, "cohort_id": None})
        db.commit()
        client = app.test_client()
        log_in(client, admin)
        with count_queries() as statements:
            page = client.get("/admin/audit").get_data(as_text=True)
        assert rows_of(page) == min(audit.PER_PAGE, len(events(db)))
        return len(statements)

    few = count(5)
    db.execute(AuditEvent.__table__.delete())  # start again: only the test may do this
    db.commit()
    assert count(60) == few


# --- the CSV export -------------------------------------------------------------------------


def test_the_csv_has_every_matching_row_and_is_itself_an_event(logged, db, admin, client_for):
    audit.record(db, admin.id, audit.ROLE_CHANGE, "person", logged["bea"].id, logged["bea"].id,
                 {"from": ["trainee"], "to": ["=cmd|' /C calc'!A0"]})
    db.commit()
    response = client_for(admin).get("/admin/audit.csv?person=bea")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # Excel reads the accents
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == audit.CSV_HEADER and len(rows) == 1 + 3
    assert all(row[7] == "Bea Zoë" for row in rows[1:])
    assert rows[1][3] == "role_change" and rows[1][8].startswith('{"from"')
    # The export is recorded, with how many rows it held, and is not in its own file.
    [export] = events(db, audit.CSV_EXPORT)
    assert export.actor_id == admin.id and export.detail == {"rows": 3}
    assert export.subject_type == "audit_log"


def test_formula_cells_are_neutralised(db, admin, make_person, client_for):
    evil = make_person("trainee", name="=HYPERLINK(\"x\")")
    audit.record(db, admin.id, audit.READ, "debrief", 1, evil.id)
    db.commit()
    text = client_for(admin).get("/admin/audit.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text


# --- who may see it, and that nothing edits it ---------------------------------------------


@pytest.mark.parametrize("role", ["trainee", "trainer", "supervisor"])
def test_only_admins_see_the_log(make_person, client_for, role):
    client = client_for(make_person(role))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_the_log_is_append_only(app, logged, db, admin, client_for):
    # No route under /admin/audit takes anything but GET...
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("lms_admin.audit")]
    assert {r.endpoint for r in rules} == {"lms_admin.audit_log", "lms_admin.audit_csv"}
    assert all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)
    client = client_for(admin)
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/admin/audit").status_code in (400, 405)
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before
    # ...and the service has no function that edits or deletes an event.
    names = [n for n, f in inspect.getmembers(audit, inspect.isfunction)
             if f.__module__ == audit.__name__]
    assert not [n for n in names if any(w in n for w in ("update", "delete", "edit", "remove",
                                                         "purge", "change"))]


# --- each kind of event, written where it happens ------------------------------------------


def _edit(client, person, roles, **more):
    return client.post(f"/admin/people/{person.id}", data={
        "name": person.name, "email": person.email, "roles": roles, "active": "y",
        "cohort_id": "0", **more})


def test_a_role_change_is_recorded_only_when_roles_change(db, admin, make_person, client_for):
    sam = make_person("trainer", name="Sam")
    client = client_for(admin)
    assert _edit(client, sam, ["trainer"]).status_code == 302  # same roles: no event
    assert events(db, audit.ROLE_CHANGE) == []
    assert _edit(client, sam, ["supervisor", "trainer"]).status_code == 302
    [event] = events(db, audit.ROLE_CHANGE)
    assert (event.actor_id, event.subject_type, event.subject_id, event.person_id) == (
        admin.id, "person", sam.id, sam.id)
    assert event.detail == {"from": ["trainer"], "to": ["supervisor", "trainer"]}


def test_a_refused_role_change_records_nothing(db, admin, client_for):
    assert _edit(client_for(admin), admin, ["trainer"]).status_code == 422
    assert events(db, audit.ROLE_CHANGE) == []


def test_an_admin_s_new_log_in_link_is_a_password_reset(db, admin, make_person, client_for):
    person = make_person("trainee")
    response = client_for(admin).post(f"/admin/people/{person.id}/link")
    assert response.status_code == 200
    [event] = events(db, audit.PASSWORD_RESET)
    assert (event.actor_id, event.person_id) == (admin.id, person.id)
    assert event.detail == {"by": "link", "purpose": "reset"}
    assert "token" not in str(event.detail)


def test_an_admin_choosing_someone_s_password_is_a_reset_without_the_password(
        db, admin, make_person, client_for):
    person = make_person("trainee")
    assert _edit(client_for(admin), person, ["trainee"],
                 new_password="a brand new secret").status_code == 302
    [event] = events(db, audit.PASSWORD_RESET)
    assert event.person_id == person.id and event.detail == {"by": "password"}


def test_supervisor_changes_are_recorded_in_one_statement(db, cohort, trainee, trainer,
                                                          make_person, count_queries):
    from lms.services import supervisors

    sara = make_person("supervisor", name="Sara")
    tom = make_person("supervisor", name="Tom")
    today = date(2027, 3, 1)
    assert supervisors.assign(db, trainee, sara, on=today, by=trainer)
    assert not supervisors.assign(db, trainee, sara, on=today, by=trainer)  # no change: no event
    assert supervisors.assign(db, trainee, tom, on=today, by=trainer)
    db.commit()
    first, second = events(db, audit.SUPERVISOR_CHANGE)
    assert (first.actor_id, first.subject_type, first.subject_id, first.person_id) == (
        trainer.id, "person", trainee.id, trainee.id)
    assert first.detail == {"from": None, "to": sara.id, "cohort_id": None}
    assert second.detail == {"from": sara.id, "to": tom.id, "cohort_id": None}
    # A cohort's default given to many trainees: one insert of events, whatever their number.
    others = [make_person("trainee") for _ in range(4)]
    with count_queries() as statements:
        changed = supervisors.assign_many(db, {p.id: sara.id for p in [trainee, *others]},
                                          on=today, by=trainer, cohort_id=cohort.id)
    assert changed == 5
    assert len([s for s in statements if "INSERT INTO lms_audit_event" in s]) == 1
    db.commit()
    latest = events(db, audit.SUPERVISOR_CHANGE)[2:]
    assert {e.person_id for e in latest} == {trainee.id, *(p.id for p in others)}
    assert {e.detail["cohort_id"] for e in latest} == {cohort.id}
    assert next(e for e in latest if e.person_id == trainee.id).detail["from"] == tom.id


def test_a_trainer_s_supervisor_change_on_the_page_is_recorded(db, cohort, trainee, trainer,
                                                                make_person, client_for):
    sara = make_person("supervisor", name="Sara")
    response = client_for(trainer).post(
        f"/cohorts/{cohort.id}/supervisors",
        data={f"supervisor-{trainee.id}": str(sara.id)})
    assert response.status_code in (200, 302, 303)
    [event] = events(db, audit.SUPERVISOR_CHANGE)
    assert event.actor_id == trainer.id and event.detail["to"] == sara.id


def test_each_attendance_correction_is_recorded_without_its_reason(db, cohort, trainee, trainer,
                                                                   make_person, make_session):
    from lms.models import Enrolment
    from lms.models._types import utcnow
    from lms.services import attendance
    from lms.services.attendance import Mark

    other = make_person("trainee")
    db.add(Enrolment(cohort_id=cohort.id, person_id=other.id,
                     enrolled_on=(utcnow() - timedelta(days=30)).date()))
    db.commit()
    item = make_session(cohort, utcnow() - timedelta(days=1), 120)
    attendance.record_register(db, item, [Mark(trainee.id, "absent"), Mark(other.id, "present")],
                               trainer)
    db.commit()
    assert events(db, audit.ATTENDANCE_CORRECTION) == []  # first marks are not corrections
    attendance.record_register(db, item, [Mark(trainee.id, "late", 90),
                                          Mark(other.id, "present")],
                               trainer, reason="Bea's mum phoned to say she was on the bus")
    db.commit()
    [event] = events(db, audit.ATTENDANCE_CORRECTION)
    assert (event.actor_id, event.person_id, event.subject_type) == (
        trainer.id, trainee.id, "attendance_record")
    assert event.detail == {"session_id": item.id, "from": "absent", "to": "late",
                            "from_minutes": 0, "to_minutes": 90}
    assert "mum" not in str(event.detail)


def test_the_grid_csv_export_is_recorded(db, cohort, trainer, client_for):
    response = client_for(trainer).get(f"/cohorts/{cohort.id}/grid.csv")
    assert response.status_code == 200 and "Tess Trainee" in response.get_data(as_text=True)
    [event] = events(db, audit.CSV_EXPORT)
    assert (event.actor_id, event.subject_type, event.subject_id, event.detail) == (
        trainer.id, "cohort_grid", cohort.id, {"rows": 1})


def test_the_invitations_csv_export_is_recorded(db, cohort, trainer, make_person, client_for):
    from lms.models import Enrolment

    for n in range(2):
        new = make_person("trainee", password_hash=None, email=f"new{n}@example.org")
        db.add(Enrolment(cohort_id=cohort.id, person_id=new.id, enrolled_on=date(2027, 1, 1)))
    db.commit()
    response = client_for(trainer).post(f"/cohorts/{cohort.id}/invitations.csv")
    assert response.status_code == 200 and "new1@example.org" in response.get_data(as_text=True)
    [event] = events(db, audit.CSV_EXPORT)
    assert (event.actor_id, event.subject_type, event.subject_id, event.detail) == (
        trainer.id, "invitation_links", cohort.id, {"rows": 2})


def test_audit_events_are_never_edited_or_deleted(db, make_person):
    from lms.models.readiness import AppendOnlyError
    event = audit.record(db, None, audit.CSV_EXPORT, "cohort_grid")
    db.commit()
    event.action = "edited"
    with pytest.raises(AppendOnlyError):
        db.commit()
    db.rollback()
    db.delete(event)
    with pytest.raises(AppendOnlyError):
        db.commit()
    db.rollback()


@pytest.mark.settings(LMS_TIMEZONE="Pacific/Auckland")
@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01"])
def test_dates_far_out_are_refused_not_a_500(make_person, client_for, query):
    client = client_for(make_person("admin"))
    for url in (f"/admin/audit?{query}", f"/admin/audit.csv?{query}"):
        response = client.get(url)
        assert response.status_code in (200, 400), url
        if url.startswith("/admin/audit?"):
            assert "must be a real date" in response.get_data(as_text=True)
