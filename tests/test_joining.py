"""Stand-ins and joining (lms.services.joining): a trainer who enrols an address learns nothing
about whether it already has an account elsewhere, and its owner joins only by consenting."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from lms import mail
from lms.database import Base
from lms.models import (
    AttendanceRecord,
    AuditEvent,
    CheckIn,
    CohortStaff,
    Curriculum,
    Enrolment,
    Invitation,
    JoinRequest,
    Module,
    ModuleProgress,
    Person,
)
from lms.models._types import utcnow
from lms.services import accounts, audit, cohorts, joining
from lms.services.content_sync import sync_folders
from lms.services.supervisors import assign, current_supervisor_ids
from tests import factories
from tests.conftest import in_threads, log_in
from tests.readiness_fixtures import pass_quiz

ADDRESS = "pat@example.org"
TYPED = "Pat Typed"
LINK = re.compile(r"/invitation/([A-Za-z0-9_-]{20,})")


def build_world(app, *, account_email: str) -> dict:
    """A fresh database: another programme's trainee (with a record on the same curriculum)
    whose address is ``account_email``, and a trainer and supervisor of "Our cohort"."""
    state = app.extensions["lms"]
    with state.db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":  # quiz and version name each other
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        Base.metadata.drop_all(connection)
        Base.metadata.create_all(connection)
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
    session = state.db.session()
    factories.bind(session)
    sync_folders(session, state.curricula_folder, state.quizzes_folder)
    session.commit()
    curriculum = session.scalar(select(Curriculum).where(Curriculum.slug == "mini"))
    other = factories.CohortFactory(name="Their cohort", curriculum_id=curriculum.id)
    account = factories.PersonFactory(roles=("trainee",), name="Xavier Real",
                                      email=account_email)
    factories.EnrolmentFactory(cohort_id=other.id, person_id=account.id)
    listening = session.scalar(select(Module).where(Module.slug == "listening"))
    session.add(ModuleProgress(person_id=account.id, module_id=listening.id, module_version=1))
    session.add(CheckIn(trainee_id=account.id, mood=1, calm=1, manageable=1, sleep=1,
                        supported=1, note="A hard week", wants_to_talk=True))
    session.commit()
    pass_quiz(session, account, listening)
    trainer = factories.PersonFactory(roles=("trainer",), name="Tom Trainer",
                                      email="tom@example.org")
    supervisor = factories.PersonFactory(roles=("supervisor",), name="Sue Supervisor",
                                         email="sue@example.org")
    ours = factories.CohortFactory(name="Our cohort", curriculum_id=curriculum.id,
                                   supervisor_id=supervisor.id)
    session.add_all([CohortStaff(cohort_id=ours.id, person_id=trainer.id, role="trainer"),
                     CohortStaff(cohort_id=ours.id, person_id=supervisor.id,
                                 role="supervisor")])
    meeting = factories.SessionFactory(cohort_id=ours.id, title="First meeting", position=1,
                                       on_date=utcnow().date(), start_time=time(0, 0),
                                       duration_minutes=60)  # today: after the enrolment
    session.commit()
    world = {"account": account, "trainer": trainer, "supervisor": supervisor, "ours": ours,
             "meeting": meeting, "session": session}
    return world


def normalise(text: str) -> str:
    text = re.sub(r"<input[^>]*csrf_token[^>]*>", "CSRF", text)  # each log-in's own
    text = re.sub(r"[A-Za-z0-9_-]{43}", "TOKEN", text)  # invitation links
    return re.sub(r"\d{1,2}:\d{2}(:\d{2})?( [AP]M)?", "TIME", text)  # when things happened


def trainer_and_supervisor_pages(app, world: dict) -> dict[str, str]:
    """Every page and CSV the cohort's staff see, after enrolling ADDRESS as TYPED, taking the
    register and asking for new links."""
    ours, meeting, session = world["ours"].id, world["meeting"].id, world["session"]
    pages: dict[str, str] = {}
    trainer = app.test_client()
    log_in(trainer, world["trainer"])
    response = trainer.post(f"/cohorts/{ours}/enrol", data={
        "one-name": TYPED, "one-email": ADDRESS, "one-supervisor_id": "0"})
    pages["enrol"] = response.get_data(as_text=True)
    response.close()  # the invitation is mailed once the page has gone
    enrolled = session.scalar(select(Enrolment.person_id).where(Enrolment.cohort_id == ours))
    assert enrolled is not None, pages["enrol"]
    response = trainer.post(f"/cohorts/{ours}/sessions/{meeting}/register",
                            data={f"status-{enrolled}": "present"})
    assert response.status_code in (200, 302)
    for url in (f"/cohorts/{ours}", f"/cohorts/{ours}/sessions/{meeting}/register",
                f"/cohorts/{ours}/sessions/{meeting}/history", f"/cohorts/{ours}/grid",
                f"/cohorts/{ours}/grid.csv", f"/cohorts/{ours}/readiness",
                f"/cohorts/{ours}/readiness.csv", f"/cohorts/{ours}/supervisors",
                f"/cohorts/{ours}/statistics/listening", "/cohorts/statistics/listening",
                f"/cohorts/{ours}/trainees/{enrolled}/withdraw", "/cohorts"):
        response = trainer.get(url)
        pages[url] = f"{response.status_code} {response.get_data(as_text=True)}"
    response = trainer.post(f"/cohorts/{ours}/invitations.csv")
    pages["links.csv"] = f"{response.status_code} {response.get_data(as_text=True)}"
    supervisor = app.test_client()
    log_in(supervisor, world["supervisor"])
    for url in ("/supervision/", f"/supervision/people/{enrolled}",
                f"/supervision/people/{enrolled}/readiness"):
        response = supervisor.get(url)
        pages[url] = f"{response.status_code} {response.get_data(as_text=True)}"
    pages["mailed"] = str(len(mail.outbox(app)))
    return {url: normalise(body) for url, body in pages.items()}


@pytest.mark.settings(LMS_MAIL_BACKEND="memory")
def test_staff_see_the_same_for_an_address_with_an_account_elsewhere_as_for_a_new_one(app):
    seen = {}
    for case, email in (("new", "someone.else@example.org"), ("elsewhere", ADDRESS)):
        mail.outbox(app).clear()
        world = build_world(app, account_email=email)
        seen[case] = trainer_and_supervisor_pages(app, world)
        session = world["session"]
        enrolled = session.scalar(select(Person).join(Enrolment, Enrolment.person_id == Person.id)
                                  .where(Enrolment.cohort_id == world["ours"].id))
        assert enrolled.name == TYPED and enrolled.stands_in == (case == "elsewhere")
        factories.bind(None)
        session.close()
    assert seen["new"].keys() == seen["elsewhere"].keys()
    for url, page in seen["new"].items():
        assert seen["elsewhere"][url] == page, f"{url} differs"
    everything = "".join(seen["elsewhere"].values())
    assert "Xavier Real" not in everything and "A hard week" not in everything
    assert TYPED in seen["elsewhere"]["enrol"] and seen["elsewhere"]["mailed"] == "1"


# --- joining -------------------------------------------------------------------------------


@pytest.fixture
def world(app):
    made = build_world(app, account_email=ADDRESS)
    yield made
    factories.bind(None)
    made["session"].close()


def enrol_stand_in(app, world) -> str:
    """The trainer enrols ADDRESS; the link shown to them."""
    trainer = app.test_client()
    log_in(trainer, world["trainer"])
    response = trainer.post(f"/cohorts/{world['ours'].id}/enrol", data={
        "one-name": TYPED, "one-email": ADDRESS, "one-supervisor_id": "0"})
    page = response.get_data(as_text=True)
    response.close()  # the invitation is mailed once the page has gone
    return LINK.search(page).group(0)


def join_events(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == audit.JOIN))


def test_the_owner_joins_by_logging_in_and_everything_moves_to_their_account(app, world):
    session, account, ours = world["session"], world["account"], world["ours"]
    link = enrol_stand_in(app, world)
    stand_in = session.scalar(select(Person).where(Person.stands_in.is_(True)))
    trainer = app.test_client()
    log_in(trainer, world["trainer"])
    trainer.post(f"/cohorts/{ours.id}/sessions/{world['meeting'].id}/register",
                 data={f"status-{stand_in.id}": "present"})

    owner = app.test_client()
    log_in(owner, account)
    page = owner.get(link, follow_redirects=True).get_data(as_text=True)
    assert "Join a training cohort" in page and "Our cohort" in page and TYPED in page
    assert "Tom Trainer" in page
    response = owner.post("/invitation", data={})
    assert response.status_code == 302
    assert "You have joined Our cohort" in owner.get("/", follow_redirects=True).get_data(
        as_text=True)

    session.expire_all()
    assert session.scalar(select(Enrolment.person_id).where(
        Enrolment.cohort_id == ours.id)) == account.id
    mark = session.scalar(select(AttendanceRecord).where(
        AttendanceRecord.session_id == world["meeting"].id))
    assert mark.person_id == account.id and mark.status == "present"
    assert current_supervisor_ids(session, [account.id], utcnow().date()) == {
        account.id: world["supervisor"].id}
    assert session.get(Person, stand_in.id).active is False
    request = session.scalar(select(JoinRequest))
    assert request.joined_at is not None
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == audit.JOIN)) \
        .person_id == account.id
    # The cohort's staff now see the person as they are.
    assert "Xavier Real" in trainer.get(f"/cohorts/{ours.id}").get_data(as_text=True)
    # The link is spent: opening it again answers as the first time, and nothing moves twice.
    again = owner.get(link, follow_redirects=True)
    assert again.status_code == 200 and "You have joined Our cohort" in again.get_data(
        as_text=True)
    assert join_events(session) == 1


def test_a_double_click_on_join_joins_once(app, world):
    session, account = world["session"], world["account"]
    link = enrol_stand_in(app, world)
    owner = app.test_client()
    log_in(owner, account)
    owner.get(link)
    statuses: list[int] = []
    in_threads(lambda: statuses.append(owner.post("/invitation", data={}).status_code),
               [(), ()])
    assert statuses == [302, 302]  # the second click gets the first one's answer
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.person_id == account.id)) == 2
    assert join_events(session) == 1


def test_a_stand_in_link_never_sets_a_password_nor_logs_anyone_in(app, world):
    session, account = world["session"], world["account"]
    link = enrol_stand_in(app, world)
    stranger = app.test_client()
    page = stranger.get(link, follow_redirects=True).get_data(as_text=True)
    assert "Choose your password" in page  # the same page a new account's link opens
    response = stranger.post("/invitation", data={"password": "a long and fresh sentence 42",
                                                   "confirm": "a long and fresh sentence 42"})
    assert response.status_code == 422
    assert "Log in with it, then open this link again" in response.get_data(as_text=True)
    session.expire_all()
    stand_in = session.scalar(select(Person).where(Person.stands_in.is_(True)))
    assert stand_in.password_hash is None
    assert session.scalar(select(Invitation.used_at)) is None
    # The address logs in to its own account, never to the stand-in.
    assert accounts.find_by_email(session, ADDRESS).id == account.id
    log_in(app.test_client(), account)


def test_someone_else_logged_in_gets_the_answer_a_new_accounts_link_gives(app, world):
    link = enrol_stand_in(app, world)
    trainer = app.test_client()
    log_in(trainer, world["trainer"])
    response = trainer.get(link, follow_redirects=True)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This link is for someone else, and you are logged in as Tom Trainer" in page
    assert "Our cohort" not in page


def test_joining_is_refused_when_the_account_is_already_in_the_cohort(app, world):
    session, account, ours = world["session"], world["account"], world["ours"]
    link = enrol_stand_in(app, world)
    factories.EnrolmentFactory(cohort_id=ours.id, person_id=account.id)  # an admin's doing
    session.commit()
    owner = app.test_client()
    log_in(owner, account)
    owner.get(link)
    response = owner.post("/invitation", data={})
    assert response.status_code == 422
    assert "You are already in Our cohort" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(Invitation.used_at)) is None
    assert session.scalar(select(Person).where(Person.stands_in.is_(True))).active


def test_enrolling_the_address_again_reuses_the_stand_in(app, world):
    session, ours = world["session"], world["ours"]
    second = factories.CohortFactory(name="Our second cohort", curriculum_id=ours.curriculum_id)
    session.add(CohortStaff(cohort_id=second.id, person_id=world["trainer"].id, role="trainer"))
    session.commit()
    enrol_stand_in(app, world)
    trainer = app.test_client()
    log_in(trainer, world["trainer"])
    for cohort_id in (ours.id, second.id):
        trainer.post(f"/cohorts/{cohort_id}/enrol", data={
            "one-name": TYPED, "one-email": ADDRESS, "one-supervisor_id": "0"})
    assert session.scalar(select(func.count()).select_from(Person).where(
        Person.stands_in.is_(True))) == 1
    assert session.scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.cohort_id.in_([ours.id, second.id]))) == 2


def test_a_double_click_makes_one_stand_in(app, world):
    session, ours = world["session"], world["ours"]
    trainer = app.test_client()
    log_in(trainer, world["trainer"])
    statuses: list[int] = []
    in_threads(lambda: statuses.append(trainer.post(f"/cohorts/{ours.id}/enrol", data={
        "one-name": TYPED, "one-email": ADDRESS, "one-supervisor_id": "0"}).status_code),
        [(), ()])
    assert all(s < 500 for s in statuses), statuses
    assert session.scalar(select(func.count()).select_from(Person).where(
        Person.stands_in.is_(True))) == 1


def test_an_admin_enrols_the_account_itself(app, world):
    session, account, ours = world["session"], world["account"], world["ours"]
    admin = factories.PersonFactory(roles=("admin",))
    session.commit()
    result = cohorts.enrol_one(session, ours, name="Anything", email=ADDRESS, actor=admin)
    session.commit()
    assert [p.id for p in result.enrolled] == [account.id] and result.links == []
    assert session.scalar(select(func.count()).select_from(JoinRequest)) == 0


@pytest.mark.settings(LMS_MAIL_BACKEND="memory")
def test_the_email_tells_the_owner_to_log_in(app, world):
    enrol_stand_in(app, world)
    [message] = mail.outbox(app)
    assert message.to == ADDRESS
    assert "already have an account" in message.body and "log in" in message.body


def test_a_csv_of_many_hidden_addresses_costs_a_handful_of_statements(app, world,
                                                                        count_queries):
    session, ours = world["session"], world["ours"]
    others = factories.CohortFactory(name="Elsewhere", curriculum_id=ours.curriculum_id)
    people = [factories.PersonFactory(roles=("trainee",)) for _ in range(60)]
    for person in people:
        factories.EnrolmentFactory(cohort_id=others.id, person_id=person.id)
    session.commit()
    data = "\n".join(f"Typed {n},{p.email}" for n, p in enumerate(people)).encode()
    with count_queries() as statements:
        result = cohorts.enrol_csv(session, ours, data, actor=world["trainer"],
                                   valid_for=timedelta(days=1))
    session.commit()
    assert len(result.new_accounts) == 60 and len(result.links) == 60
    assert [p.name for p in result.new_accounts] == [f"Typed {n}" for n in range(60)]
    assert len(statements) < 40, "\n".join(s[:90] for s in statements)
    assert session.scalar(select(func.count()).select_from(JoinRequest)) == 60
    assert joining.stand_ins_in_reach(session, [people[0].email],
                                      {p.id for p in result.new_accounts}) != {}


def test_the_owner_keeps_their_supervisor_when_they_join(app, world):
    session, account = world["session"], world["account"]
    theirs = factories.PersonFactory(roles=("supervisor",), name="Their Supervisor")
    assign(session, account, theirs, on=utcnow().date() - timedelta(days=40))
    session.commit()
    link = enrol_stand_in(app, world)  # the stand-in gets the cohort's default supervisor
    owner = app.test_client()
    log_in(owner, account)
    owner.get(link)
    assert owner.post("/invitation", data={}).status_code == 302
    session.expire_all()
    assert current_supervisor_ids(session, [account.id], utcnow().date()) == {
        account.id: theirs.id}


def test_admins_see_stand_ins_for_what_they_are_and_cannot_edit_them(app, world):
    session = world["session"]
    admin = factories.PersonFactory(roles=("admin",), name="Ada Admin")
    session.commit()
    enrol_stand_in(app, world)
    stand_in = session.scalar(select(Person).where(Person.stands_in.is_(True)))
    client = app.test_client()
    log_in(client, admin)
    listing = client.get("/admin/people").get_data(as_text=True)
    assert "stand-in: the address has an account" in listing
    response = client.post(f"/admin/people/{stand_in.id}", data={
        "name": "Renamed", "email": "renamed@example.org", "roles": ["trainee"], "active": "y"})
    assert response.status_code == 422
    assert "This is a stand-in for an account" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Person, stand_in.id).name == TYPED


def test_a_refused_password_reads_the_same_on_a_stand_ins_link_and_a_new_accounts(app, world):
    """Nothing is learnt for free: the password rules answer first, for both kinds of link."""
    session = world["session"]
    stand_in_link = enrol_stand_in(app, world)
    trainer = app.test_client()
    log_in(trainer, world["trainer"])
    page = trainer.post(f"/cohorts/{world['ours'].id}/enrol", data={
        "one-name": "Brand New", "one-email": "brand.new@example.org",
        "one-supervisor_id": "0"}).get_data(as_text=True)
    new_link = LINK.search(page).group(0)
    answers = []
    for link in (stand_in_link, new_link):
        visitor = app.test_client()
        visitor.get(link)
        response = visitor.post("/invitation", data={"password": "password123",
                                                     "confirm": "password123"})
        page = response.get_data(as_text=True)
        for typed in (TYPED, ADDRESS, "Brand New", "brand.new@example.org"):
            page = page.replace(typed, "WHO")
        answers.append((response.status_code, normalise(page)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 422 and "already has an account" not in answers[0][1]
    assert session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.used_at.is_not(None))) == 0


def test_the_join_page_names_the_supervisor_who_would_see_their_check_ins(app, world):
    link = enrol_stand_in(app, world)  # the stand-in has the cohort's default supervisor
    owner = app.test_client()
    log_in(owner, world["account"])
    page = owner.get(link, follow_redirects=True).get_data(as_text=True)
    assert "Sue Supervisor becomes your supervisor, and sees your self-care check-ins" in page


def test_joining_never_makes_someone_their_own_supervisor(app, world):
    session, ours = world["session"], world["ours"]
    staff = factories.PersonFactory(roles=("supervisor", "trainee"), name="Sam Staff",
                                    email="sam@example.org")
    others = factories.CohortFactory(name="Elsewhere", curriculum_id=ours.curriculum_id)
    factories.EnrolmentFactory(cohort_id=others.id, person_id=staff.id)
    ours.supervisor_id = staff.id  # the cohort's default supervisor is the person themselves
    session.commit()
    trainer = app.test_client()
    log_in(trainer, world["trainer"])
    response = trainer.post(f"/cohorts/{ours.id}/enrol", data={
        "one-name": "Sam", "one-email": "sam@example.org", "one-supervisor_id": "0"})
    link = LINK.search(response.get_data(as_text=True)).group(0)
    owner = app.test_client()
    log_in(owner, staff)
    page = owner.get(link, follow_redirects=True).get_data(as_text=True)
    assert "who supervises you does not change" in page
    assert owner.post("/invitation", data={}).status_code == 302
    session.expire_all()
    assert current_supervisor_ids(session, [staff.id], utcnow().date()) == {}
