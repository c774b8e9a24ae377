"""A host app's own users (LMS_HOST_USER, lms.services.host_users): lms makes and updates each
person itself, shows none of its own log-in pages, and the same journeys work in both modes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import request
from sqlalchemy import func, select

from lms.models import Attempt, AuditEvent, CohortStaff, Enrolment, ModuleProgress, Person
from lms.models._types import utcnow
from lms.services import audit, host_users
from tests.conftest import in_threads, log_in

# The host's users, by the id its test header names: {"id", "name", "email", "roles"}.
HOST_USERS: dict[str, dict] = {}


def _host_user():
    return HOST_USERS.get(request.headers.get("X-Host-User", ""))


def _host_roles(user):
    return user["roles"]


HOST_MODE = dict(LMS_HOST_USER=_host_user, LMS_HOST_ROLES=_host_roles,
                 LMS_HOST_LOGIN_URL="/host/login")


@pytest.fixture(autouse=True)
def _no_host_users_left():
    HOST_USERS.clear()
    yield
    HOST_USERS.clear()


class HostClient:
    """A test client that is "logged in to the host" as one user: every request says so."""

    def __init__(self, client, user_id: str) -> None:
        self.client, self.user_id = client, user_id

    def open(self, *args, **kwargs):
        kwargs.setdefault("headers", {})["X-Host-User"] = self.user_id
        return self.client.open(*args, **kwargs)

    def get(self, *args, **kwargs):
        return self.open(*args, method="GET", **kwargs)

    def post(self, *args, **kwargs):
        return self.open(*args, method="POST", **kwargs)


def host_user(user_id: str, name: str, email: str, *roles: str) -> str:
    HOST_USERS[user_id] = {"id": user_id, "name": name, "email": email, "roles": list(roles)}
    return user_id


# --- the service ----------------------------------------------------------------------------


def test_read_refuses_what_the_host_got_wrong():
    with pytest.raises(ValueError, match="without an id"):
        host_users.read({"name": "A", "email": "a@example.org"}, None)
    with pytest.raises(ValueError, match="valid email"):
        host_users.read({"id": 1, "name": "A", "email": "not an email"}, None)
    with pytest.raises(ValueError, match="unknown roles"):
        host_users.read({"id": 1, "name": "A", "email": "a@example.org"}, ["wizard"])
    user = host_users.read(type("U", (), {"id": 7, "name": " Ana  Lee ",
                                          "email": "Ana@Example.org"})(), ["trainee"])
    assert user == host_users.HostUser("7", "Ana Lee", "ana@example.org",
                                       frozenset({"trainee"}))


def test_first_visit_makes_a_person_and_later_visits_keep_it_in_step(db):
    user = host_users.read({"id": "h1", "name": "Ana", "email": "ana@example.org"},
                           ["trainee"])
    person = host_users.person_for(db, user)
    db.commit()
    assert (person.host_user_id, person.name, person.roles) == ("h1", "Ana", {"trainee"})
    assert person.password_hash is None
    assert host_users.in_step(person, user)

    moved = host_users.read({"id": "h1", "name": "Ana Lee", "email": "ana.lee@example.org"},
                            ["trainee", "trainer"])
    assert not host_users.in_step(person, moved)
    assert host_users.person_for(db, moved).id == person.id
    db.commit()
    db.expire_all()
    again = db.get(Person, person.id)
    assert (again.name, again.email, again.roles) == ("Ana Lee", "ana.lee@example.org",
                                                       {"trainee", "trainer"})
    change = db.scalar(select(AuditEvent).where(AuditEvent.action == audit.ROLE_CHANGE))
    assert change.person_id == person.id and change.detail["by"] == "host"


def test_a_person_made_by_an_enrolment_is_the_host_user_with_that_email(db, make_cohort):
    cohort = make_cohort()
    from lms.services import cohorts

    result = cohorts.enrol_one(db, cohort, name="Amina", email="amina@example.org",
                               valid_for=None)
    db.commit()
    assert result.links == []  # a host's users log in through the host: no links
    person = host_users.person_for(db, host_users.read(
        {"id": "clinic-9", "name": "Amina Peer", "email": "amina@example.org"}, ["trainee"]))
    assert person.id == result.new_accounts[0].id and person.name == "Amina Peer"


def test_an_lms_account_with_a_password_is_not_taken_over_unless_asked(db, make_person):
    existing = make_person("admin", email="boss@example.org")
    user = host_users.read({"id": "x", "name": "Boss", "email": "boss@example.org"},
                           ["trainee"])
    with pytest.raises(host_users.HostUserError, match="already uses your email"):
        host_users.person_for(db, user)
    db.rollback()
    assert host_users.person_for(db, user, link_by_email=True).id == existing.id


def test_a_new_email_that_belongs_to_someone_else_is_not_taken(db, make_person):
    other = make_person("trainee", email="taken@example.org")
    person = host_users.person_for(db, host_users.read(
        {"id": "h2", "name": "Bo", "email": "bo@example.org"}, None))
    host_users.person_for(db, host_users.read(
        {"id": "h2", "name": "Bo", "email": "taken@example.org"}, None))
    db.commit()
    assert person.email == "bo@example.org" and other.email == "taken@example.org"


def test_four_first_requests_at_once_make_one_person(app):
    state = app.extensions["lms"]
    user = host_users.read({"id": "race", "name": "Race", "email": "race@example.org"},
                           ["trainee"])

    def visit() -> None:
        session = state.db.session()
        try:
            host_users.person_for(session, user)
            session.commit()
        finally:
            session.close()

    in_threads(visit, [()] * 4)
    session = state.db.session()
    assert session.scalar(select(func.count()).select_from(Person)
                          .where(Person.host_user_id == "race")) == 1
    session.close()


# --- the web, in host mode -------------------------------------------------------------------


@pytest.mark.settings(**HOST_MODE)
def test_lms_shows_none_of_its_own_account_pages(app):
    client = HostClient(app.test_client(), host_user("t1", "Tess", "tess@example.org",
                                                     "trainee"))
    anonymous = app.test_client()
    response = anonymous.get("/dashboard")
    assert response.status_code == 302
    assert response.location == "/host/login?next=%2Fdashboard"
    for path in ("/login", "/account/password", "/account/sessions", "/forgot-password",
                 "/invitation", "/resume"):
        assert client.get(path).status_code == 404, path
    assert client.post("/logout").status_code == 404
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Hello, Tess" in page
    assert "/account/password" not in page and "Log out" not in page


@pytest.mark.settings(LMS_HOST_USER=_host_user, LMS_HOST_ROLES=_host_roles)
def test_without_a_host_login_url_anonymous_gets_401(app):
    assert app.test_client().get("/dashboard").status_code == 401


@pytest.mark.settings(**HOST_MODE)
def test_a_visit_that_changes_nothing_writes_nothing(app, count_queries):
    client = HostClient(app.test_client(), host_user("t1", "Tess", "tess@example.org",
                                                     "trainee"))
    client.get("/dashboard")
    with count_queries() as statements:
        assert client.get("/dashboard").status_code == 200
    writes = [s for s in statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []


@pytest.mark.settings(**HOST_MODE)
def test_a_switched_off_person_is_refused_and_roles_follow_the_host(app, db):
    user_id = host_user("t1", "Tess", "tess@example.org", "trainee")
    client = HostClient(app.test_client(), user_id)
    assert client.get("/cohorts").status_code == 403  # a trainee
    HOST_USERS[user_id]["roles"] = ["trainer"]
    assert client.get("/cohorts").status_code == 200  # the host made them a trainer
    person = db.scalar(select(Person).where(Person.host_user_id == user_id))
    person.active = False
    db.commit()
    response = client.get("/dashboard")
    assert response.status_code == 403
    assert "switched off" in response.get_data(as_text=True)


@pytest.mark.settings(**HOST_MODE)
def test_an_email_taken_by_an_lms_account_gets_a_clear_409(app, make_person):
    make_person("trainee", email="tess@example.org")  # has a password: not taken over
    client = HostClient(app.test_client(), host_user("t1", "Tess", "tess@example.org",
                                                     "trainee"))
    response = client.get("/dashboard")
    assert response.status_code == 409
    assert "already uses your email" in response.get_data(as_text=True)


@pytest.mark.settings(**HOST_MODE)
def test_trainer_enrols_without_links_and_a_hidden_address_joins_from_the_dashboard(
        app, db, make_cohort):
    trainer = HostClient(app.test_client(), host_user("tr", "Tom", "tom@example.org",
                                                      "trainer"))
    owner = HostClient(app.test_client(), host_user("ow", "Xavier", "x@example.org",
                                                    "trainee"))
    owner.get("/dashboard")  # Xavier has visited: he has an lms person
    trainer.get("/cohorts")
    ours = make_cohort(name="Our cohort")
    tom = db.scalar(select(Person).where(Person.host_user_id == "tr"))
    db.add(CohortStaff(cohort_id=ours.id, person_id=tom.id, role="trainer"))
    db.commit()
    for name, email in (("New Person", "new@example.org"), ("Typed X", "x@example.org")):
        page = trainer.post(f"/cohorts/{ours.id}/enrol", data={
            "one-name": name, "one-email": email, "one-supervisor_id": "0"}
        ).get_data(as_text=True)
        assert "/invitation/" not in page and "Log-in link" not in page
        assert "the next time they open the training pages" in page
    assert trainer.post(f"/cohorts/{ours.id}/invitations.csv").status_code == 404

    dashboard = owner.get("/dashboard").get_data(as_text=True)
    assert "You have been enrolled in Our cohort" in dashboard
    request_id = int(dashboard.split("/join/")[1].split('"')[0])
    assert "Join a training cohort" in owner.get(f"/join/{request_id}").get_data(as_text=True)
    # Nobody else may see or answer it.
    assert trainer.get(f"/join/{request_id}").status_code == 404
    assert trainer.post(f"/join/{request_id}").status_code == 404
    assert owner.post(f"/join/{request_id}").status_code == 302
    assert owner.post(f"/join/{request_id}").status_code == 302  # a double-click: same answer
    xavier = db.scalar(select(Person).where(Person.host_user_id == "ow"))
    assert db.scalar(select(Enrolment.id).where(Enrolment.cohort_id == ours.id,
                                                Enrolment.person_id == xavier.id))
    assert "You have been enrolled" not in owner.get("/dashboard").get_data(as_text=True)


# --- the same journeys in both modes ---------------------------------------------------------


@pytest.fixture(params=["standalone", "host"])
def sign_in(request, app):
    """``sign_in(person)`` gives a client logged in the way the mode logs people in."""
    if request.param == "host":
        app.config.update(HOST_MODE)
        app.jinja_env.globals["lms_own_accounts"] = False  # as init_app sets it in host mode

    def sign(person):
        if request.param == "standalone":
            client = app.test_client()
            log_in(client, person)
            return client
        db = app.extensions["lms"].db.session()
        db.get(Person, person.id).host_user_id = f"host-{person.id}"
        db.commit()
        db.close()
        return HostClient(app.test_client(), host_user(f"host-{person.id}", person.name,
                                                       person.email, *sorted(person.roles)))

    return sign


def test_trainee_journey_in_both_modes(sign_in, db, trainee, module):
    client = sign_in(trainee)
    assert "Hello, Tess Trainee" in client.get("/dashboard").get_data(as_text=True)
    assert client.post("/modules/listening/read").status_code in (302, 303)
    response = client.post("/modules/listening/quiz")
    assert response.status_code in (302, 303)
    attempt = db.scalar(select(Attempt).where(Attempt.person_id == trainee.id))
    assert response.location.endswith(f"/attempts/{attempt.id}")
    assert client.get(response.location).status_code == 200
    assert client.get("/progress").status_code == 200
    assert client.get("/my/readiness").status_code == 200
    assert db.scalar(select(ModuleProgress).where(ModuleProgress.person_id == trainee.id))


def test_trainer_journey_in_both_modes(sign_in, db, cohort, trainer, trainee, make_session):
    client = sign_in(trainer)
    item = make_session(cohort, utcnow() - timedelta(hours=3), 60)
    url = f"/cohorts/{cohort.id}/sessions/{item.id}/register"
    assert client.get(url).status_code == 200
    assert client.post(url, data={f"status-{trainee.id}": "present"}).status_code in (200, 302)
    grid = client.get(f"/cohorts/{cohort.id}/grid").get_data(as_text=True)
    assert "Tess Trainee" in grid
    assert client.get("/dashboard").status_code == 403  # not a trainee


def test_supervisor_journey_in_both_modes(sign_in, db, trainee, supervisor):
    client = sign_in(supervisor)
    page = client.get("/supervision/").get_data(as_text=True)
    assert "Tess Trainee" in page
    assert client.get(f"/supervision/people/{trainee.id}").status_code == 200
    assert client.get("/cohorts").status_code == 403
